package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.Axis;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.testing.NaiveReference;
import dev.clpool.testing.Tolerance;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * {@link VecPlaneMax}'s passes (through {@link PlaneMax} with {@code vector} on) against the
 * scalar passes (off) on the same channels-first planes, bit for bit, and against the reference:
 * random geometries (padding, dilation, strides 1 to 3 and a stride of 4, ceil mode, widths with
 * and without a vector tail), the fused windows of 2 and 4 adjacent columns, rank 3 with a depth
 * window, and data with ties, zeros of both signs,
 * NaN payloads and infinities, all-zero and constant.
 */
class VecPlaneMaxTest {
    @BeforeEach
    void vectorKernels() {
        assumeTrue(VectorSupport.enabled(), "this JVM runs the scalar kernels only");
    }

    @RepeatedTest(20)
    void vecPlaneMax_randomGeometry_bitIdenticalToScalarAndReference(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(7100 + info.getCurrentRepetition());
        PoolSpec spec = VanHerkTest.randomSpec(r, PoolMode.MAX);
        Shape s = shape(r, spec);
        float[] x = data(s.elementCount(), r, info.getCurrentRepetition() % 5);
        Axis[] axes = axes(spec, s);
        float[] vec = max(axes, s.n(), x, true);
        Tolerance.assertBitIdentical(vec, max(axes, s.n(), x, false), spec + " on " + s + " (vector vs scalar)");
        Tolerance.assertExact(vec, NaiveReference.pool(x, s, spec), spec + " on " + s + " (vector vs reference)");
    }

    @Test
    void vecPlaneMax_pooledPairsStrideFourAndRankThree_bitIdenticalToScalar() {
        SplittableRandom r = new SplittableRandom(71);
        for (int kind = 0; kind < 5; kind++) {
            float[] x = data(3 * 5 * 9 * 83, r, kind);
            Axis w4 = new Axis(83, 20, 4, 4, 1, 0, 0);
            Axis[] rank1 = {w4};
            Tolerance.assertBitIdentical(max(rank1, 3 * 5 * 9, x, true), max(rank1, 3 * 5 * 9, x, false), "1-D 4 s4, kind " + kind);
            Axis[] pairs = {new Axis(45, 23, 2, 2, 1, 0, 1), new Axis(83, 41, 2, 2, 1, 0, 0)};
            Tolerance.assertBitIdentical(max(pairs, 3, x, true), max(pairs, 3, x, false), "2x2 s2, kind " + kind);
            Axis[] fours = {new Axis(45, 23, 2, 2, 1, 0, 1), w4};
            Tolerance.assertBitIdentical(max(fours, 3, x, true), max(fours, 3, x, false), "2x4 s(2,4), kind " + kind);
            Axis[] rank3 = {new Axis(5, 3, 3, 2, 1, 1, 1), new Axis(9, 4, 3, 2, 1, 0, 1), new Axis(83, 41, 3, 2, 1, 1, 0)};
            Tolerance.assertBitIdentical(max(rank3, 3, x, true), max(rank3, 3, x, false), "3-D 3x3x3 s2, kind " + kind);
        }
    }

    /**
     * One input row per output row, read from the tensor and reduced by the rule in lanes
     * ({@link VecPlaneMax#pooledRow}): long rows, a last vector overlapping the one before, several
     * rows per band (a window of one row in H), every data kind.
     */
    @Test
    void vecPlaneMax_chunkedRows_bitIdenticalToScalar() {
        SplittableRandom r = new SplittableRandom(72);
        for (int kind = 0; kind < 5; kind++) {
            float[] x = data(3 * 2069, r, kind);
            Axis[] four = {new Axis(2069, 517, 4, 4, 1, 0, 0)};
            Tolerance.assertBitIdentical(max(four, 3, x, true), max(four, 3, x, false), "1-D 4 s4 over 2069, kind " + kind);
            Axis[] two = {new Axis(2069, 1034, 2, 2, 1, 0, 0)};
            Tolerance.assertBitIdentical(max(two, 3, x, true), max(two, 3, x, false), "1-D 2 s2 over 2069, kind " + kind);
            Axis[] rows = {new Axis(9, 5, 1, 2, 1, 0, 0), new Axis(83, 41, 2, 2, 1, 0, 0)};
            Tolerance.assertBitIdentical(max(rows, 6, x, true), max(rows, 6, x, false), "1x2 s2 over 9x83, kind " + kind);
        }
        // A −0 in the first row of a band only: the fix-up's scan must see every row the band staged.
        float[] y = new float[6 * 9 * 83];
        Arrays.fill(y, 0.5f);
        y[9 * 83] = -0f;
        y[9 * 83 + 1] = 0f;
        Axis[] rows = {new Axis(9, 5, 1, 2, 1, 0, 0), new Axis(83, 41, 2, 2, 1, 0, 0)};
        Tolerance.assertBitIdentical(max(rows, 6, y, true), max(rows, 6, y, false), "a -0 in a band's first row");
    }

