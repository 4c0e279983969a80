package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * {@link VecArgmaxPlanes} against its scalar twins, called directly on the same one-channel planes:
 * {@link ArgmaxPlanes#vectorBand} against {@link ArgmaxPlanes#band} (values and indices in every
 * convention, and {@code nhwc} indices of a channels-first tensor formed directly), bit for bit,
 * over column strides 1 and 2, random row strides, dilations, padding and ceil mode, output rows
 * around the lane count, on data with ties, ±0, NaNs of both signs with payloads, infinities, and
 * all-zero, constant, all −∞ and Gaussian inputs.
 */
class VecArgmaxPlanesTest {
    @BeforeAll
    static void vectorsOn() {
        assumeTrue(VectorSupport.ENABLED, "the Vector API kernels are off in this JVM");
    }

    /** A random spec of column stride 1 or 2 (the strides the kernels take); every fifth ResNet's stem, every seventh SegNet's. */
    static PoolSpec spec(SplittableRandom r, int rep) {
        if (rep % 5 == 0) {
            return PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
        }
        if (rep % 7 == 0) {
            return PoolSpec.max(2, 2).stride(2).build();
        }
        int kh = 1 + r.nextInt(4);
        int kw = 1 + r.nextInt(4);
        int dh = 1 + r.nextInt(2);
        int dw = rep % 2 == 0 ? 1 : 1 + r.nextInt(3);
        int eh = (kh - 1) * dh + 1;
        int ew = (kw - 1) * dw + 1;
        return PoolSpec.max(kh, kw).stride(1 + r.nextInt(3), 1 + r.nextInt(2)).dilation(dh, dw)
                .padding(Padding.of(r.nextInt(eh), r.nextInt(eh), r.nextInt(ew), r.nextInt(ew)))
                .ceilMode(r.nextBoolean()).build();
    }

    /** Planes whose output rows run from under two vectors of the lanes to several. */
    static Shape planes(SplittableRandom r, PoolSpec spec) {
        int sw = spec.strideW();
        int l = VecWidth.floats();
        return Shape.of(1 + r.nextInt(4), 3 + r.nextInt(10), sw * (l + r.nextInt(3 * l)) + r.nextInt(4), 1);
    }

    @RepeatedTest(12)
    void valuesAndIndicesAreTheScalarBandsBits(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        SplittableRandom r = new SplittableRandom(4400 + rep);
        PoolSpec spec = spec(r, rep);
        Shape s = planes(r, spec);
        Tensor x = VecArgmaxTest.data(s, rep % 5, rep);
        PoolGeometry g = spec.geometry(s);
        String what = spec + " on " + s + ", data " + rep % 5;
        for (IndexConvention conv : IndexConvention.values()) {
            compare(g, x, IndexForm.of(conv, s), conv, what + ", " + conv.word());
        }
        int c = 1 + r.nextInt(5);
        compare(g, x, IndexForm.nhwcPlanes(s, c), IndexConvention.NHWC, what + ", nhwc of C=" + c);
    }

    /**
     * Column stride 2 on rows around two vectors of the lanes, where {@link VecArgmaxPlanes#stage}
     * splits a row into its even and odd columns: a last block overlapping the one before it, an odd
     * last column split alone, a padded first column whose staged element lies before its phase.
     */
    @Test
    void strideTwoRowsAroundTheSplitsBlocks() {
        int l = VecWidth.floats();
        PoolSpec[] specs = {PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(),
            PoolSpec.max(2, 3).stride(2).dilation(1, 2).padding(Padding.of(0, 1, 2, 0)).ceilMode(true).build()};
        int k = 0;
        for (PoolSpec spec : specs) {
            for (int w : new int[] {2 * l + 4, 2 * l + 5, 3 * l + 1, 4 * l + 3}) {
                Shape s = Shape.of(2, 7, w, 1);
                PoolGeometry g = spec.geometry(s);
                compare(g, VecArgmaxTest.data(s, k % 5, 91 + k), IndexForm.of(IndexConvention.PYTORCH, s),
                        IndexConvention.PYTORCH, spec + " on " + s);
                k++;
            }
        }
    }

