package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.Axis;
import dev.clpool.BindingChoice;
import dev.clpool.DType;
import dev.clpool.DeviceAvailability;
import dev.clpool.Padding;
import dev.clpool.PlanarGeometry;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.backend.ResidentTensor;
import dev.clpool.cpu.CpuBackend;
import dev.clpool.testing.Tolerance;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Channels-first stride-1 averages with {@code count_include_pad} that keep the plane's size run a
 * plane a work item on CPU devices ({@code pool_planar.cl}'s {@code CF_FLAT},
 * {@link KernelOptions#planarFlat}): the same bits as the row loop ({@code planarFlat=never}) on
 * data where the order of the double sums shows (values 2^60 apart, the large ones cancelling,
 * ±0, ±∞, NaN; a NaN's payload not compared), host tensors (float32, and float16 for Inception's
 * window), device tensors
 * and the launch's first and last planes (which go row by row); within tolerance of the CPU path
 * on ordinary data. Inception's 3×3 s1 p1 over 35×35 (float16 too), an uneven window and padding,
 * rows of exactly 8, a 3-D tensor's depth slices. Six programs.
 */
class PlanarFlatDeviceIT {
    private static final CpuBackend CPU = new CpuBackend(2);

    @ParameterizedTest
    @MethodSource("dev.clpool.DeviceAvailability#bindings")
    void flatPlanes_giveTheRowLoopsBits(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        SplittableRandom r = new SplittableRandom(0xF1A7);
        List<PoolSpec> specs = List.of(
                PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).countIncludePad(true).build(),
                PoolSpec.avg(4, 2).stride(1).padding(Padding.of(1, 2, 0, 1)).countIncludePad(true).build());
        List<Shape> views = List.of(Shape.of(6, 35, 35, 1), Shape.of(5, 9, 8, 1), Shape.of(3, 13, 21, 1));
        try (OpenClBackend device = OpenClBackend.open(binding, -1)) {
            for (PoolSpec spec : specs) {
                for (Shape view : views) {
                    PoolGeometry g = spec.geometry(view);
                    PlanarGeometry pg = new PlanarGeometry(view.n(), new Axis[] {g.rows(), g.cols()}, PoolMode.AVG, 0, true);
                    String what = binding + " " + spec + " on " + view;
                    assertTrue(KernelOptions.planarFlat(pg, PlanarPoolRoutine.CPU_VECTOR, true, true), what + " flat");
                    compare(device, pg, orderShowing(r, view), g.output(), spec == specs.get(0), what);
                    Tensor x = AvgRunsDeviceIT.ordinary(r, view);
                    Tensor want = Tensor.allocate(g.output());
                    CPU.pool(g, x, want);
                    Tolerance.assertClose(compare(device, pg, x, g.output(), false, what + " ordinary"), want.toArray(),
                            4 * Tolerance.REL, what + " against the CPU path");
                }
            }
            // A 3-D tensor's depth slices: a window of one in depth, 4 slices of 11 x 16.
            Axis depth = new Axis(4, 4, 1, 1, 1, 0, 0);
            PoolGeometry hw = specs.get(0).geometry(Shape.of(1, 11, 16, 1));
            PlanarGeometry g3 = new PlanarGeometry(3, new Axis[] {depth, hw.rows(), hw.cols()}, PoolMode.AVG, 0, true);
            assertTrue(KernelOptions.planarFlat(g3, PlanarPoolRoutine.CPU_VECTOR, true, true), "3-D flat");
            compare(device, g3, orderShowing(r, Shape.of(3, 44, 16, 1)), Shape.of(3, 44, 16, 1), false, binding + " 3-D");
        } finally {
            System.clearProperty(KernelOptions.PLANAR_FLAT);
        }
    }

    /** {@code x} pooled flat and by the row loop: the same bits (host float32, device tensors, {@code half16}: float16); the flat result. */
    private static float[] compare(OpenClBackend device, PlanarGeometry g, Tensor x, Shape out, boolean half16, String what) {
        float[] flat = null;
        for (String form : new String[] {"auto", "never"}) {
            System.setProperty(KernelOptions.PLANAR_FLAT, form);
            Tensor got = Tensor.allocate(out);
            device.poolPlanar(g, x, got);
            try (ResidentTensor din = device.upload(x); ResidentTensor dout = device.allocate(out)) {
                device.poolPlanar(g, din, dout);
                Tensor back = Tensor.allocate(out);
                dout.download(back);
                AvgRunsDeviceIT.sameBits(back.toArray(), got.toArray(), what + " device tensors, " + form);
            }
            if (flat == null) {
                flat = got.toArray();
            } else {
                AvgRunsDeviceIT.sameBits(flat, got.toArray(), what + " flat against the row loop");
            }
        }
        System.clearProperty(KernelOptions.PLANAR_FLAT);
        if (!half16) {
            return flat;
        }
        Tensor half = x.convert(DType.FLOAT16);
        Tensor[] got = new Tensor[2];
        for (int i = 0; i < 2; i++) {
            System.setProperty(KernelOptions.PLANAR_FLAT, i == 0 ? "auto" : "never");
            got[i] = Tensor.allocate(out, DType.FLOAT16);
            device.poolPlanar(g, half, got[i]);
        }
        AvgRunsDeviceIT.sameBits(got[0].toArray(), got[1].toArray(), what + " float16");
        System.clearProperty(KernelOptions.PLANAR_FLAT);
        return flat;
    }

    /**
     * Sums whose value depends on their order: ±2^40 and ±2^-20 scaled by [1, 2) (where two large
     * ones cancel, the small ones added before them are lost, those after are kept), ±0, ±∞ (rare,
     * so that most windows stay finite), and NaNs (rarer).
     */
    private static Tensor orderShowing(SplittableRandom r, Shape s) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            int k = r.nextInt(128);
            float sign = r.nextBoolean() ? 1 : -1;
            float m = (float) (1 + r.nextDouble());
            v[i] = k < 48 ? sign * 0x1p40f : k < 120 ? sign * m * 0x1p-20f : k < 124 ? sign * 0.0f
                    : k < 126 ? sign * Float.POSITIVE_INFINITY
                    : Float.intBitsToFloat(0x7fc00000 | (i & 0x3fffff) | (sign < 0 ? 0x80000000 : 0));
        }
        return Tensor.of(s, v);
    }
}