    /**
     * The rule in lanes of {@link VecPlaneMax#pooledRow} on windows built to tell it from
     * {@code Math.max} and from another order: −0 before +0 and +0 before −0, NaN payloads after and
     * before other values, −∞ only, ties, at every lane of 2 and 4 s4 rows (the last vector overlapping
     * the one before, a tail no window reads). Run often enough for C2 to compile the kernel (its float
     * shuffles keep NaN payloads there; the interpreter's fallback does not, and its NaN results are
     * redone by the rule).
     */
    @Test
    void vecPlaneMax_oneRowRule_firstZeroFirstNaNEveryLane() {
        float nan1 = Float.intBitsToFloat(0x7fc00001);
        float nan2 = Float.intBitsToFloat(0xffc00002);
        // Plane 0 without a NaN or +∞ (a NaN result, or a sum of results +∞ - ∞, has its band's zero and NaN results
        // redone by the scalar rule), plane 1 with.
        float[][] windows = {{-0f, 0f, -0f, 0f}, {0f, -0f, -0f, -0f}, {-3f, -0f, 0f, -1f}, {-1f, -1f, -0f, 0f},
            {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY},
            {7f, 3f, 7f, 6f}, {1f, nan1, nan2, Float.POSITIVE_INFINITY}, {nan2, 5f, nan1, 0f}, {2f, 2f, 2f, nan1}};
        for (int stride : new int[] {2, 4}) {
            int ow = 3 * VecWidth.floats() + 5;
            int iw = ow * stride + stride - 1;
            float[] x = new float[2 * iw];
            for (int i = 0; i < x.length; i++) {
                int o = i % iw / stride;
                float[] w = windows[i < iw ? o % 6 : o % 9];
                x[i] = i % iw >= ow * stride ? nan1 : w[(i % iw % stride + (stride == 2 ? o / 6 % 2 * 2 : 0)) % 4];
            }
            Axis[] axis = {new Axis(iw, ow, stride, stride, 1, 0, 0)};
            Shape s = Shape.of(2, 1, iw, 1);
            PoolSpec spec = PoolSpec.max(1, stride).stride(1, stride).build();
            for (int call = 0; call < 3000; call++) {
                float[] got = max(axis, 2, x, true);
                if (call % 1000 == 0 || call == 2999) {
                    Tolerance.assertBitIdentical(got, max(axis, 2, x, false), "1-D " + stride + " s" + stride + ", call " + call);
                    Tolerance.assertExact(got, NaiveReference.pool(x, s, spec), "the reference, call " + call);
                }
            }
        }
    }

