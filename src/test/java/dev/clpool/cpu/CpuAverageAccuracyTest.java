package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.NaiveAdaptive;
import dev.clpool.testing.Tolerance;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The CPU averages sum in float (windowed: plain sums with a running error bound; global: compensated),
 * each result certified, with a fallback to double:
 * inputs built to defeat plain and compensated float sums, compared with exact (BigDecimal) sums.
 */
class CpuAverageAccuracyTest {
    private static final CpuBackend CPU = new CpuBackend(2);

    @AfterAll
    static void close() {
        CPU.close();
    }

    @Test
    void windowedAvg_cancellationBeyondCompensatedFloatRange_isExact() {
        // One 3x3 window: 2^48 + 2^24 + 1 - 2^24 - 2^48 = 1. Compensated float loses the 1 in its
        // error sum (2^24 + 1 rounds to 2^24); the certificate must send it to the double path.
        float[] v = {0x1p48f, 0x1p24f, 1f, -0x1p24f, -0x1p48f, 0, 0, 0, 0};
        Tensor x = Tensor.of(Shape.of(1, 3, 3, 1), v);
        float[] got = pool(PoolSpec.avg(3, 3).build(), x);
        assertEquals(1f / 9, got[0], 1e-9f);
    }

    @Test
    void windowedAvg_largeValuesOfBothSigns_summingNearZero_withinTolerance() {
        Random r = new Random(7);
        for (float scale : new float[] {1e3f, 1e4f, 1e6f, 1e12f, 1e30f}) {
            Shape s = Shape.of(2, 13, 17, 5);
            float[] v = cancelling(s, scale, r);
            check(PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).build(), s, v, "3x3 s1 p1 scale " + scale);
            check(PoolSpec.avg(4, 2).stride(2, 1).padding(Padding.of(1, 0)).countIncludePad(true).build(), s, v,
                    "4x2 include-pad scale " + scale);
            check(PoolSpec.avg(2, 2).dilation(2, 3).build(), s, v, "2x2 dilated scale " + scale);
            // 33 channels: a column stride above 1 gathers each tap's kept columns (AvgWindows.sumGathered).
            Shape wide = Shape.of(1, 7, 11, 33);
            float[] u = cancelling(wide, scale, r);
            check(PoolSpec.avg(3, 3).stride(2).padding(Padding.of(1)).build(), wide, u, "3x3 s2 p1 C=33 scale " + scale);
            check(PoolSpec.avg(2, 2).build(), wide, u, "2x2 s2 C=33 scale " + scale);
        }
    }

    @Test
    void windowedAvg_nearFloatMax_doesNotOverflow() {
        // The sum of 4 x 3e38 overflows float; the average does not (the double path, as before).
        Tensor x = Tensor.of(Shape.of(1, 2, 2, 2), 3e38f, -3e38f, 3e38f, -3e38f, 3e38f, -3e38f, 3e38f, -3.4e38f);
        float[] got = pool(PoolSpec.avg(2, 2).build(), x);
        assertEquals(3e38f, got[0]);
        assertEquals((float) ((-3e38 * 3 - 3.4e38) / 4), got[1]);
    }

    @Test
    void windowedAvg_infinitiesAndNaN_asInDouble() {
        Tensor x = Tensor.of(Shape.of(1, 2, 2, 3),
                Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN,
                1f, Float.NEGATIVE_INFINITY, 1f,
                1f, 1f, 1f,
                1f, 1f, 1f);
        float[] got = pool(PoolSpec.avg(2, 2).build(), x);
        assertEquals(Float.POSITIVE_INFINITY, got[0]);
        assertTrue(Float.isNaN(got[1]));
        assertEquals(Float.floatToRawIntBits(Float.NaN), Float.floatToRawIntBits(got[2]));
    }

    @Test
    void globalAvg_hugePlane_heavyCancellation_withinTolerance() {
        // 1x2048x2048x1: pairs of large values of both signs plus small noise; the mean is ~1e-3.
        Shape s = Shape.of(1, 2048, 2048, 1);
        float[] v = cancelling(s, 1e4f, new Random(3));
        float got = global(s, v)[0];
        double want = exactSum(v, 0, v.length, 1).doubleValue() / v.length;
        Tolerance.assertClose(new float[] {got}, new double[] {want}, "global avg 2048x2048 cancelling");
    }

    @Test
    void globalAvg_manyChannels_cancellationAndLargeOffsets_withinTolerance() {
        Random r = new Random(11);
        for (Shape s : new Shape[] {Shape.of(3, 7, 7, 129), Shape.of(2, 224, 224, 3), Shape.of(1, 1, 1, 5)}) {
            float[] v = cancelling(s, 1e6f, r);
            for (int i = 0; i < v.length; i += 7) {
                v[i] += 1000f; // large offsets too
            }
            float[] got = global(s, v);
            double[] want = new double[got.length];
            int c = s.c();
            long plane = (long) s.h() * s.w() * c;
            for (int n = 0; n < s.n(); n++) {
                for (int ch = 0; ch < c; ch++) {
                    want[n * c + ch] = exactSum(v, (int) (n * plane) + ch, (int) ((n + 1) * plane), c).doubleValue()
                            / (s.h() * s.w());
                }
            }
            Tolerance.assertClose(got, want, "global avg " + s);
        }
    }

    @Test
    void globalAvg_smallTermsAbsorbedByLargeOnes_areNotLost() {
        // Per channel 2^24, then ones, then -2^24: a float sum loses every one (2^24 + 1 rounds
        // to 2^24), so only the certificate stands between the fast sums and an average of 0.
        for (Shape s : new Shape[] {Shape.of(2, 7, 7, 64), Shape.of(1, 64, 64, 3), Shape.of(1, 1, 300, 1)}) {
            int hw = s.h() * s.w();
            float[] v = new float[(int) s.elementCount()];
            for (int i = 0; i < v.length; i++) {
                int p = (int) (i / s.c() % hw);
                v[i] = p == 0 ? 0x1p24f : p == hw - 1 ? -0x1p24f : 1f;
            }
            float[] got = global(s, v);
            double[] want = new double[got.length];
            Arrays.fill(want, (hw - 2) / (double) hw);
            Tolerance.assertClose(got, want, "global avg of 2^24, ones, -2^24 over " + s);
        }
    }

    @Test
    void globalAvg_largeZeroMeanValues_withinTolerance() {
        // Values of magnitude ~1e3 averaging near zero: beyond what the plain float sums certify,
        // so every channel goes through the compensated sums.
        Random r = new Random(5);
        Shape s = Shape.of(4, 7, 7, 96);
        float[] v = new float[(int) s.elementCount()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * 1e3);
        }
        float[] got = global(s, v);
        double[] want = new double[got.length];
        int c = s.c();
        int plane = 49 * c;
        for (int n = 0; n < s.n(); n++) {
            for (int ch = 0; ch < c; ch++) {
                want[n * c + ch] = exactSum(v, n * plane + ch, (n + 1) * plane, c).doubleValue() / 49;
            }
        }
        Tolerance.assertClose(got, want, "global avg of N(0, 1e3) over " + s);
    }

    @Test
    void globalAvg_nearFloatMax_andNonFinite_asInDouble() {
        float[] v = new float[64 * 64 * 3];
        for (int i = 0; i < v.length; i += 3) {
            v[i] = 3e38f;
            v[i + 1] = i == 0 ? Float.POSITIVE_INFINITY : 1f;
            v[i + 2] = i == 3 ? Float.NaN : -3.3e38f;
        }
        float[] got = global(Shape.of(1, 64, 64, 3), v);
        assertEquals(3e38f, got[0]);
        assertEquals(Float.POSITIVE_INFINITY, got[1]);
        assertEquals(Float.floatToRawIntBits(Float.NaN), Float.floatToRawIntBits(got[2]));
    }

    @Test
    void globalAvg_planeTailsAfterALargerCall_addNothingStale() {
        // The fast form adds four staged blocks of pixels at a time, padding the last group with
        // zeros: a 5-pixel plane after an 8x8 one must not add the 8x8 plane's pixels 1-3 again.
        CpuBackend one = new CpuBackend(1);
        try {
            float[] ones = new float[64 * 64];
            Arrays.fill(ones, 1000f);
            one.global(PoolMode.AVG, Tensor.of(Shape.of(1, 8, 8, 64), ones), Tensor.allocate(Shape.of(1, 1, 1, 64)));
            for (int hw : new int[] {1, 2, 3, 5, 6, 7, 9, 17, 49}) {
                Shape s = Shape.of(2, 1, hw, 64);
                float[] v = new float[(int) s.elementCount()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (i / 64 % hw + 1);
                }
                Tensor y = Tensor.allocate(Shape.of(2, 1, 1, 64));
                one.global(PoolMode.AVG, Tensor.of(s, v), y);
                double[] want = new double[128];
                Arrays.fill(want, (hw + 1) / 2.0);
                Tolerance.assertClose(y.toArray(), want, "global avg of 1.." + hw + " after an 8x8 plane");
            }
        } finally {
            one.close();
        }
    }

    @Test
    void adaptiveAvg_manyChannels_cancellationAndNonFinite_withinToleranceOfExactSums() {
        // 16 or more channels sum in certified float (AdaptiveAvgRows); what the certificate
        // refuses must come back from the double path: compared with exact sums.
        Random r = new Random(13);
        Shape s = Shape.of(2, 9, 11, 24);
        int c = s.c();
        for (float scale : new float[] {1f, 1e4f, 1e12f, 1e30f}) {
            float[] v = cancellingPerChannel((int) s.elementCount(), c, scale, r);
            if (scale == 1e4f) {
                v[5] = Float.POSITIVE_INFINITY;
                v[24 * 11 + 7] = Float.NaN;
                v[24 * 40 + 9] = Float.NEGATIVE_INFINITY;
                v[24 * 41 + 9] = Float.POSITIVE_INFINITY;
            }
            for (int[] size : new int[][] {{4, 5}, {7, 7}, {2, 13}}) {
                AdaptiveGeometry g = AdaptiveGeometry.of(PoolMode.AVG, s, size[0], size[1]);
                Tensor y = Tensor.allocate(g.output());
                CPU.adaptive(g, Tensor.of(s, v), y);
                Tolerance.assertClose(y.toArray(), exactAdaptive(v, s, size[0], size[1]),
                        "adaptive avg to " + size[0] + "x" + size[1] + " scale " + scale);
            }
        }
    }

    @Test
    void adaptiveAvg_manyChannels_negativeZeros_averageToPositiveZero_asTheDoubleSums() {
        float[] v = new float[3 * 3 * 16];
        Arrays.fill(v, -0.0f);
        Shape s = Shape.of(1, 3, 3, 16);
        AdaptiveGeometry g = AdaptiveGeometry.of(PoolMode.AVG, s, 2, 2);
        Tensor y = Tensor.allocate(g.output());
        CPU.adaptive(g, Tensor.of(s, v), y);
        for (float got : y.toArray()) {
            assertEquals(0, Float.floatToRawIntBits(got));
        }
    }

    @Test
    void avgBackward_manyChannels_cancellationAndNonFinite_withinToleranceOfExactSums() {
        // 16 or more channels sum gradients in certified float (AvgBackwardRows); what the
        // certificate refuses must come back from the double path: compared with exact sums.
        Random r = new Random(17);
        Shape s = Shape.of(1, 6, 7, 20);
        PoolSpec[] specs = {PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).build(), PoolSpec.avg(2, 2).build(),
                PoolSpec.avg(3, 2).stride(2, 1).padding(Padding.of(1, 0)).countIncludePad(true).build()};
        for (PoolSpec spec : specs) {
            PoolGeometry g = spec.geometry(s);
            Shape o = g.output();
            int c = s.c();
            // Not 1e30: a quotient of 1e30 by 9 rounds in double too, by more than the tolerance of a sum near 0.
            for (float scale : new float[] {1f, 1e4f, 1e8f}) {
                float[] dy = cancellingPerChannel((int) o.elementCount(), c, scale, r);
                if (scale == 1e4f) {
                    dy[3] = Float.POSITIVE_INFINITY;
                    dy[c + 4] = Float.NaN;
                }
                Tensor dx = Tensor.allocate(s);
                CPU.backward(g, Tensor.allocate(s), Tensor.of(o, dy), dx);
                BigDecimal[] exact = new BigDecimal[(int) s.elementCount()];
                Arrays.fill(exact, BigDecimal.ZERO);
                double[] plain = new double[exact.length];
                for (int oy = 0; oy < o.h(); oy++) {
                    for (int ox = 0; ox < o.w(); ox++) {
                        for (int jy = g.rows().firstTap(oy); jy < g.rows().endTap(oy); jy++) {
                            for (int jx = g.cols().firstTap(ox); jx < g.cols().endTap(ox); jx++) {
                                int y = (int) (g.rows().start(oy) + jy);
                                int x = (int) (g.cols().start(ox) + jx);
                                for (int ch = 0; ch < c; ch++) {
                                    float e = dy[(int) o.offset(0, oy, ox, ch)];
                                    int at = (int) s.offset(0, y, x, ch);
                                    plain[at] += e / g.divisor(oy, ox);
                                    if (Float.isFinite(e)) {
                                        exact[at] = exact[at].add(new BigDecimal(e).divide(
                                                BigDecimal.valueOf(g.divisor(oy, ox)), MathContext.DECIMAL128));
                                    }
                                }
                            }
                        }
                    }
                }
                double[] want = new double[exact.length];
                for (int i = 0; i < want.length; i++) {
                    want[i] = Double.isFinite(plain[i]) ? exact[i].doubleValue() : plain[i];
                }
                Tolerance.assertClose(dx.toArray(), want, "avg backward " + spec + " scale " + scale);
            }
        }
    }

    /** Adaptive averages from exact sums (double sums where a region holds an infinity or NaN). */
    private static double[] exactAdaptive(float[] v, Shape s, int oh, int ow) {
        int c = s.c();
        double[] want = new double[s.n() * oh * ow * c];
        for (int n = 0; n < s.n(); n++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int ch = 0; ch < c; ch++) {
                        BigDecimal sum = BigDecimal.ZERO;
                        double plain = 0;
                        int count = 0;
                        for (int y = NaiveAdaptive.first(oy, s.h(), oh); y <= NaiveAdaptive.last(oy, s.h(), oh); y++) {
                            for (int x = NaiveAdaptive.first(ox, s.w(), ow); x <= NaiveAdaptive.last(ox, s.w(), ow); x++) {
                                float e = v[(int) s.offset(n, y, x, ch)];
                                plain += e;
                                sum = Float.isFinite(e) ? sum.add(new BigDecimal(e)) : sum;
                                count++;
                            }
                        }
                        want[((n * oh + oy) * ow + ox) * c + ch] = Double.isFinite(plain)
                                ? sum.divide(BigDecimal.valueOf(count), MathContext.DECIMAL64).doubleValue() : plain / count;
                    }
                }
            }
        }
        return want;
    }

    /**
     * As {@link #cancelling}, with the signs alternating from pixel to pixel within each of
     * {@code c} channels (channels-last), and some pairs of pixels cancelling exactly.
     */
    private static float[] cancellingPerChannel(int count, int c, float scale, Random r) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            int p = i / c;
            v[i] = p % 3 == 1 ? -v[i - c]
                    : (p % 2 == 0 ? 1 : -1) * scale * (1 + r.nextInt(4)) + (float) r.nextGaussian() * 1e-3f;
        }
        return v;
    }

    /** Large values whose neighbours mostly cancel them, plus noise of about 1e-3 of the unit. */
    private static float[] cancelling(Shape s, float scale, Random r) {
        float[] v = new float[(int) s.elementCount()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i % 2 == 0 ? 1 : -1) * scale * (1 + r.nextInt(4)) + (float) r.nextGaussian() * 1e-3f;
        }
        // Some pairs cancel exactly, some windows see one sign only.
        for (int i = 1; i < v.length; i += 3) {
            v[i] = -v[i - 1];
        }
        return v;
    }

    private static float[] pool(PoolSpec spec, Tensor x) {
        PoolGeometry g = spec.geometry(x.shape());
        Tensor y = Tensor.allocate(g.output());
        CPU.pool(g, x, y);
        return y.toArray();
    }

    private static float[] global(Shape s, float[] v) {
        Tensor y = Tensor.allocate(Shape.of(s.n(), 1, 1, s.c()));
        CPU.global(PoolMode.AVG, Tensor.of(s, v), y);
        return y.toArray();
    }

    private static BigDecimal exactSum(float[] v, int from, int to, int step) {
        BigDecimal sum = BigDecimal.ZERO;
        for (int i = from; i < to; i += step) {
            sum = sum.add(new BigDecimal(v[i]));
        }
        return sum;
    }

    /** Every output of {@code spec} on {@code v} against the exact window sum over the divisor. */
    private static void check(PoolSpec spec, Shape s, float[] v, String what) {
        PoolGeometry g = spec.geometry(s);
        float[] got = pool(spec, Tensor.of(s, v));
        Shape o = g.output();
        double[] want = new double[got.length];
        for (int n = 0; n < o.n(); n++) {
            for (int oy = 0; oy < o.h(); oy++) {
                for (int ox = 0; ox < o.w(); ox++) {
                    for (int ch = 0; ch < o.c(); ch++) {
                        BigDecimal sum = BigDecimal.ZERO;
                        for (int jy = g.rows().firstTap(oy); jy < g.rows().endTap(oy); jy++) {
                            for (int jx = g.cols().firstTap(ox); jx < g.cols().endTap(ox); jx++) {
                                long y = g.rows().start(oy) + (long) jy * g.rows().dilation();
                                long x = g.cols().start(ox) + (long) jx * g.cols().dilation();
                                sum = sum.add(new BigDecimal(v[(int) s.offset(n, (int) y, (int) x, ch)]));
                            }
                        }
                        want[(int) o.offset(n, oy, ox, ch)] =
                                sum.divide(BigDecimal.valueOf(g.divisor(oy, ox)), MathContext.DECIMAL64).doubleValue();
                    }
                }
            }
        }
        Tolerance.assertClose(got, want, what);
    }
}