    /**
     * Windows of one even/odd column pair ({@link VecArgmaxPlanes#pairs}: two columns at stride 2, no
     * column padding), one to three window rows, row dilation, row padding, odd and
     * even widths, output rows of one vector to several, every kind of data (all −∞ included: the
     * choice there starts at −∞ with tap 0's index).
     */
    @Test
    void pairWindowsAreTheScalarBandsBits() {
        int l = VecWidth.floats();
        PoolSpec[] specs = {PoolSpec.max(2, 2).stride(2).build(),
            PoolSpec.max(1, 2).stride(1, 2).build(),
            PoolSpec.max(3, 2).stride(2).padding(Padding.of(1, 1, 0, 0)).build(),
            PoolSpec.max(2, 2).stride(1, 2).dilation(2, 1).build()};
        int k = 0;
        for (PoolSpec spec : specs) {
            for (int w : new int[] {2 * l, 2 * l + 1, 3 * l + 2, 4 * l + 7}) {
                Shape s = Shape.of(2, 5 + k % 3, w, 1);
                PoolGeometry g = spec.geometry(s);
                assertTrue(planes(g).pairs(), spec + " on " + s);
                for (int kind = 0; kind < 5; kind++) {
                    compare(g, VecArgmaxTest.data(s, kind, 300 + k), IndexForm.of(IndexConvention.ONNX, s),
                            IndexConvention.ONNX, spec + " on " + s + ", data " + kind);
                }
                compare(g, VecArgmaxTest.data(s, 0, 700 + k), IndexForm.nhwcPlanes(s, 3), IndexConvention.NHWC,
                        spec + " on " + s + ", nhwc of C=3");
                k++;
            }
        }
        assertFalse(planes(PoolSpec.max(2, 2).stride(2).padding(Padding.of(0, 0, 1, 1)).build()
                .geometry(Shape.of(1, 4, 4 * l, 1))).pairs());
    }

    /**
     * Every order of −∞, −0, +0, 1 and NaNs of both signs (payloads naming their tap) over the four
     * taps of a 2×2 s2 window ({@link VecArgmaxPlanes#pairs}: each window row's pair chosen first,
     * then the rows), one window per combination along a plane's two rows: the first of equal
     * values and the first NaN must win, as with the scalar bands.
     */
    @Test
    void pairWindowsEveryFourTapOrder() {
        int values = VecTestData.ORDER_VALUES;
        int windows = values * values * values * values;
        float[] v = new float[2 * 2 * windows];
        for (int w = 0; w < windows; w++) {
            for (int tap = 0, code = w; tap < 4; tap++, code /= values) {
                v[(tap / 2) * 2 * windows + 2 * w + tap % 2] = VecTestData.orderValue(code % values, tap);
            }
        }
        Shape s = Shape.of(1, 2, 2 * windows, 1);
        PoolGeometry g = PoolSpec.max(2, 2).stride(2).build().geometry(s);
        assertTrue(planes(g).pairs());
        compare(g, Tensor.of(s, v), IndexForm.of(IndexConvention.ONNX, s), IndexConvention.ONNX, "every four-tap order");
    }

