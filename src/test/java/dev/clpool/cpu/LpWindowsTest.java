package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.IndexConvention;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import dev.clpool.testing.NaiveNd;
import dev.clpool.testing.NaiveReference;
import dev.clpool.testing.Tolerance;
import java.util.SplittableRandom;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * Windowed LP pooling against the float64 reference, within tolerance, channels-last
 * ({@link LpWindows}) and channels-first ({@link PlaneLp}): both of their paths (the unscaled power
 * sums for p ≤ 4 and the scaled one above), on random geometries (strides,
 * dilations, padding, ceil mode) and on values at the ends of float's range — the largest finite
 * magnitudes, subnormals, both zeros, infinities and NaN — where an unscaled float sum would
 * overflow or underflow; bit for bit the same however the rows are split.
 */
class LpWindowsTest {
    private static final double[] EXPONENTS = {0.5, 1, 1.5, 2, 3, 4, 5, 8};

    @RepeatedTest(24)
    void lp_randomGeometryAndExponent_withinToleranceOfReference(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(7100 + info.getCurrentRepetition());
        double p = EXPONENTS[info.getCurrentRepetition() % EXPONENTS.length];
        PoolSpec spec = randomSpec(r, p);
        Shape s = VanHerkTest.randomShape(r, spec);
        Tensor x = Tensor.allocate(s);
        for (int i = 0; i < s.elementCount(); i++) {
            x.floats().put(i, (float) (r.nextGaussian() * 3));
        }
        check(spec, s, x, spec + " on " + s);
    }

    @Test
    void lp_valuesAtTheEndsOfFloatRange_everyExponent_withinToleranceOfReference() {
        float[] special = {Float.MAX_VALUE, -3e38f, 1e-40f, -Float.MIN_VALUE, 1e-30f, 0f, -0f, 1f, -2.5f, 1e20f, 7e-20f};
        Shape s = Shape.of(2, 5, 6, 3);
        for (double p : EXPONENTS) {
            SplittableRandom r = new SplittableRandom(Double.hashCode(p));
            Tensor x = Tensor.allocate(s);
            for (int i = 0; i < s.elementCount(); i++) {
                // Mostly one kind of value per channel, so that windows of only tiny or only huge values occur.
                float v = special[(i % 3 * 4 + r.nextInt(4)) % special.length];
                x.floats().put(i, v);
            }
            PoolSpec spec = PoolSpec.builder(PoolMode.LP).p(p).window(2, 3).stride(1, 2)
                    .padding(Padding.of(1)).build();
            check(spec, s, x, "p=" + p + " on extreme values");
        }
    }

    @Test
    void planeLp_channelsFirst_valuesAtTheEndsOfFloatRange_everyExponent_withinToleranceOfReference() {
        float[] special = {Float.MAX_VALUE, -3e38f, 1e-40f, -Float.MIN_VALUE, 1e-30f, 0f, -0f, 1f, -2.5f, 1e20f,
            Float.POSITIVE_INFINITY, Float.NaN};
        TensorShape s = TensorShape.channelsFirst(2, 3, 5, 9);
        try (CpuBackend cpu = new CpuBackend(2)) {
            for (double p : EXPONENTS) {
                SplittableRandom r = new SplittableRandom(Double.hashCode(p) + 1);
                Tensor x = Tensor.allocate(s);
                for (int i = 0; i < s.elementCount(); i++) {
                    // Runs of one kind of value along a row, so that windows of only tiny or only huge values occur.
                    x.floats().put(i, r.nextInt(4) == 0 ? special[r.nextInt(special.length)] : special[i / 9 % 8]);
                }
                PoolSpec spec = PoolSpec.builder(PoolMode.LP).p(p).window(2, 3).stride(1, 2).dilation(1, 2)
                        .padding(Padding.of(1)).ceilMode(true).build();
                Tensor y = Tensor.allocate(spec.outputShape(s));
                new ChannelsFirstPool(cpu).pool(PoolMode.LP, p, false, x.buffer(), y.buffer(), 6, spec.axes(s));
                double[] want = NaiveNd.pool(x.toArray(), s, spec, IndexConvention.PYTORCH).values();
                for (int i = 0; i < want.length; i++) {
                    want[i] = (float) want[i];
                }
                Tolerance.assertClose(y.toArray(), want, "channels-first p=" + p + " on extreme values");
            }
        }
    }

    @Test
    void lp_infinityAndNaNInWindows_giveInfinityAndNaN() {
        Shape s = Shape.of(1, 3, 3, 2);
        for (double p : EXPONENTS) {
            Tensor x = Tensor.allocate(s);
            x.floats().put(2 * 4, Float.NEGATIVE_INFINITY);
            x.floats().put(2 * 4 + 1, Float.intBitsToFloat(0x7fc00123));
            PoolSpec spec = PoolSpec.builder(PoolMode.LP).p(p).window(2, 2).stride(1).build();
            float[] y = run(spec.geometry(s), x, 1);
            for (int o = 0; o < 4; o++) {
                assertEquals(Float.POSITIVE_INFINITY, y[2 * o], "p=" + p + " output " + o);
                assertEquals(Float.floatToRawIntBits(Float.NaN), Float.floatToRawIntBits(y[2 * o + 1]),
                        "p=" + p + " output " + o + ": the canonical NaN");
            }
        }
    }

    private static void check(PoolSpec spec, Shape s, Tensor x, String what) {
        PoolGeometry g = spec.geometry(s);
        float[] rowByRow = run(g, x, 1);
        double[] want = NaiveReference.pool(x.toArray(), s, spec);
        for (int i = 0; i < want.length; i++) {
            want[i] = (float) want[i]; // a result beyond float's range is ∞ in float
        }
        Tolerance.assertClose(rowByRow, want, what);
        Tolerance.assertBitIdentical(run(g, x, 3), rowByRow, what + ": thirds vs row by row");
    }

    /** Runs every output row in ranges of {@code per} rows. */
    private static float[] run(PoolGeometry g, Tensor x, int per) {
        Tensor y = Tensor.allocate(g.output());
        LpWindows lp = new LpWindows(g);
        int rows = g.output().n() * g.output().h();
        for (int from = 0; from < rows; from += per) {
            lp.run(x.floats(), y.floats(), from, Math.min(rows, from + per), Scratch.get());
        }
        return y.toArray();
    }

    /** An LP spec of exponent {@code p}: windows up to 4x4, dilation up to 2, strides up to 3, padding and ceil mode drawn. */
    static PoolSpec randomSpec(SplittableRandom r, double p) {
        int kh = 1 + r.nextInt(4);
        int kw = 1 + r.nextInt(4);
        int dh = 1 + r.nextInt(2);
        int dw = 1 + r.nextInt(2);
        int eh = (kh - 1) * dh + 1;
        int ew = (kw - 1) * dw + 1;
        return PoolSpec.builder(PoolMode.LP).p(p).window(kh, kw).stride(1 + r.nextInt(3), 1 + r.nextInt(3))
                .dilation(dh, dw).padding(Padding.of(r.nextInt(eh), r.nextInt(eh), r.nextInt(ew), r.nextInt(ew)))
                .ceilMode(r.nextBoolean()).build();
    }
}
