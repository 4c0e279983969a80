package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.BindingChoice;
import dev.clpool.DType;
import dev.clpool.DeviceAvailability;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.backend.ResidentTensor;
import dev.clpool.testing.Tolerance;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Average backward of stride 1 along W on CPU devices in {@code pool2d_avg_backward_rows} (one
 * or two rows a work item walked along W, each quotient formed once per column step:
 * {@link BackwardRoutine#avgRows}, {@link BackwardRoutine#avgRowsPerItem})
 * gives the bits of {@code pool2d_backward}'s per-pixel gather (the property forces either):
 * padding counted in the divisor or not, asymmetric and wide padding, ceil mode, row strides and
 * dilation (one row a work item), one-row windows, rows narrower than the window, odd heights
 * (a last item of one row), 1, 8 and 16 channels a vector, item counts that leave the last work
 * group part empty; gradients with NaNs whose payloads name their
 * element, infinities, signed zeros, subnormals and values whose sums overflow float. Host and
 * device tensors, float32 and float16. One program per spec and storage type. Which of two NaNs
 * an addition keeps depends on the compiler's operand order, in either kernel, and SEMANTICS.md
 * asks an average only for NaN where the reference has NaN: NaNs are compared as NaN, every other
 * result bit for bit.
 */
class AvgBackwardRowsDeviceIT {
    private static final String FORCE = "clpool.opencl.avgBackwardRows";

    static Iterable<BindingChoice> bindings() {
        return DeviceAvailability.bindings();
    }

    private static PoolSpec.Builder avg(int kh, int kw) {
        return PoolSpec.builder(PoolMode.AVG).window(kh, kw).stride(1);
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void rowWalk_givesTheGathersBits(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        PoolSpec[] specs = {
            avg(3, 3).padding(Padding.of(1)).countIncludePad(true).build(), // Inception's
            avg(3, 3).padding(Padding.of(1)).countIncludePad(false).build(),
            avg(3, 2).stride(2, 1).padding(Padding.of(1, 1, 1, 0)).ceilMode(true).countIncludePad(false).build(),
            avg(2, 3).dilation(2, 1).padding(Padding.of(1, 0, 2, 2)).countIncludePad(true).build(),
            avg(5, 5).padding(Padding.of(2)).countIncludePad(true).build(),
            avg(1, 2).build(),
            avg(3, 3).padding(Padding.of(1)).countIncludePad(false).build(),
            // Row dilation 2 from padding 1, padding not counted: a window starting at −1 has 1 tap
            // above the input ((1 + 2 − 1) / 2), not 0 — the rounding of TAPS_INSIDE.
            avg(3, 2).dilation(2, 1).padding(Padding.of(1)).countIncludePad(false).build(),
        };
        Shape[] shapes = {
            Shape.of(2, 9, 9, 32), Shape.of(1, 6, 11, 24), Shape.of(2, 8, 7, 5), Shape.of(1, 7, 6, 16),
            Shape.of(1, 9, 10, 48), Shape.of(2, 3, 8, 16), Shape.of(3, 4, 1, 16), Shape.of(2, 9, 7, 16),
        };
        SplittableRandom r = new SplittableRandom(0xA5B0L);
        OpenClBackend device = OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT, OpenClBackend.Tuning.fromSystem());
        try {
            for (int i = 0; i < specs.length; i++) {
                PoolGeometry g = specs[i].geometry(shapes[i]);
                Tensor x = Tensor.allocate(shapes[i]); // avg backward never reads it
                Tensor dy = gradients(r, g.output());
                check(device, binding, g, x, dy, "never");
                if (i == 0) {
                    Tensor x16 = x.convert(DType.FLOAT16);
                    Tensor dy16 = dy.convert(DType.FLOAT16);
                    check(device, binding, g, x16, dy16, "never");
                }
            }
        } finally {
            System.clearProperty(FORCE);
            device.close();
        }
        assertEquals(0, device.nativeObjects().live(), device.nativeObjects().toString());
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void rowWalk_buildsOnlyItsOwnProgram(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        PoolGeometry g = avg(3, 3).padding(Padding.of(1)).countIncludePad(true).build().geometry(Shape.of(1, 5, 6, 16));
        OpenClBackend device = OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT, OpenClBackend.Tuning.fromSystem());
        try {
            assertTrue(BackwardRoutine.avgRows(g, true, true));
            Tensor dx = Tensor.allocate(g.input());
            device.backward(g, Tensor.allocate(g.input()), gradients(new SplittableRandom(3), g.output()), dx);
            assertEquals(1, device.cachedPrograms(), "the per-pixel gather's program was built as well");
        } finally {
            device.close();
        }
        assertEquals(0, device.nativeObjects().live(), device.nativeObjects().toString());
    }

    /** The gather's result (the property {@code gather}) against the row walk's, host tensors and, in float32, device tensors. */
    private static void check(OpenClBackend device, BindingChoice binding, PoolGeometry g, Tensor x, Tensor dy, String gather) {
        String what = binding + " " + g.spec() + " on " + g.input() + " " + x.dtype();
        System.setProperty(FORCE, gather);
        Tensor want = Tensor.allocate(g.input(), x.dtype());
        device.backward(g, x, dy, want);
        System.setProperty(FORCE, "always");
        Tensor got = Tensor.allocate(g.input(), x.dtype());
        device.backward(g, x, dy, got);
        sameBitsOrBothNaN(got.toArray(), want.toArray(), what);
        if (x.dtype() == DType.FLOAT32) {
            try (ResidentTensor dx = device.upload(x); ResidentTensor ddy = device.upload(dy);
                 ResidentTensor out = device.allocate(g.input())) {
                device.backward(g, dx, ddy, out);
                Tensor back = Tensor.allocate(g.input());
                out.download(back);
                Tolerance.assertBitIdentical(back.toArray(), got.toArray(), what + " (device tensors)");
            }
        }
    }

    private static void sameBitsOrBothNaN(float[] got, float[] want, String what) {
        assertEquals(want.length, got.length, what);
        int nans = 0;
        for (int i = 0; i < got.length; i++) {
            if (Float.isNaN(got[i]) && Float.isNaN(want[i])) {
                nans++;
            } else if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])) {
                Tolerance.assertBitIdentical(new float[] {got[i]}, new float[] {want[i]}, what + ": element " + i);
            }
        }
        assertTrue(nans > 0 && nans < got.length / 2, what + ": " + nans + " NaNs");
    }

    /**
     * Uniform [-4, 4) with, one element in nine, a special: NaN whose payload names its element,
     * ±∞, ±0, a subnormal, or ±3e38 (neighbouring quotients' sum exceeds float's range).
     */
    private static Tensor gradients(SplittableRandom r, Shape s) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            int k = r.nextInt(60);
            float sign = r.nextBoolean() ? 1.0f : -1.0f;
            v[i] = switch (k) {
                case 0 -> Float.intBitsToFloat(0x7fc00000 | (i & 0x3fffff) | (r.nextBoolean() ? 0x80000000 : 0));
                case 1 -> sign * Float.POSITIVE_INFINITY;
                case 2, 3 -> sign * 0.0f;
                case 4 -> sign * Float.MIN_VALUE * (1 + r.nextInt(5));
                case 5, 6 -> sign * 3e38f;
                default -> (float) (r.nextDouble() * 8 - 4);
            };
        }
        return Tensor.of(s, v);
    }
}