    /**
     * Windows of three consecutive columns at column stride 2 ({@link VecArgmaxPlanes#triples}: ResNet's
     * 3×3 s2 p1 stem, read from the tensor, no staging): one padded column on the left or none, one
     * to three window rows, row strides 1 and 2, row padding and dilation, widths whose last window
     * ends at the row's last column, every kind of data; and the geometries that must not take it
     * (a padded column on the right, column dilation).
     */
    @Test
    void tripleWindowsAreTheScalarBandsBits() {
        int l = VecWidth.floats();
        PoolSpec[] specs = {PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(),
            PoolSpec.max(3, 3).stride(2).build(),
            PoolSpec.max(1, 3).stride(1, 2).padding(Padding.of(0, 0, 1, 0)).build(),
            PoolSpec.max(2, 3).stride(1, 2).dilation(2, 1).padding(Padding.of(1, 2, 0, 0)).build()};
        int[][] widths = {{2 * l, 2 * l + 2, 3 * l + 4, 4 * l + 6}, {2 * l + 1, 2 * l + 2, 3 * l + 5, 4 * l + 8},
            {2 * l, 2 * l + 1, 3 * l + 3, 4 * l + 6}, {2 * l + 2, 2 * l + 3, 3 * l + 7, 4 * l + 4}};
        int k = 0;
        for (int i = 0; i < specs.length; i++) {
            for (int w : widths[i]) {
                Shape s = Shape.of(2, 5 + k % 3, w, 1);
                PoolGeometry g = specs[i].geometry(s);
                assertTrue(planes(g).triples(), specs[i] + " on " + s);
                for (int kind = 0; kind < 5; kind++) {
                    compare(g, VecArgmaxTest.data(s, kind, 800 + k), IndexForm.of(IndexConvention.ONNX, s),
                            IndexConvention.ONNX, specs[i] + " on " + s + ", data " + kind);
                }
                compare(g, VecArgmaxTest.data(s, 0, 900 + k), IndexForm.nhwcPlanes(s, 3), IndexConvention.NHWC,
                        specs[i] + " on " + s + ", nhwc of C=3");
                k++;
            }
        }
        assertFalse(planes(PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build()
                .geometry(Shape.of(1, 4, 2 * l + 3, 1))).triples());
        assertFalse(planes(PoolSpec.max(3, 3).stride(2).dilation(1, 2).build()
                .geometry(Shape.of(1, 4, 4 * l, 1))).triples());
    }

