package dev.clpool.cpu;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.NaiveReference;
import dev.clpool.testing.Tolerance;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * {@link VecAvgVanHerk} (through {@link AvgVanHerk#run(Tensor, Tensor, int, int, Scratch)}) against
 * its scalar twin ({@link AvgVanHerk#run(java.nio.FloatBuffer, java.nio.FloatBuffer, int, int, Scratch)})
 * run directly on the same inputs: the same additions in the same order, so bit for bit, over
 * random undilated geometries (strides, padding, ceil mode, either divisor rule, windows up to
 * 13×13), channel counts with and without a tail, every kind of {@link VecTestData} (signed zeros,
 * NaN payloads, infinities, constants, sums that cancel and must go to double), a row origin, and
 * any split of the rows; and within tolerance of the double reference.
 */
class VecAvgVanHerkTest {
    @BeforeEach
    void vectorKernels() {
        assumeTrue(VectorSupport.enabled(), "this JVM runs the scalar kernels only");
    }

    @RepeatedTest(12)
    void vecAvgVanHerk_randomGeometryAndData_sameBitsAsScalar(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(7700 + info.getCurrentRepetition());
        PoolSpec spec = spec(r);
        Shape s = shape(r, spec);
        int kind = info.getCurrentRepetition() % VecTestData.KINDS;
        Tensor x = Tensor.of(s, VecTestData.data(kind, Math.toIntExact(s.elementCount()), info.getCurrentRepetition()));
        PoolGeometry g = spec.geometry(s);
        String what = spec + " on " + s + " data kind " + kind;
        float[] vector = vector(g, x, 2);
        Tolerance.assertBitIdentical(vector, scalar(g, x), what);
        Tolerance.assertClose(vector, NaiveReference.pool(x.toArray(), s, spec), what + " (vector vs reference)");
    }

    @RepeatedTest(3)
    void vecAvgVanHerk_anySplitOfTheRowsAndARowOrigin_sameBitsAsScalar(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(7800 + info.getCurrentRepetition());
        PoolSpec spec = spec(r);
        Shape s = shape(r, spec);
        Tensor x = Tensor.of(s, VecTestData.data(0, Math.toIntExact(s.elementCount()), info.getCurrentRepetition()));
        PoolGeometry g = spec.geometry(s);
        int rows = g.output().n() * g.output().h();
        float[] whole = vector(g, x, rows);
        Tolerance.assertBitIdentical(vector(g, x, 1), whole, spec + " on " + s + ": row by row");
        Tolerance.assertBitIdentical(vector(g, x, 3), whole, spec + " on " + s + ": thirds");
        // As a row band inside a taller item would have it (so with no top padding): the blocks
        // move with the origin.
        PoolSpec inside = PoolSpec.builder(PoolMode.AVG).window(spec.windowH(), spec.windowW())
                .stride(spec.strideH(), spec.strideW())
                .padding(Padding.of(0, r.nextInt(spec.windowH()), r.nextInt(spec.windowW()), r.nextInt(spec.windowW())))
                .ceilMode(spec.ceilMode()).countIncludePad(spec.countIncludePad()).build();
        PoolGeometry b = inside.geometry(s);
        PoolGeometry band = new PoolGeometry(inside, s, b.output(), b.rows(), b.cols(), 1 + r.nextInt(12));
        Tolerance.assertBitIdentical(vector(band, x, 2), scalar(band, x),
                inside + " on " + s + " from row " + band.rowOrigin());
    }

    @Test
    void vecAvgVanHerk_sppBoxFilterWithManyChannels_sameBitsAsScalar() {
        // The guided-filter row's geometry, smaller: two 4-vector groups and a one-vector tail.
        Shape s = Shape.of(1, 19, 19, 150);
        PoolSpec spec = PoolSpec.avg(13, 13).stride(1).padding(Padding.of(6)).build();
        PoolGeometry g = spec.geometry(s);
        for (int kind : new int[] {0, 7}) {
            Tensor x = Tensor.of(s, VecTestData.data(kind, Math.toIntExact(s.elementCount()), 31));
            Tolerance.assertBitIdentical(vector(g, x, 7), scalar(g, x), "13x13 s1 p6, data kind " + kind);
        }
    }

    @Test
    void vecAvgVanHerk_paddedWindowsWhosePrefixesAreNotAllRead_sameBitsAsScalar() {
        // Heavy padding: a block's leading prefixes are formed but not stored (no window reads
        // them), and single partial sums are copied by vectors. Each case runs on two kinds of data
        // in turn through the same scratch, so a read of a sum left unstored sees the other data's.
        Shape s = Shape.of(1, 19, 21, 80);
        int[][] cases = {{13, 1, 6}, {13, 2, 6}, {11, 1, 9}, {7, 1, 5}, {9, 3, 8}};
        for (int[] c : cases) {
            PoolSpec spec = PoolSpec.avg(c[0], c[0]).stride(c[1]).padding(Padding.of(c[2])).build();
            PoolGeometry g = spec.geometry(s);
            for (int kind : new int[] {0, 5, 6, 2}) {
                Tensor x = Tensor.of(s, VecTestData.data(kind, Math.toIntExact(s.elementCount()), 17 + kind));
                Tolerance.assertBitIdentical(vector(g, x, 5), scalar(g, x), spec + " on " + s + ", data kind " + kind);
            }
        }
    }

    /** An undilated average window of up to 13×13 (the vector path's), any stride, padding and rule. */
    private static PoolSpec spec(SplittableRandom r) {
        int kh = 1 + r.nextInt(13);
        int kw = 1 + r.nextInt(13);
        return PoolSpec.builder(PoolMode.AVG).window(kh, kw).stride(1 + r.nextInt(3), 1 + r.nextInt(3))
                .padding(Padding.of(r.nextInt(kh), r.nextInt(kh), r.nextInt(kw), r.nextInt(kw)))
                .ceilMode(r.nextBoolean()).countIncludePad(r.nextBoolean()).build();
    }

    /** One item at least a window tall and wide, 16–75 channels (four-vector groups and tails on AVX-512). */
    private static Shape shape(SplittableRandom r, PoolSpec spec) {
        return Shape.of(1, spec.windowH() + r.nextInt(5), spec.windowW() + r.nextInt(5), 16 + r.nextInt(60));
    }

    private static float[] scalar(PoolGeometry g, Tensor x) {
        Tensor y = Tensor.allocate(g.output());
        new AvgVanHerk(g).run(x.floats(), y.floats(), 0, g.output().n() * g.output().h(), Scratch.get());
        return y.toArray();
    }

    /** The vector path over the output rows in ranges of {@code perRange} rows. */
    private static float[] vector(PoolGeometry g, Tensor x, int perRange) {
        Tensor y = Tensor.allocate(g.output());
        AvgVanHerk v = new AvgVanHerk(g);
        int rows = g.output().n() * g.output().h();
        for (int from = 0; from < rows; from += perRange) {
            v.run(x, y, from, Math.min(rows, from + perRange), Scratch.get());
        }
        return y.toArray();
    }
}
