package dev.clpool.cpu;

import static dev.clpool.cpu.VecTestData.data;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.Tolerance;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link VecAdaptive}'s kernels against the scalar kernels on the same inputs, through
 * {@link CpuAdaptive#run} with and without vectors: adaptive max bit for bit (and against clpool's
 * rule), adaptive average bit for bit (the same float arithmetic, bound and fallback). 19 and 40
 * channels (a last vector overlapping the one before); outputs that shrink and grow the input (regions
 * of one column, overlapping regions); ties of −0 and +0, NaNs with payloads, infinities, all-zero
 * and constant data, and sums that cancel. Then one-channel planes in channel lanes
 * ({@link AdaptPlaneLanes}, through {@link CpuAdaptive#run} with planes) against the general path's
 * scalar kernels: max bit for bit, average within tolerance (NaN the canonical one), with plane
 * counts that end in a group of fewer than a vector and blocks of planes and positions that overlap;
 * and {@link VecAdaptive#transpose}'s two directions on NaN payloads.
 */
class VecAdaptiveTest {
    private static final int[] CHANNELS = {19, 40};
    /**
     * Input h, w, output h, w. The average keeps each input row's sums across columns in a ring of
     * the tallest region's rows ({@link AdaptiveAvgRows}): 9 to 2 has regions of 5 rows, 20 to 7 with
     * 40 channels splits an item's rows between two tasks.
     */
    private static final int[][] SIZES = {{10, 10, 7, 7}, {13, 13, 6, 6}, {3, 4, 5, 9}, {9, 4, 2, 3}, {20, 17, 7, 5}};

    @BeforeEach
    void vectorsRun() {
        assumeTrue(VectorSupport.enabled(), "the Vector API kernels need --add-modules jdk.incubator.vector");
    }


    @Test
    void adaptiveMax_bitIdenticalToTheScalarKernelsAndTheRule() {
        compare(PoolMode.MAX);
    }

    @Test
    void adaptiveAvg_bitIdenticalToTheScalarKernels() {
        compare(PoolMode.AVG);
    }

    /**
     * Planes, input h, w, output h, w: each runs {@link AdaptPlaneLanes}; 21 planes are one group whose
     * last vector of planes overlaps the one before ({@link VecAdaptFlat}).
     */
    private static final int[][] PLANES = {{85, 10, 10, 7, 7}, {50, 13, 13, 6, 6}, {20, 4, 5, 9, 11}, {21, 10, 10, 7, 7}};

    @Test
    void planesInChannelLanes_maxBitIdentical_avgWithinTolerance() {
        for (PoolMode mode : new PoolMode[] {PoolMode.MAX, PoolMode.AVG}) {
            for (int[] size : PLANES) {
                for (int kind = 0; kind < VecTestData.KINDS; kind++) {
                    Shape s = Shape.of(size[0], size[1], size[2], 1);
                    Tensor in = Tensor.of(s, data(kind, (int) s.elementCount(), 31L * size[0] + kind));
                    AdaptiveGeometry g = AdaptiveGeometry.of(mode, s, size[3], size[4]);
                    assertTrue(AdaptPlaneLanes.pays(s, g.output()), s + " runs in channel lanes");
                    Tensor lanes = Tensor.allocate(g.output());
                    Tensor general = Tensor.allocate(g.output());
                    CpuAdaptive.run(g, in, lanes, TestParallel.FORK_JOIN, true, true);
                    CpuAdaptive.run(g, in, general, TestParallel.FORK_JOIN, false, false);
                    String what = mode + " kind " + kind + " " + s + " -> " + size[3] + "x" + size[4];
                    float[] got = lanes.toArray();
                    float[] want = general.toArray();
                    if (mode == PoolMode.AVG) {
                        Tolerance.assertClose(got, want, Tolerance.REL, what);
                    }
                    for (int i = 0; i < want.length; i++) {
                        if (mode == PoolMode.MAX || Float.isNaN(want[i])) {
                            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                                    what + " at " + i + ": " + got[i] + " vs " + want[i]);
                        }
                    }
                }
            }
        }
    }

    /**
     * The planes of {@link #PLANES} as the channels of one channels-last item: each lane of
     * {@link AdaptPlaneLanes} does what the channels-last lanes do for a channel (the same sums,
     * bounds, certificate and double redo; the same rule), so both modes agree bit for bit, NaN
     * payloads, −0 and the redone results included.
     */
    @Test
    void planesInChannelLanes_sameBitsAsThePlanesAsChannels() {
        for (PoolMode mode : new PoolMode[] {PoolMode.MAX, PoolMode.AVG}) {
            for (int[] size : PLANES) {
                for (int kind = 0; kind < VecTestData.KINDS; kind++) {
                    int planes = size[0];
                    int area = size[1] * size[2];
                    Shape s = Shape.of(planes, size[1], size[2], 1);
                    float[] d = data(kind, (int) s.elementCount(), 29L * size[0] + kind);
                    float[] asChannels = new float[d.length];
                    for (int p = 0; p < planes; p++) {
                        for (int i = 0; i < area; i++) {
                            asChannels[i * planes + p] = d[p * area + i];
                        }
                    }
                    Shape cl = Shape.of(1, size[1], size[2], planes);
                    AdaptiveGeometry g = AdaptiveGeometry.of(mode, s, size[3], size[4]);
                    AdaptiveGeometry gcl = AdaptiveGeometry.of(mode, cl, size[3], size[4]);
                    Tensor lanes = Tensor.allocate(g.output());
                    Tensor channels = Tensor.allocate(gcl.output());
                    CpuAdaptive.run(g, Tensor.of(s, d), lanes, TestParallel.FORK_JOIN, true, true);
                    CpuAdaptive.run(gcl, Tensor.of(cl, asChannels), channels, TestParallel.FORK_JOIN, true, true);
                    int outArea = size[3] * size[4];
                    for (int p = 0; p < planes; p++) {
                        for (int i = 0; i < outArea; i++) {
                            assertEquals(Float.floatToRawIntBits(channels.floats().get(i * planes + p)),
                                    Float.floatToRawIntBits(lanes.floats().get(p * outArea + i)),
                                    mode + " kind " + kind + " " + s + " plane " + p + " at " + i);
                        }
                    }
                }
            }
        }
    }

    /**
     * {@link AdaptiveAvgRows#limit}: regions of up to 12×12 filled with its magnitude, the worst case
     * (every partial sum as large as it can be), summed as the lanes sum (across each row's columns,
     * then down the rows) with the partial sums' magnitudes added up in double here: the certificate
     * u·B·(1 + γ(3·taps)) over the element count passes with max(1, |avg|) taken as 1; and VGG-16's
     * regions (2 or 3 rows and columns) take inputs of magnitude 4 (the workloads' random data).
     */
    @Test
    void magnitudeLimit_certifiesTheWorstCaseSums() {
        for (int h = 1; h <= 12; h++) {
            for (int w = 1; w <= 12; w++) {
                float m = AdaptiveAvgRows.limit(h, w);
                assertTrue(m > 0, h + "x" + w);
                if (m == Float.MAX_VALUE) {
                    assertEquals(1, h * w, "only one element needs no bound");
                    continue;
                }
                double b = 0;
                float total = 0;
                for (int y = 0; y < h; y++) {
                    float row = m;
                    for (int x = 1; x < w; x++) {
                        row += m;
                        b += Math.abs(row);
                    }
                    if (y == 0) {
                        total = row;
                    } else {
                        total += row;
                        b += Math.abs(total);
                    }
                }
                long taps = (long) h * w;
                double error = 0x1p-24 * b * (1 + CompensatedSum.gamma(3 * taps)) / taps;
                assertTrue(error <= AvgWindows.TOLERANCE, h + "x" + w + ": " + error);
            }
        }
        for (int h = 2; h <= 3; h++) {
            for (int w = 2; w <= 3; w++) {
                assertTrue(AdaptiveAvgRows.limit(h, w) >= 4f, h + "x" + w);
            }
        }
    }

    /** {@link VecAdaptiveRows#magnitudeBits}: the largest |x| of a range, above every finite float's with an infinity or a NaN. */
    @Test
    void magnitudeBits_largestMagnitudeInfinityAndNaN() {
        float[] a = new float[3 * VecWidth.floats() + 5];
        for (int i = 0; i < a.length; i++) {
            a[i] = (i % 2 == 0 ? -1 : 1) * (i % 7) * 0.5f;
        }
        a[0] = -1000f;
        a[a.length - 1] = -9f;
        assertEquals(Float.floatToRawIntBits(9f), VecAdaptiveRows.magnitudeBits(a, 1, a.length - 1));
        assertEquals(Float.floatToRawIntBits(1000f), VecAdaptiveRows.magnitudeBits(a, 0, a.length));
        a[2 * VecWidth.floats() + 1] = -0f;
        assertEquals(Float.floatToRawIntBits(9f), VecAdaptiveRows.magnitudeBits(a, 1, a.length - 1));
        a[VecWidth.floats() + 3] = Float.NEGATIVE_INFINITY;
        assertTrue(VecAdaptiveRows.magnitudeBits(a, 1, a.length - 1) >= 0x7f800000);
        a[VecWidth.floats() + 3] = Float.intBitsToFloat(0xffc00001);
        assertTrue(VecAdaptiveRows.magnitudeBits(a, 1, a.length - 1) > 0x7f800000);
    }

    /**
     * Areas whose last positions take the blocks (23: seven past the last whole block) and the copies
     * one by one (49 and 17: one, 100 and 20: four, VGG-16's and SPP-net's planes among them), planes a
     * multiple of 16 or not.
     */
    @ParameterizedTest(name = "area {0}, {1} planes")
    @CsvSource({"23, 37", "49, 80", "100, 80", "17, 16", "20, 37", "36, 48", "21, 19"})
    void transpose_toChannelsAndBack_movesEveryBit(int area, int planes) {
        float[] a = new float[area * planes];
        for (int i = 0; i < a.length; i++) {
            a[i] = Float.intBitsToFloat(0x7f800001 + i);
        }
        float[] t = new float[a.length];
        VecAdaptive.transposePlanes(a, t, area, planes, true);
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < area; i++) {
                assertEquals(0x7f800001 + p * area + i, Float.floatToRawIntBits(t[i * planes + p]), "plane " + p + " at " + i);
            }
        }
        float[] back = new float[a.length];
        VecAdaptive.transposePlanes(back, t, area, planes, false);
        for (int i = 0; i < a.length; i++) {
            assertEquals(0x7f800001 + i, Float.floatToRawIntBits(back[i]), "back at " + i);
        }
    }

    private static void compare(PoolMode mode) {
        for (int c : CHANNELS) {
            for (int[] size : SIZES) {
                for (int kind = 0; kind < VecTestData.KINDS; kind++) {
                    Shape s = Shape.of(3, size[0], size[1], c);
                    Tensor in = Tensor.of(s, data(kind, (int) s.elementCount(), 17L * c + kind));
                    AdaptiveGeometry g = AdaptiveGeometry.of(mode, s, size[2], size[3]);
                    Tensor vec = Tensor.allocate(g.output());
                    Tensor scalar = Tensor.allocate(g.output());
                    CpuAdaptive.run(g, in, vec, TestParallel.FORK_JOIN, true, true);
                    CpuAdaptive.run(g, in, scalar, TestParallel.FORK_JOIN, true, false);
                    for (int i = 0; i < g.output().elementCount(); i++) {
                        assertEquals(Float.floatToRawIntBits(scalar.floats().get(i)), Float.floatToRawIntBits(vec.floats().get(i)),
                                mode + " kind " + kind + " " + s + " -> " + size[2] + "x" + size[3] + " at " + i
                                        + ": " + vec.floats().get(i) + " vs " + scalar.floats().get(i));
                    }
                    if (mode == PoolMode.MAX) {
                        assertRule(g, in, vec);
                    }
                }
            }
        }
    }

    /** Every maximum is clpool's rule over its region in scan order (the scalar kernels' own reference). */
    private static void assertRule(AdaptiveGeometry g, Tensor in, Tensor out) {
        Shape is = g.input();
        Shape os = g.output();
        for (int n = 0; n < os.n(); n++) {
            for (int oy = 0; oy < os.h(); oy++) {
                for (int ox = 0; ox < os.w(); ox++) {
                    for (int ch = 0; ch < os.c(); ch++) {
                        float m = Float.NEGATIVE_INFINITY;
                        for (int y = g.rowStart(oy); y < g.rowEnd(oy); y++) {
                            for (int x = g.colStart(ox); x < g.colEnd(ox); x++) {
                                m = CpuBackend.max(m, in.floats().get((int) is.offset(n, y, x, ch)));
                            }
                        }
                        assertEquals(Float.floatToRawIntBits(m), Float.floatToRawIntBits(out.floats().get((int) os.offset(n, oy, ox, ch))),
                                "rule at " + n + "," + oy + "," + ox + "," + ch);
                    }
                }
            }
        }
    }
}
