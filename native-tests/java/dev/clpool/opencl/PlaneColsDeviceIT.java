package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.BindingChoice;
import dev.clpool.DType;
import dev.clpool.DeviceAvailability;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.backend.ResidentTensor;
import dev.clpool.cpu.CpuBackend;
import dev.clpool.testing.Tolerance;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Channels-first adaptive averages and max over small planes run a plane a work item with the
 * output columns in the lanes on CPU devices ({@code adaptive_cols.cl}, {@link AdaptiveRoutine#planeCols}):
 * the same bits as the kernels they replace ({@code planeCols=never}: the groups of planes, or
 * {@code adaptive_plane_rows} for max over 2·OW + 1 columns, whose bits PlanarC1DeviceIT ties to
 * {@code adaptive2d}'s), NaN payloads included, on data where the order of the double sums shows
 * (values 2^60 apart, the large ones cancelling, ±0, ±∞, NaN; for max the first NaN and the sign
 * of a zero maximum; VGG's shape on one plane: −0 and +0 alone), through host and device tensors
 * and float16 storage; averages within tolerance of the CPU path on ordinary data, max bit for bit
 * on those data. VGG-16's 10×10 to 7×7 (one plane: its last row read element by element; and an
 * odd count), 13×13 to 6×6, 16×16 to 4×8 (whole
 * rows of 16, eight output columns), 5×11 to 3×4 (regions of four columns, overlapping rows) and
 * 3×9 to 5×5 (more output rows than input rows); max on all but VGG's shape, SPP-net's on one plane
 * too. Eleven programs.
 */
class PlaneColsDeviceIT {
    private static final CpuBackend CPU = new CpuBackend(2);
    private static final String PROPERTY = "clpool.opencl.planeCols";

    @ParameterizedTest
    @MethodSource("dev.clpool.DeviceAvailability#bindings")
    void planeCols_giveTheGroupsBits(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        SplittableRandom r = new SplittableRandom(0xC015);
        // (planes, H, W, OH, OW)
        int[][] cases = {{1, 10, 10, 7, 7}, {19, 10, 10, 7, 7}, {5, 13, 13, 6, 6}, {3, 16, 16, 4, 8}, {9, 5, 11, 3, 4},
            {4, 3, 9, 5, 5}, {1, 13, 13, 6, 6}};
        try (OpenClBackend device = OpenClBackend.open(binding, -1)) {
            for (int i = 0; i < cases.length; i++) {
                int[] c = cases[i];
                Shape view = Shape.of(c[0], c[1], c[2], 1);
                for (PoolMode mode : new PoolMode[] {PoolMode.AVG, PoolMode.MAX}) {
                    if ((mode == PoolMode.AVG) ? i == cases.length - 1 : c[1] == 10) {
                        continue; // max: not VGG's shape; avg: SPP-net's once
                    }
                    AdaptiveGeometry g = AdaptiveGeometry.of(mode, view, c[3], c[4]);
                    String what = binding + " adaptive " + mode.word() + " of " + view + " to " + c[3] + "x" + c[4];
                    assertTrue(AdaptiveRoutine.planeCols(g, true), what + ": the columns kernel takes it");
                    Tensor x = i == 0 ? zeros(r, view) : orderShowing(r, view);
                    float[] got = compare(device, g, x, c[1] == 10 && c[0] > 1 || c[0] == 5 && mode == PoolMode.MAX, what);
                    if (mode == PoolMode.MAX) {
                        Tensor want = Tensor.allocate(g.output());
                        CPU.adaptive(g, x, want);
                        Tolerance.assertBitIdentical(got, want.toArray(), what + " against the CPU path");
                        continue;
                    }
                    x = AvgRunsDeviceIT.ordinary(r, view);
                    Tensor want = Tensor.allocate(g.output());
                    CPU.adaptive(g, x, want);
                    Tolerance.assertClose(compare(device, g, x, false, what + " ordinary"), want.toArray(), 4 * Tolerance.REL,
                            what + " against the CPU path");
                }
            }
        } finally {
            System.clearProperty(PROPERTY);
        }
    }

    /** {@code x} by the columns kernel and by the groups: the same bits (host float32, device tensors, {@code half16}: float16); the first. */
    private static float[] compare(OpenClBackend device, AdaptiveGeometry g, Tensor x, boolean half16, String what) {
        Shape out = g.output();
        float[] cols = null;
        for (String form : new String[] {"auto", "never"}) {
            System.setProperty(PROPERTY, form);
            Tensor got = Tensor.allocate(out);
            device.adaptive(g, x, got);
            try (ResidentTensor din = device.upload(x); ResidentTensor dout = device.allocate(out)) {
                device.adaptive(g, din, dout);
                Tensor back = Tensor.allocate(out);
                dout.download(back);
                Tolerance.assertBitIdentical(back.toArray(), got.toArray(), what + " device tensors, " + form);
            }
            if (cols == null) {
                cols = got.toArray();
            } else {
                Tolerance.assertBitIdentical(cols, got.toArray(), what + ": columns against the groups");
            }
        }
        if (half16) {
            Tensor half = x.convert(DType.FLOAT16);
            Tensor[] got = new Tensor[2];
            for (int i = 0; i < 2; i++) {
                System.setProperty(PROPERTY, i == 0 ? "auto" : "never");
                got[i] = Tensor.allocate(out, DType.FLOAT16);
                device.adaptive(g, half, got[i]);
            }
            Tolerance.assertBitIdentical(got[0].toArray(), got[1].toArray(), what + " float16: columns against the groups");
        }
        System.clearProperty(PROPERTY);
        return cols;
    }

    /** Mostly −0, some +0: regions of −0 alone average to +0 (the chain starts at +0), max to −0. */
    private static Tensor zeros(SplittableRandom r, Shape s) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextInt(8) == 0 ? 0.0f : -0.0f;
        }
        return Tensor.of(s, v);
    }

    /**
     * Sums whose value depends on their order: ±2^40 and ±2^-20 scaled by [1, 2) (where two large
     * ones cancel, the small ones added before them are lost, those after are kept), ±0, ±∞ (rare,
     * so that most regions stay finite) and NaNs with payloads (rarer).
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
