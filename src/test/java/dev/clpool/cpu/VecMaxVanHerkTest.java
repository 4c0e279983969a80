package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
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
 * {@link VecMaxVanHerk} (through {@link MaxVanHerk#run(Tensor, Tensor, int, int, Scratch)}) against
 * the scalar van Herk path and the naive reference, bit for bit: stride-1 windows of up to 15 taps
 * with any padding and rounding mode (so windows that are one block, two blocks, and padded ones), on
 * signed zeros with NaNs of distinct payloads and signs, ±∞, ties, rows with and without a NaN.
 */
class VecMaxVanHerkTest {
    @BeforeEach
    void vectorKernels() {
        assumeTrue(VectorSupport.enabled(), "this JVM runs the scalar kernels only");
    }

    @RepeatedTest(30)
    void lanes_randomGeometry_bitIdenticalToScalarAndReference(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        SplittableRandom r = new SplittableRandom(7300 + rep);
        int kh = 1 + r.nextInt(15);
        int kw = 1 + r.nextInt(15);
        if (kh <= MaxVanHerk.DOUBLING_MAX_WINDOW && kw <= MaxVanHerk.DOUBLING_MAX_WINDOW) {
            kw = MaxVanHerk.DOUBLING_MAX_WINDOW + 1 + r.nextInt(8);
        }
        PoolSpec spec = PoolSpec.builder(PoolMode.MAX).window(kh, kw).stride(1)
                .padding(Padding.of(r.nextInt(kh), r.nextInt(kh), r.nextInt(kw), r.nextInt(kw)))
                .ceilMode(r.nextBoolean()).build();
        Shape s = Shape.of(1 + r.nextInt(2), kh + r.nextInt(9), kw + r.nextInt(9), VecMaxDoubling.lanes() * (1 + r.nextInt(3)));
        Tensor x = data(s, rep % 5, r);
        check(spec, s, x, spec + " on " + s + " data " + rep % 5);
    }

    @Test
    void lanes_sppNineAndThirteen_everyKindOfData_bitIdenticalToScalarAndReference() {
        Shape s = Shape.of(2, 19, 19, 2 * VecMaxDoubling.lanes());
        for (int k : new int[] {9, 13}) {
            for (int kind = 0; kind < 5; kind++) {
                check(spp(k), s, data(s, kind, new SplittableRandom(k * 10 + kind)), "spp " + k + " data " + kind);
            }
        }
        // Narrower and shorter than the window: windows clamped at both ends, one block on each axis.
        Shape small = Shape.of(1, 8, 10, VecMaxDoubling.lanes());
        for (int kind = 0; kind < 5; kind++) {
            check(spp(13), small, data(small, kind, new SplittableRandom(200 + kind)), "13x13 on 8x10, data " + kind);
        }
    }

    @Test
    void lanes_bandsSplitDownTheRows_bitIdenticalToScalarAndReference() {
        // 16 columns of 512 channels: a band holds LANES_FLOATS / 8192 rows of results, so 4 output rows more
        // than that of 9x9 take two bands.
        Shape s = Shape.of(1, MaxVanHerk.LANES_FLOATS / (16 * 512) + 4, 16, 512);
        // Against the scalar path only (itself held to the reference above): the reference took seconds here.
        check(spp(9), s, data(s, 2, new SplittableRandom(6)), "two bands, ties, signed zeros, a NaN row", false);
    }

    @Test
    void inLanes_widerWindows_strideAndDilationOne_wholeVectorsOfChannels() {
        assertTrue(new MaxVanHerk(spp(9).geometry(Shape.of(8, 19, 19, 512))).inLanes(), "yolov4-spp max9");
        assertTrue(new MaxVanHerk(spp(13).geometry(Shape.of(8, 19, 19, 512))).inLanes(), "yolov4-spp max13");
        assertFalse(new MaxVanHerk(PoolSpec.max(9, 9).stride(2).padding(Padding.of(4)).build()
                .geometry(Shape.of(1, 56, 56, 512))).inLanes(), "stride 2: slower in lanes");
        assertFalse(new MaxVanHerk(spp(5).geometry(Shape.of(8, 19, 19, 512))).inLanes(), "max5 doubles");
        assertFalse(new MaxVanHerk(spp(13).geometry(Shape.of(8, 19, 19, VecMaxDoubling.lanes() + 8))).inLanes(),
                "a partial vector of channels");
        assertFalse(new MaxVanHerk(spp(13).geometry(Shape.of(1, 19, 2000, 512))).inLanes(), "rows too wide");
        assertFalse(new MaxVanHerk(PoolSpec.max(9, 9).stride(1).dilation(2).padding(Padding.of(8)).build()
                .geometry(Shape.of(1, 19, 19, 512))).inLanes(), "dilation 2");
    }

    private static PoolSpec spp(int k) {
        return PoolSpec.max(k, k).stride(1).padding(Padding.of(k / 2)).build();
    }

    /**
     * Kind 0: signed zeros with NaNs of distinct payloads; 1: signed zeros; 2: ties (small
     * integers, zeros of both signs) with NaNs of both signs in one input row; 3: ±∞, ±0, NaNs of
     * both signs; 4: random values with 1% NaNs.
     */
    private static Tensor data(Shape s, int kind, SplittableRandom r) {
        if (kind < 2) {
            return CpuFastPathTest.zerosAndNans(s, r.nextLong(), kind == 0);
        }
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            int q = r.nextInt(100);
            if (kind == 2) {
                int k = r.nextInt(4) - 2;
                v[i] = k == 0 && r.nextBoolean() ? -0.0f : k;
            } else if (kind == 3) {
                v[i] = q < 5 ? nan(r) : q < 25 ? Float.NEGATIVE_INFINITY : q < 35 ? Float.POSITIVE_INFINITY
                        : q < 65 ? -0.0f : 0.0f;
            } else {
                v[i] = q == 0 ? nan(r) : (float) (r.nextDouble() * 8 - 4);
            }
        }
        if (kind == 2) {
            int y = r.nextInt(s.h());
            for (int n = 0; n < s.n(); n++) {
                for (int x = 0; x < s.w(); x += 2) {
                    for (int ch = r.nextInt(3); ch < s.c(); ch += 3) {
                        v[Math.toIntExact(s.offset(n, y, x, ch))] = nan(r);
                    }
                }
            }
        }
        return Tensor.of(s, v);
    }

    private static float nan(SplittableRandom r) {
        return Float.intBitsToFloat((r.nextBoolean() ? 0xffc00000 : 0x7fc00000) | r.nextInt(1 << 22));
    }

    private static void check(PoolSpec spec, Shape s, Tensor x, String what) {
        check(spec, s, x, what, true);
    }

    private static void check(PoolSpec spec, Shape s, Tensor x, String what, boolean reference) {
        PoolGeometry g = spec.geometry(s);
        MaxVanHerk v = new MaxVanHerk(g);
        assertTrue(v.inLanes(), what + ": runs VecMaxVanHerk");
        Tensor vec = againstScalar(v, g, x, what);
        if (reference) {
            Tolerance.assertExact(vec.toArray(), NaiveReference.pool(x.toArray(), s, spec), what + " (vector vs reference)");
        }
    }

    /**
     * {@code v}'s lane form (in two ranges of output rows, the first ending inside a batch item,
     * as the backend's chunks may) against its scalar passes, bit for bit; returns the lane form's
     * output. {@link VecMaxDoublingTest} checks its kernel the same way.
     */
    static Tensor againstScalar(MaxVanHerk v, PoolGeometry g, Tensor x, String what) {
        int rows = g.output().n() * g.output().h();
        Tensor scalar = Tensor.allocate(g.output());
        v.run(x.floats(), scalar.floats(), 0, rows, Scratch.get());
        Tensor vec = Tensor.allocate(g.output());
        int cut = rows / 2 + 1;
        v.run(x, vec, 0, Math.min(cut, rows), Scratch.get());
        v.run(x, vec, Math.min(cut, rows), rows, Scratch.get());
        Tolerance.assertBitIdentical(vec.toArray(), scalar.toArray(), what + " (vector vs scalar)");
        return vec;
    }
}