    /**
     * Windows of 2 or 4 adjacent columns read straight from the tensor's bytes
     * ({@link VecPlaneMax#pooled}), whose buffer ends at the input's last float: 2×2 s2 over an odd
     * height in ceil mode (the last window one row tall), 2×4 s(2,4), 1-D 2 s2, each last window
     * ending its row; every data kind; then a −0 and a NaN payload that only the exact rule puts
     * first (the fix-up must scan input it stages for that alone), in a band after one without.
     */
    @Test
    void vecPlaneMax_windowsReadFromTheTensor_bitIdenticalToScalarAndReference() {
        SplittableRandom r = new SplittableRandom(73);
        Axis h = new Axis(7, 4, 2, 2, 1, 0, 1);
        Axis[][] geometries = {{h, new Axis(68, 17, 4, 4, 1, 0, 0)}, {h, new Axis(34, 17, 2, 2, 1, 0, 0)},
            {new Axis(34, 17, 2, 2, 1, 0, 0)}};
        int[] planes = {5, 10, 70};
        for (int kind = 0; kind < 5; kind++) {
            float[] x = data(5 * 7 * 68, r, kind);
            for (int g = 0; g < geometries.length; g++) {
                Tolerance.assertBitIdentical(max(geometries[g], planes[g], x, true), max(geometries[g], planes[g], x, false),
                        "geometry " + g + ", kind " + kind);
            }
        }
        float[] y = new float[2 * 7 * 34];
        Arrays.fill(y, -1f);
        int second = 7 * 34;                              // plane 1, after plane 0's band with no zero result
        y[second] = -0f;                                  // the exact rule keeps the first zero: −0
        y[second + 34] = 0f;
        y[second + 2] = Float.intBitsToFloat(0x7fc00001); // the first NaN in scan order
        y[second + 34 + 3] = Float.intBitsToFloat(0xffc00002);
        y[second + 34 + 4] = Float.NEGATIVE_INFINITY;
        Axis[] pairs = {h, new Axis(34, 17, 2, 2, 1, 0, 0)};
        Shape s = Shape.of(2, 7, 34, 1);
        PoolSpec spec = PoolSpec.max(2, 2).stride(2).ceilMode(true).build();
        float[] got = max(pairs, 2, y, true);
        Tolerance.assertBitIdentical(got, max(pairs, 2, y, false), "-0 and NaN payloads in a window's two rows");
        Tolerance.assertExact(got, NaiveReference.pool(y, s, spec), "-0 and NaN payloads against the reference");
        assertTrue(Float.floatToRawIntBits(got[4 * 17]) == 0x80000000 && Float.floatToRawIntBits(got[4 * 17 + 1]) == 0x7fc00001,
                "-0 and the first NaN's payload kept");

        // A −0 before a +0 and two NaNs in a window's second row only (the scan reads both rows).
        float[] z = new float[2 * 7 * 34];
        Arrays.fill(z, -1f);
        z[second + 34] = -0f;
        z[second + 34 + 1] = 0f;
        z[second + 34 + 2] = Float.intBitsToFloat(0xffc00010);
        z[second + 34 + 3] = Float.intBitsToFloat(0x7fc00020);
        float[] zGot = max(pairs, 2, z, true);
        Tolerance.assertBitIdentical(zGot, max(pairs, 2, z, false), "-0 and NaN payloads in a window's second row");
        Tolerance.assertExact(zGot, NaiveReference.pool(z, s, spec), "-0 and NaNs in the second row against the reference");
        assertTrue(Float.floatToRawIntBits(zGot[4 * 17]) == 0x80000000, "the second row's first zero kept: -0");
    }

    @Test
    void minusZeroOrNaN_seesOnlyMinusZeroAndNaN() {
        float[] v = new float[100];
        for (int i = 0; i < 20000; i++) {       // compiled, not only interpreted
            assertFalse(VecPlaneMax.minusZeroOrNaN(v, v.length), "+0");
        }
        v[37] = Float.NEGATIVE_INFINITY;
        v[38] = Float.MIN_VALUE;
        assertFalse(VecPlaneMax.minusZeroOrNaN(v, v.length), "-inf and a subnormal");
        float[] big = new float[40 * VecWidth.floats() + 3];   // blocks of 32 vectors: the second block, its last vector, the tail
        big[7] = Float.POSITIVE_INFINITY;
        assertFalse(VecPlaneMax.minusZeroOrNaN(big, big.length), "+0 and +inf over several blocks");
        for (int at : new int[] {32 * VecWidth.floats() + 1, 40 * VecWidth.floats() - 1, big.length - 1}) {
            for (float bad : new float[] {-0f, Float.intBitsToFloat(0x7f800001), Float.intBitsToFloat(0xffc00001)}) {
                float[] w = big.clone();
                w[at] = bad;
                assertTrue(VecPlaneMax.minusZeroOrNaN(w, w.length), bad + " at " + at + " of " + w.length);
                assertFalse(VecPlaneMax.minusZeroOrNaN(w, at), bad + " past the end");
            }
        }
        for (int at : new int[] {5, 99}) {      // in a vector and in the tail
            for (float bad : new float[] {-0f, Float.NaN, Float.intBitsToFloat(0xffc00001)}) {
                float[] w = v.clone();
                w[at] = bad;
                assertTrue(VecPlaneMax.minusZeroOrNaN(w, w.length), bad + " at " + at);
                assertFalse(VecPlaneMax.minusZeroOrNaN(w, at), bad + " past the end");
            }
        }
    }