    /**
     * Every order of −∞, ±0, 1 and NaN payloads over one window row's three columns, the other row
     * holding each value in all three ({@link VecArgmaxPlanes#triples}, the row under the top padding of
     * a 3×3 s2 window: each row's taps chosen first, then the rows), one window per combination at
     * every even output column (the odd ones share their outer columns), with a padded column on the
     * left and without: the first of equal values and the first NaN must win, as in the scalar bands.
     */
    @Test
    void tripleWindowsEveryRowOrder() {
        int values = VecTestData.ORDER_VALUES;
        int orders = values * values * values * values;
        for (int c0 = -1; c0 <= 0; c0++) {
            int w = 8 * orders + 2 + c0;
            float[] v = new float[2 * w];
            for (int m = 0; m < 2 * orders; m++) {
                int full = m / orders;
                for (int tap = 0; tap < 6; tap++) {
                    int code = m % orders;
                    int digit = tap / 3 == full ? code / (tap % 3 == 0 ? 1 : tap % 3 == 1 ? values : values * values)
                            : code / (values * values * values);
                    int x = 4 * m + c0 + tap % 3;
                    if (x >= 0) {
                        v[(tap / 3) * w + x] = VecTestData.orderValue(digit % values, tap);
                    }
                }
            }
            Shape s = Shape.of(1, 2, w, 1);
            PoolGeometry g = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1, 0, -c0, 0)).build().geometry(s);
            assertTrue(planes(g).triples());
            compare(g, Tensor.of(s, v), IndexForm.of(IndexConvention.ONNX, s), IndexConvention.ONNX,
                    "every row order, column padding " + -c0);
        }
    }

    /**
     * Column padding staged as −∞ ({@link ArgmaxPlanes#padSlots}): padded columns chosen in vectors,
     * and windows of −∞ only led by padding redone one at a time (their first tap inside the input),
     * at both ends of rows, with one to three padded columns each side, at both column strides.
     */
    @Test
    void paddedColumnsInVectors() {
        int l = VecWidth.floats();
        PoolSpec[] specs = {PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(),
            PoolSpec.max(5, 5).stride(1).padding(Padding.of(2)).build(),
            PoolSpec.max(3, 4).stride(1, 2).dilation(1, 2).padding(Padding.of(1, 1, 5, 3)).build(),
            PoolSpec.max(2, 3).stride(2).padding(Padding.of(0, 1, 2, 1)).ceilMode(true).build()};
        int k = 0;
        for (PoolSpec spec : specs) {
            for (int w : new int[] {2 * l + 2, 2 * l + 7}) {
                Shape s = Shape.of(2, 6, w, 1);
                PoolGeometry g = spec.geometry(s);
                Tensor edges = VecArgmaxTest.data(s, 1, 500 + k);
                for (int i = 0; i < s.elementCount(); i++) {
                    int x = i % w;
                    if (x < 3 || x >= w - 3 || i % 7 == 0) {
                        edges.floats().put(i, Float.NEGATIVE_INFINITY);
                    }
                }
                for (Tensor x : new Tensor[] {edges, VecArgmaxTest.data(s, 4, k), VecArgmaxTest.data(s, 0, 600 + k)}) {
                    compare(g, x, IndexForm.of(IndexConvention.PYTORCH, s), IndexConvention.PYTORCH, spec + " on " + s);
                }
                k++;
            }
        }
    }

    @Test
    void otherStridesAndNarrowRowsStayScalar() {
        Shape wide = Shape.of(2, 8, 200, 1);
        PoolGeometry s3 = PoolSpec.max(3, 3).stride(3).build().geometry(wide);
        PoolGeometry s2 = PoolSpec.max(2, 2).stride(2).build().geometry(wide);
        PoolGeometry narrow = PoolSpec.max(2, 2).stride(2).build().geometry(Shape.of(2, 8, 2 * VecWidth.floats() - 2, 1));
        assertFalse(planes(s3).vectors());
        assertTrue(planes(s2).vectors());
        assertFalse(planes(narrow).vectors());
    }

    private static ArgmaxPlanes planes(PoolGeometry g) {
        IndexForm form = IndexForm.of(IndexConvention.PYTORCH, g.input());
        WindowPlan p = new WindowPlan(g);
        return new ArgmaxPlanes(p, form, form.tapOffsets(p.rows.window(), p.cols.window(), p.dh, p.dw));
    }

    private static void compare(PoolGeometry g, Tensor x, IndexForm form, IndexConvention conv, String what) {
        WindowPlan p = new WindowPlan(g);
        int[] offsets = form.tapOffsets(p.rows.window(), p.cols.window(), p.dh, p.dw);
        ArgmaxPlanes scalar = new ArgmaxPlanes(p, form, offsets, false);
        ArgmaxPlanes vector = new ArgmaxPlanes(p, form, offsets, true);
        assertTrue(vector.vectors(), what);
        Tensor want = Tensor.allocate(g.output());
        Tensor got = Tensor.allocate(g.output());
        Indices wantIdx = Indices.allocate(g.output(), conv);
        Indices gotIdx = Indices.allocate(g.output(), conv);
        Scratch sc = Scratch.get();
        for (int b = 0; b < scalar.bands(); b++) {
            scalar.band(CpuArgmax.bits(x), CpuArgmax.bits(want), wantIdx.longs(), b, sc);
        }
        for (int b = 0; b < vector.bands(); b++) {
            vector.vectorBand(CpuArgmax.bits(x), CpuArgmax.bytes(x), got.buffer(), gotIdx.buffer(), b, sc);
        }
        assertArrayEquals(VecArgmaxTest.bits(want), VecArgmaxTest.bits(got), what + ", values");
        assertArrayEquals(wantIdx.toArray(), gotIdx.toArray(), what + ", indices");
    }
}
