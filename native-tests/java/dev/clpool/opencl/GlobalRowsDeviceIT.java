package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.BindingChoice;
import dev.clpool.DType;
import dev.clpool.DeviceAvailability;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.backend.ResidentTensor;
import dev.clpool.testing.Tolerance;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Global average on CPU devices one plane a work item ({@code global_nhwc.cl}'s
 * {@code global_avg_rows}, {@link GlobalRoutine#ROWS} pixels a pass) and in channel blocks
 * ({@code global_partial}, forced by {@code clpool.opencl.globalRows}) give the same bits, which
 * are a sequential double sum's over the plane, divided once and rounded once: plane sizes below,
 * at and between multiples of the pass, 1 to 128 channel vectors of 16, 8 and 1 channels, −0,
 * ±∞, NaN and magnitudes far apart; float16 storage; host and device tensors. And ResNet-50's head
 * takes the new kernel by default. Builds four programs per binding.
 */
class GlobalRowsDeviceIT {
    private static final String ROWS = "clpool.opencl.globalRows";

    static Iterable<BindingChoice> bindings() {
        return DeviceAvailability.bindings();
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void rowsAndChannelBlocks_giveTheDoubleReferencesBits(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        // 7x7 with 2048 (the private sums' limit) and 1280 channels, 15 and 6 pixels (passes and a
        // tail, a tail only), 40 channels (vectors of 8), 3 channels (one channel a vector).
        List<Shape> shapes = List.of(Shape.of(8, 7, 7, 2048), Shape.of(9, 7, 7, 1280), Shape.of(8, 3, 5, 48),
                Shape.of(8, 2, 3, 40), Shape.of(9, 4, 4, 3));
        SplittableRandom r = new SplittableRandom(20261207L);
        OpenClBackend device = OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT, OpenClBackend.Tuning.fromSystem());
        try {
            for (Shape s : shapes) {
                Tensor x = values(r, s);
                check(device, binding, x);
                if (s.c() == 48) {
                    check(device, binding, x.convert(DType.FLOAT16));
                }
            }
        } finally {
            System.clearProperty(ROWS);
            device.close();
        }
        assertEquals(0, device.nativeObjects().live(), device.nativeObjects().toString());
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void resnetHead_takesOnePlaneAWorkItem(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        Shape s = Shape.of(32, 7, 7, 2048);
        Tensor x = values(new SplittableRandom(7), s);
        OpenClBackend device = OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT, OpenClBackend.Tuning.fromSystem());
        try {
            System.setProperty(ROWS, "never");
            device.global(PoolMode.AVG, x, Tensor.allocate(Shape.of(32, 1, 1, 2048)));
            int blocks = device.cachedPrograms();
            System.clearProperty(ROWS);
            Tensor out = Tensor.allocate(Shape.of(32, 1, 1, 2048));
            device.global(PoolMode.AVG, x, out);
            assertEquals(blocks + 1, device.cachedPrograms(), "the default built global_avg_rows' program");
            Tolerance.assertBitIdentical(out.toArray(), reference(x), "ResNet-50's head, " + binding);
        } finally {
            System.clearProperty(ROWS);
            device.close();
        }
    }

    private static void check(OpenClBackend device, BindingChoice binding, Tensor x) {
        Shape s = x.shape();
        Shape os = Shape.of(s.n(), 1, 1, s.c());
        float[] want = reference(x);
        for (String form : new String[] {"always", "never"}) {
            System.setProperty(ROWS, form);
            String what = binding + " " + s + " " + x.dtype() + " globalRows=" + form;
            Tensor host = Tensor.allocate(os, x.dtype());
            device.global(PoolMode.AVG, x, host);
            Tolerance.assertBitIdentical(host.toArray(), want, what);
            if (x.dtype() == DType.FLOAT32) {
                try (ResidentTensor dx = device.upload(x); ResidentTensor out = device.allocate(os)) {
                    device.global(PoolMode.AVG, dx, out);
                    Tensor back = Tensor.allocate(os);
                    out.download(back);
                    Tolerance.assertBitIdentical(back.toArray(), want, what + " (device tensors)");
                }
            }
        }
    }

    /** Each channel's pixels summed in double in plane order, divided by H*W, rounded to x's storage. */
    private static float[] reference(Tensor x) {
        Shape s = x.shape();
        float[] v = x.toArray();
        int hw = s.h() * s.w();
        int c = s.c();
        float[] out = new float[s.n() * c];
        for (int n = 0; n < s.n(); n++) {
            for (int ch = 0; ch < c; ch++) {
                double sum = 0;
                for (int p = 0; p < hw; p++) {
                    sum += v[(n * hw + p) * c + ch];
                }
                out[n * c + ch] = (float) (sum / hw);
            }
        }
        return x.dtype() == DType.FLOAT32 ? out : Tensor.of(Shape.of(s.n(), 1, 1, c), out).convert(x.dtype()).toArray();
    }

    /**
     * Uniform [−4, 4) mostly; in some channels −0 everywhere (a sum from +0 stays +0), one ±∞, a NaN,
     * or 2^30 first, −2^30 last and small values between (each small one rounded to the large sum's
     * ulp, and then the large ones cancel: a double sum in any other order shows in the result).
     */
    private static Tensor values(SplittableRandom r, Shape s) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        int c = s.c();
        int hw = s.h() * s.w();
        for (int i = 0; i < v.length; i++) {
            int ch = i % c;
            int p = i / c % hw;
            v[i] = switch (ch % 11) {
                case 3 -> -0.0f;
                case 5 -> r.nextInt(9) == 0 ? (r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY) : 1f;
                case 7 -> r.nextInt(9) == 0 ? Float.NaN : 2f;
                case 9 -> p == 0 ? 0x1p30f : p == hw - 1 ? -0x1p30f : (float) (r.nextDouble() * 1e-3);
                default -> (float) (r.nextDouble() * 8 - 4);
            };
        }
        return Tensor.of(s, v);
    }
}