    /** An input at least one effective window tall and one float vector (and one window) wide. */
    static Shape shape(SplittableRandom r, PoolSpec spec) {
        int eh = (spec.windowH() - 1) * spec.dilationH() + 1;
        int ew = (spec.windowW() - 1) * spec.dilationW() + 1;
        return Shape.of(1 + r.nextInt(3), eh + r.nextInt(6), Math.max(ew, VecWidth.floats()) + r.nextInt(40), 1);
    }

    /** The spec's (H, W) axes on planes of {@code s} (channels-first planes seen as one channel). */
    static Axis[] axes(PoolSpec spec, Shape s) {
        var g = spec.geometry(s);
        return new Axis[] {g.rows(), g.cols()};
    }

    /**
     * Kind 0: uniform; 1: small integers (ties, zeros of both signs); 2: with NaN payloads and
     * infinities; 3: all +0 or −0; 4: constant.
     */
    static float[] data(long count, SplittableRandom r, int kind) {
        float[] v = new float[Math.toIntExact(count)];
        float z = r.nextBoolean() ? 0f : -0f;
        for (int i = 0; i < v.length; i++) {
            int k = r.nextInt(40);
            switch (kind) {
                case 1: v[i] = k % 5 == 0 ? (k % 2 == 0 ? 0f : -0f) : k % 5 - 3; break;
                case 2:
                    v[i] = k == 0 ? Float.intBitsToFloat(0x7fc00000 | r.nextInt(1 << 22))
                            : k == 1 ? Float.NEGATIVE_INFINITY : k < 8 ? (k % 2 == 0 ? 0f : -0f) : (float) r.nextDouble(-1, 1);
                    break;
                case 3: v[i] = z; break;
                case 4: v[i] = 0.75f; break;
                default: v[i] = (float) r.nextDouble(-1, 1);
            }
        }
        return v;
    }

    static float[] max(Axis[] axes, int planes, float[] x, boolean vector) {
        PlanePlan p = new PlanePlan(planes, axes);
        float[] y = new float[Math.toIntExact(planes * p.outPlane)];
        Arrays.fill(y, Float.NaN);
        ByteBuffer raw = ChannelsFirstPoolTest.direct(x);     // exactly the input's bytes: a load past its end throws
        ByteBuffer rawOut = ChannelsFirstPoolTest.direct(y);  // and the output's: a store past its end throws
        FloatBuffer out = rawOut.asFloatBuffer();
        new PlaneMax(p, vector).run(raw, rawOut, raw.asFloatBuffer(), out, 0, p.bands(), Scratch.get());
        out.get(0, y);
        return y;
    }

    /** The test the window kernels' zero paths call ({@link MaxExact}): with the Vector API on, {@link VecPlaneMax#minusZeroOrNaN}. */
    @Test
    void maxExactsTest_withVectors_findsExactlyEachMinusZeroAndNaN() {
        SplittableRandom r = new SplittableRandom(4411);
        float[] odd = {-0.0f, Float.NaN, Float.intBitsToFloat(0xffc00001), Float.intBitsToFloat(0x7f800001)};
        float[] plain = {0f, 1e-45f, -1e-45f, -2f, 3f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -Float.MAX_VALUE};
        for (int len = 0; len <= 70; len++) {
            float[] a = new float[len + 3];
            for (int i = 0; i < a.length; i++) {
                a[i] = plain[r.nextInt(plain.length)];
            }
            // Past len: never looked at.
            a[len] = -0.0f;
            assertFalse(MaxExact.holdsNegativeZeroOrNaN(a, len), "len " + len + " " + Arrays.toString(a));
            for (int at = 0; at < len; at++) {
                float[] b = a.clone();
                b[at] = odd[r.nextInt(odd.length)];
                String what = "len " + len + ", at " + at + ": " + Arrays.toString(b);
                assertTrue(MaxExact.holdsNegativeZeroOrNaN(b, len), what);
                assertTrue(MaxExact.byDivision(b, len), what);
            }
        }
    }
}
