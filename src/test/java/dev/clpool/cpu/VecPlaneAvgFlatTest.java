package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.Axis;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link PlaneAvg}'s flat path for 3×3 s1 p1 windows ({@link VecPlaneAvg#plane} and
 * {@link VecPlaneAvg#flat}) against the band rows' vector passes ({@link VecPlaneAvg#down} and
 * {@link VecPlaneAvg#fused}) bit for bit: sums, bounds and the certificate's answer of the kernels,
 * and the averages through {@link PlaneAvg} with either divisor rule, on planes from one vector
 * wide to Inception's 35×35, with cancellation, infinities and NaNs, zeros of both signs (a −0 in
 * a row's first or last column meets the padding's +0).
 */
class VecPlaneAvgFlatTest {
    private static final int[][] PLANES = {{3, 16}, {4, 17}, {5, 31}, {35, 35}, {7, 33}, {16, 16}, {3, 40}};

    @BeforeEach
    void vectorKernels() {
        assumeTrue(VectorSupport.enabled(), "this JVM runs the scalar kernels only");
    }

    @Test
    void flatKernels_sameSumsBoundsAndAnswerAsBandRows() {
        SplittableRandom r = new SplittableRandom(1303);
        int lanes = VecPlaneAvg.lanes();
        for (int[] hw : PLANES) {
            int h = hw[0];
            int w = hw[1];
            int n = h * w;
            for (int kind = 0; kind < 6; kind++) {
                float[] x = data(n, r, kind, w);
                ByteBuffer in = ChannelsFirstPoolTest.direct(x);
                float[] div = new float[n];
                float[] perUnit = new float[n];
                for (int o = 0; o < n; o++) {
                    div[o] = 4 + r.nextInt(6);
                    perUnit[o] = (float) (0x1p-24 * 1.000001 / 1e-6 / div[o]);
                }
                int pitch = w + 2;
                float[] acc = new float[h * pitch + 2 * lanes];
                float[] accB = new float[acc.length];
                for (int y = 0; y < h; y++) {
                    int y0 = Math.max(0, y - 1);
                    int y1 = Math.min(h, y + 2);
                    int[] rows = new int[y1 - y0];
                    for (int k = 0; k < rows.length; k++) {
                        rows[k] = (y0 + k) * w;
                    }
                    VecPlaneAvg.down(in, rows, rows.length, acc, accB, y * pitch + 1, w);
                }
                float[] sums = new float[n + lanes];
                float[] bounds = new float[n + lanes];
                boolean failed = VecPlaneAvg.fused(acc, accB, h, pitch, 3, 1, div, perUnit, sums, bounds, w, null, 0);

                float[] flat = new float[n + 2 * lanes];
                float[] flatB = new float[flat.length];
                // Garbage where the masks must hide it: past the plane's ends.
                Arrays.fill(flat, Float.NaN);
                Arrays.fill(flatB, Float.NaN);
                VecPlaneAvg.plane(in, 0, h, w, flat, flatB, lanes);
                int[][] e = PlaneAvg.edges(w, lanes);
                float[] fSums = new float[n];
                float[] fBounds = new float[n];
                boolean fFailed = VecPlaneAvg.flat(flat, flatB, lanes, n, w, e[0], e[1], div, perUnit, fSums, fBounds,
                        null, 0);
                String what = h + "x" + w + ", kind " + kind;
                assertArrayEquals(bits(sums, n), bits(fSums, n), what + ": averages");
                assertArrayEquals(bits(bounds, n), bits(fBounds, n), what + ": bounds");
                assertEquals(failed, fFailed, what + ": certificate fails");
                if (kind == 1) {
                    assertTrue(fFailed, what + ": cancellation fails the certificate");
                }
            }
        }
    }

    @Test
    void planeAvg_flatPath_sameBitsAsBandRows() {
        SplittableRandom r = new SplittableRandom(1304);
        for (int[] hw : PLANES) {
            int h = hw[0];
            int w = hw[1];
            int planes = 5;
            Axis[] axes = {new Axis(h, h, 3, 1, 1, 1, 1), new Axis(w, w, 3, 1, 1, 1, 1)};
            PlanePlan p = new PlanePlan(planes, axes);
            assertTrue(PlaneAvg.flat(p), h + "x" + w + " takes the flat path");
            for (int kind = 0; kind < 6; kind++) {
                float[] x = data(planes * h * w, r, kind, w);
                for (boolean includePad : new boolean[] {false, true}) {
                    String what = h + "x" + w + ", kind " + kind + (includePad ? ", include pad" : "");
                    assertArrayEquals(bits(avg(p, x, includePad, false), x.length), bits(avg(p, x, includePad, true),
                            x.length), what);
                }
            }
        }
    }

    @Test
    void flatPath_onlyForThreeByThreeStrideOnePadOne() {
        Axis three = new Axis(35, 35, 3, 1, 1, 1, 1);
        assertTrue(PlaneAvg.flat(new PlanePlan(2, new Axis[] {three, three})));
        Axis[][] not = {
            {three, new Axis(35, 33, 3, 1, 1, 0, 0)},
            {three, new Axis(35, 18, 3, 2, 1, 1, 1)},
            {new Axis(35, 35, 5, 1, 1, 2, 2), three},
            {new Axis(2, 2, 3, 1, 1, 1, 1), three},
            {three, new Axis(8, 8, 3, 1, 1, 1, 1)},
            {new Axis(3, 3, 3, 1, 1, 1, 1), three, three},
            {new Axis(200, 200, 3, 1, 1, 1, 1), three},
        };
        for (Axis[] a : not) {
            assertEquals(false, PlaneAvg.flat(new PlanePlan(2, a)), Arrays.toString(a));
        }
    }

    /**
     * Kind 0: uniform; 1: cancellation (the certificate fails); 2: NaNs and infinities; 3: zeros
     * of both signs; 4: −0 in every row's first and last column, +0 elsewhere; 5: all −0.
     */
    private static float[] data(int count, SplittableRandom r, int kind, int w) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            int k = r.nextInt(40);
            int col = i % w;
            v[i] = switch (kind) {
                case 1 -> (float) r.nextDouble(-1, 1) + (k < 6 ? (i % 2 == 0 ? 3e7f : -3e7f) : 0f);
                case 2 -> k == 0 ? Float.NaN : k == 1 ? Float.POSITIVE_INFINITY : k == 2 ? Float.NEGATIVE_INFINITY
                        : (float) r.nextDouble(-1, 1);
                case 3 -> k < 20 ? -0f : k < 30 ? 0f : (float) r.nextDouble(-1, 1);
                case 4 -> col == 0 || col == w - 1 ? -0f : 0f;
                case 5 -> -0f;
                default -> (float) r.nextDouble(-4, 4);
            };
        }
        return v;
    }

    private static float[] avg(PlanePlan p, float[] x, boolean includePad, boolean flat) {
        float[] y = new float[Math.toIntExact(p.planes * p.outPlane)];
        Arrays.fill(y, Float.NaN);
        ByteBuffer raw = ChannelsFirstPoolTest.direct(x);
        ByteBuffer rawOut = ChannelsFirstPoolTest.direct(y);
        FloatBuffer out = rawOut.asFloatBuffer();
        new PlaneAvg(p, includePad, true, flat).run(raw, rawOut, raw.asFloatBuffer(), out, 0, p.bands(), Scratch.get());
        out.get(0, y);
        return y;
    }

    /**
     * Every bit, except which NaN: where ∞ meets −∞ the processor's NaN (sign set on x86) or an
     * operand's may survive depending on the order the JIT gives the additions, and SEMANTICS.md asks an
     * average only for NaN.
     */
    private static int[] bits(float[] a, int n) {
        int[] b = new int[n];
        for (int i = 0; i < n; i++) {
            b[i] = Float.floatToIntBits(a[i]);
        }
        return b;
    }
}
