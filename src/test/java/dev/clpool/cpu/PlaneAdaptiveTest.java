package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.Tolerance;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link PlaneAdaptiveMax} and {@link PlaneAdaptiveAvg} against {@link CpuAdaptive}'s general path
 * (the same bits), where their units ({@link PlaneRegions}) differ from {@link PlanePathsTest}'s cases: planes split into bands of several output rows
 * with regions of two or three heights in one band, a last group of fewer planes, upsampling
 * (regions of one element, several outputs per input), and data whose zero and NaN results need the
 * exact rule in some units and not in others.
 */
class PlaneAdaptiveTest {
    private static void assertSameAsGeneral(Tensor x, int oh, int ow) {
        for (PoolMode mode : new PoolMode[] {PoolMode.MAX, PoolMode.AVG}) {
            AdaptiveGeometry g = AdaptiveGeometry.of(mode, x.shape(), oh, ow);
            Tensor fast = Tensor.allocate(g.output());
            Tensor general = Tensor.allocate(g.output());
            CpuAdaptive.run(g, x, fast, TestParallel.FORK_JOIN, true, false);
            CpuAdaptive.run(g, x, general, TestParallel.FORK_JOIN, false);
            Tolerance.assertBitIdentical(fast.toArray(), general.toArray(), mode + " " + x.shape() + " to " + oh + "x" + ow);
        }
    }

    /**
     * Mostly values below zero at scales from 2^-40 to 2^40 (double sums that round, so an order
     * changed would show); about every 97th element drawn from {@link CpuArgmaxTest#hard}'s kinds.
     */
    private static Tensor sparseHard(Shape s, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] hard = CpuArgmaxTest.hard(s, seed).toArray();
        float[] v = new float[hard.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextInt(97) == 0 ? hard[i] : (float) ((r.nextGaussian() - 3) * Math.scalb(1.0, r.nextInt(81) - 40));
        }
        return Tensor.of(s, v);
    }

    @Test
    void bands_severalRowsAndHeightsPerBand_orBoundedByResults_sameBitsAsGeneralPath() {
        // 110 x 100 = 11000 floats per plane: over UNIT_FLOATS, so bands of output rows.
        Shape s = Shape.of(3, 110, 100, 1);
        for (int[] size : new int[][] {{47, 13}, {3, 100}, {110, 7}, {250, 61}, {1, 1}}) {
            assertSameAsGeneral(CpuArgmaxTest.hard(s, size[0]), size[0], size[1]);
            assertSameAsGeneral(sparseHard(s, size[1]), size[0], size[1]);
        }
        // A small plane with results over UNIT_FLOATS: bands bounded by their results.
        Shape small = Shape.of(4, 3, 5, 1);
        assertSameAsGeneral(CpuArgmaxTest.hard(small, 9), 100, 120);
        assertSameAsGeneral(sparseHard(small, 9), 9000, 2);
    }

    @Test
    void groupsOfPlanes_lastGroupShorter_upsamplingAndOddSizes_sameBitsAsGeneralPath() {
        SplittableRandom r = new SplittableRandom(17);
        for (int rep = 0; rep < 12; rep++) {
            // Planes of up to 40x40: groups of 5 or more, and a plane count that leaves a short last group.
            Shape s = Shape.of(1 + r.nextInt(70), 1 + r.nextInt(40), 1 + r.nextInt(40), 1);
            int oh = 1 + r.nextInt(2 * s.h() + 2);
            int ow = 1 + r.nextInt(2 * s.w() + 2);
            assertSameAsGeneral(CpuArgmaxTest.hard(s, rep), oh, ow);
            assertSameAsGeneral(sparseHard(s, rep), oh, ow);
        }
    }

    @Test
    void windows_isTheMaximumOfEveryRunOfTaps() {
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[200];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        for (int k = 1; k <= 9; k++) {
            for (int step = 1; step <= 13; step += 4) {
                int valid = x.length - (k - 1) * step;
                float[] got = PlaneMax.windows(x, x.length, k, step, new float[x.length], new float[x.length]);
                float[] want = new float[valid];
                for (int i = 0; i < valid; i++) {
                    want[i] = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < k; j++) {
                        want[i] = Math.max(want[i], x[i + j * step]);
                    }
                }
                Tolerance.assertBitIdentical(Arrays.copyOf(got, valid), want, "k=" + k + " step=" + step);
            }
        }
    }

    @Test
    void zeroOrNaN_flagsSignedZerosAndEveryNaN_only() {
        float[] special = {0f, -0f, Float.NaN, Float.intBitsToFloat(0xffc00001), Float.intBitsToFloat(0x7f800001),
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE, 1f, -1f};
        SplittableRandom r = new SplittableRandom(8);
        for (int i = 0; i < 100_000 + special.length; i++) {
            float m = i < special.length ? special[i] : Float.intBitsToFloat(r.nextInt());
            int want = (m == 0 || m != m) ? 1 : 0;
            assertEquals(want, PlanePlan.zeroOrNaN(m), Integer.toHexString(Float.floatToRawIntBits(m)));
        }
    }
}
