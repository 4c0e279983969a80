package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link VecPlaneRows}: channels-first adaptive max of planes of 2·OW + 1 columns in the planes' own
 * layout, against the general path bit for bit, with groups of planes that take it and groups that
 * go back to the transposes (a −0 or a NaN in the group) in one tensor.
 */
class VecPlaneRowsTest {
    /** Planes, input h, w, output h, w: SPP-net's level, regions of 2 and 3 rows, a one-column output. */
    private static final int[][] SIZES = {{100, 13, 13, 6, 6}, {250, 5, 13, 3, 6}, {300, 9, 7, 6, 3}, {200, 17, 5, 8, 2}};

    @BeforeEach
    void vectorsRun() {
        assumeTrue(VectorSupport.enabled(), "the Vector API kernels need --add-modules jdk.incubator.vector");
        assumeTrue(VecWidth.floats() == 16, "AdaptPlaneLanes runs with 16-float vectors");
    }

    @Test
    void rows_fitTwoPlusOneColumnsAtStrideTwo_only() {
        int[][] spp = regions(13, 6);
        assertNotNull(VecPlaneRows.rows(Shape.of(1, 13, 13, 1), Shape.of(1, 6, 6, 1), spp[0], spp[1], spp[0], spp[1]));
        int[][] vgg = regions(10, 7);
        assertNull(VecPlaneRows.rows(Shape.of(1, 10, 10, 1), Shape.of(1, 7, 7, 1), vgg[0], vgg[1], vgg[0], vgg[1]));
        int[][] tall = regions(9, 2);
        assertNull(VecPlaneRows.rows(Shape.of(1, 9, 13, 1), Shape.of(1, 2, 6, 1), tall[0], tall[1], spp[0], spp[1]),
                "regions of 5 rows");
        int[][] wide = regions(17, 8);
        assertNull(VecPlaneRows.rows(Shape.of(1, 13, 17, 1), Shape.of(1, 6, 8, 1), spp[0], spp[1], wide[0], wide[1]),
                "rows wider than a vector");
        int[] rows = VecPlaneRows.rows(Shape.of(1, 5, 13, 1), Shape.of(1, 3, 6, 1), new int[] {0, 1, 3},
                new int[] {2, 4, 5}, spp[0], spp[1]);
        assertNotNull(rows);
        assertEquals(java.util.List.of(0, 13, 13, 13, 26, 39, 39, 52, 52),
                java.util.Arrays.stream(rows).boxed().toList(), "a shorter region repeats its last row");
    }

    @Test
    void groupCheck_findsMinusZeroAndNaNAnywhere() {
        float[] x = new float[45];
        java.util.Arrays.fill(x, 1f);
        x[3] = 0f;
        x[4] = Float.NEGATIVE_INFINITY;
        x[5] = Float.POSITIVE_INFINITY;
        assertTrue(!VecPlaneMax.minusZeroOrNaN(x, x.length));
        for (int i : new int[] {0, 17, 31, 44}) {
            for (float odd : new float[] {-0f, Float.NaN, Float.intBitsToFloat(0xffc00001), Float.intBitsToFloat(0x7f800001)}) {
                float keep = x[i];
                x[i] = odd;
                assertTrue(VecPlaneMax.minusZeroOrNaN(x, x.length), Float.floatToRawIntBits(odd) + " at " + i);
                x[i] = keep;
            }
        }
    }

    /**
     * Random data with ties (+0, repeated values, ±∞), the first and last group of planes given a
     * −0 or a NaN (at least three groups each): the channels-first path's results are the general
     * path's bits.
     */
    @Test
    void planes_sameBitsAsTheGeneralPath() {
        for (int[] size : SIZES) {
            for (int kind = 0; kind < 3; kind++) {
                Shape s = Shape.of(size[0], size[1], size[2], 1);
                int area = size[1] * size[2];
                float[] d = new float[(int) s.elementCount()];
                SplittableRandom r = new SplittableRandom(17L * size[0] + kind);
                for (int i = 0; i < d.length; i++) {
                    int pick = r.nextInt(10);
                    d[i] = switch (pick) {
                        case 0 -> 0f;
                        case 1 -> kind == 1 ? Float.POSITIVE_INFINITY : 2f;
                        case 2 -> Float.NEGATIVE_INFINITY;
                        default -> kind == 2 ? -Math.abs((float) r.nextGaussian()) : (float) r.nextGaussian();
                    };
                }
                for (int p : new int[] {0, size[0] - 1}) {
                    d[p * area + r.nextInt(area)] = r.nextBoolean() ? -0f : Float.intBitsToFloat(0x7fc00000 | r.nextInt(99));
                }
                AdaptiveGeometry g = AdaptiveGeometry.of(PoolMode.MAX, s, size[3], size[4]);
                assertTrue(AdaptPlaneLanes.pays(s, g.output()), s + " runs in AdaptPlaneLanes");
                Tensor in = Tensor.of(s, d);
                Tensor planes = Tensor.allocate(g.output());
                Tensor general = Tensor.allocate(g.output());
                CpuAdaptive.run(g, in, planes, TestParallel.FORK_JOIN, true, true);
                CpuAdaptive.run(g, in, general, TestParallel.FORK_JOIN, false, false);
                float[] got = planes.toArray();
                float[] want = general.toArray();
                for (int i = 0; i < want.length; i++) {
                    assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                            "kind " + kind + " " + s + " at " + i + ": " + got[i] + " vs " + want[i]);
                }
            }
        }
    }

    /** Adaptive regions of {@code in} positions to {@code out}: starts, then ends. */
    private static int[][] regions(int in, int out) {
        int[][] r = new int[2][out];
        for (int o = 0; o < out; o++) {
            r[0][o] = Math.floorDiv(o * in, out);
            r[1][o] = -Math.floorDiv(-(o + 1) * in, out);
        }
        return r;
    }
}
