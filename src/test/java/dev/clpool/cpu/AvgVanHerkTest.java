package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.NaiveReference;
import dev.clpool.testing.Tolerance;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * The prefix–suffix average path against the naive reference and the direct separable path
 * ({@link AvgWindows}), within tolerance: run directly on random geometries the cost model would not
 * give it (strides, dilations, padding, ceil mode, count_include_pad), on values with zeros of both
 * signs, NaNs, infinities and large values that cancel; bit for bit the same however the rows are
 * split into tasks; and through the backend on the shapes the model does give it.
 */
class AvgVanHerkTest {
    private static CpuBackend cpu;

    @BeforeAll
    static void open() {
        cpu = new CpuBackend(2);
    }

    @AfterAll
    static void close() {
        cpu.close();
    }

    /** A random geometry (as {@link VanHerkTest}'s) and input from one seed. */
    private record Random(PoolSpec spec, Shape shape, Tensor x, PoolGeometry g) {
        static Random of(long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            PoolSpec spec = VanHerkTest.randomSpec(r, PoolMode.AVG);
            Shape s = VanHerkTest.randomShape(r, spec);
            return new Random(spec, s, values(s, r), spec.geometry(s));
        }

        int rows() {
            return g.output().n() * g.output().h();
        }

        @Override
        public String toString() {
            return spec + " on " + shape;
        }
    }

    @RepeatedTest(30)
    void avgVanHerk_randomGeometry_withinToleranceOfReferenceAndDirectPath(RepetitionInfo info) {
        Random c = Random.of(9300 + info.getCurrentRepetition());
        float[] got = run(c.g(), c.x(), 2);
        Tolerance.assertClose(got, NaiveReference.pool(c.x().toArray(), c.shape(), c.spec()), c.toString());
        Tensor direct = Tensor.allocate(c.g().output());
        new AvgWindows(c.g(), true).run(c.x().floats(), direct.floats(), 0, c.rows(), Scratch.get());
        Tolerance.assertClose(got, direct.toArray(), 4e-6, c + " against the direct path");
    }

    @RepeatedTest(8)
    void avgVanHerk_anySplitOfTheRows_sameBits(RepetitionInfo info) {
        Random c = Random.of(9400 + info.getCurrentRepetition());
        float[] rowByRow = run(c.g(), c.x(), 1);
        Tolerance.assertBitIdentical(run(c.g(), c.x(), c.rows()), rowByRow, c + ": one range vs row by row");
        Tolerance.assertBitIdentical(run(c.g(), c.x(), 3), rowByRow, c + ": thirds vs row by row");
    }

    @Test
    void backend_largeWindows_manyBandsAndBlocks_withinTolerance() {
        for (boolean includePad : new boolean[] {false, true}) {
            for (int k : new int[] {5, 13}) {
                // 520 columns of 64 channels: two column blocks, and the band budget splits the rows.
                Shape s = Shape.of(1, 17, 520, 64);
                PoolSpec spec = PoolSpec.avg(k, k).stride(1).padding(Padding.of(k / 2)).countIncludePad(includePad).build();
                assertTrue(AvgVanHerk.pays(spec.geometry(s)), "model picks prefix-suffix sums for " + k);
                Tensor x = CpuFastPathTest.zerosAndNans(s, k, false);
                Tensor y = Tensor.allocate(spec.outputShape(s));
                cpu.pool(spec.geometry(s), x, y);
                // The direct path, itself certified within a quarter of the tolerance of the exact
                // averages (the naive reference takes seconds at this size).
                Tensor direct = Tensor.allocate(spec.outputShape(s));
                new AvgWindows(spec.geometry(s), true).run(x.floats(), direct.floats(), 0, s.h(), Scratch.get());
                Tolerance.assertClose(y.toArray(), direct.toArray(), 4e-6, spec.toString());
            }
        }
    }

    @Test
    void costModel_choosesPrefixSuffixForLargeStrideOneWindows_andNotForTheTunedSmallOnes() {
        assertTrue(AvgVanHerk.pays(avg(13, 1).geometry(Shape.of(8, 40, 40, 256))));
        assertTrue(AvgVanHerk.pays(avg(9, 1).geometry(Shape.of(1, 20, 20, 512))));
        assertFalse(AvgVanHerk.pays(avg(3, 1).geometry(Shape.of(8, 56, 56, 64))));
        assertFalse(AvgVanHerk.pays(avg(2, 2).geometry(Shape.of(16, 56, 56, 128))));
        assertFalse(AvgVanHerk.pays(avg(13, 1).geometry(Shape.of(1, 40, 40, 3))));
        assertFalse(AvgVanHerk.pays(PoolSpec.max(13, 13).stride(1).build().geometry(Shape.of(1, 40, 40, 64))));
    }

    private static PoolSpec avg(int k, int stride) {
        return PoolSpec.avg(k, k).stride(stride).padding(Padding.of(stride == 1 ? k / 2 : 0)).build();
    }

    /** The path run directly over the output rows in ranges of {@code perRange} rows. */
    private static float[] run(PoolGeometry g, Tensor x, int perRange) {
        Tensor y = Tensor.allocate(g.output());
        AvgVanHerk v = new AvgVanHerk(g);
        int rows = g.output().n() * g.output().h();
        for (int from = 0; from < rows; from += perRange) {
            v.run(x.floats(), y.floats(), from, Math.min(rows, from + perRange), Scratch.get());
        }
        return y.toArray();
    }

    /**
     * Zeros of both signs and moderate values, and in some inputs a few NaNs and infinities, or
     * large values of both signs that cancel (which the certificate must send to the double path).
     * Every window sum is exact in double (multiples of 2^-10 below 2^32), so that the reference
     * is exact too.
     */
    private static Tensor values(Shape s, SplittableRandom r) {
        int kind = r.nextInt(3);
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            int k = r.nextInt(100);
            if (kind == 1 && k == 0) {
                v[i] = r.nextBoolean() ? Float.NaN : (r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY);
            } else if (kind == 2 && k < 30) {
                v[i] = (r.nextBoolean() ? 0x1p30f : -0x1p30f) * (1 + (k & 1));
            } else if (k < 50) {
                v[i] = k < 25 ? 0.0f : -0.0f;
            } else {
                v[i] = Math.round((r.nextDouble() * 16 - 8) * 1024) / 1024f;
            }
        }
        return Tensor.of(s, v);
    }
}
