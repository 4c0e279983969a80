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
 * {@link VecMaxDoubling} (through {@link MaxVanHerk#run(Tensor, Tensor, int, int, Scratch)}) against
 * the scalar van Herk path and the naive reference, bit for bit: stride-1 windows of 1 to 7 taps
 * with any padding and either rounding mode (border windows of every length, so every doubling
 * level), on signed zeros with NaNs of distinct payloads, ties, rows with and without a NaN.
 */
class VecMaxDoublingTest {
    @BeforeEach
    void vectorKernels() {
        assumeTrue(VectorSupport.enabled(), "this JVM runs the scalar kernels only");
    }

    @RepeatedTest(30)
    void doubling_randomStrideOneGeometry_bitIdenticalToScalarAndReference(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        SplittableRandom r = new SplittableRandom(9100 + rep);
        int kh = 1 + r.nextInt(MaxVanHerk.DOUBLING_MAX_WINDOW);
        int kw = 1 + r.nextInt(MaxVanHerk.DOUBLING_MAX_WINDOW);
        PoolSpec spec = PoolSpec.builder(PoolMode.MAX).window(kh, kw).stride(1)
                .padding(Padding.of(r.nextInt(kh), r.nextInt(kh), r.nextInt(kw), r.nextInt(kw)))
                .ceilMode(r.nextBoolean()).build();
        Shape s = Shape.of(1 + r.nextInt(2), kh + r.nextInt(8), kw + r.nextInt(8), VecMaxDoubling.lanes() * (1 + r.nextInt(4)));
        int kind = rep % 4;
        Tensor x = kind < 2 ? CpuFastPathTest.zerosAndNans(s, rep, kind == 0) : kind == 2 ? ties(s, r) : oneNaNRow(s, r);
        check(spec, s, x, spec + " on " + s + " data " + kind);
    }

    @Test
    void doubling_sppFiveByFive_signedZerosAndNans_bitIdenticalToScalarAndReference() {
        Shape s = Shape.of(2, 19, 19, 64);
        PoolSpec spec = PoolSpec.max(5, 5).stride(1).padding(Padding.of(2)).build();
        check(spec, s, CpuFastPathTest.zerosAndNans(s, 77, true), "zeros and NaNs");
        check(spec, s, CpuFastPathTest.zerosAndNans(s, 78, false), "signed zeros");
        check(spec, s, oneNaNRow(s, new SplittableRandom(79)), "one NaN row");
    }

    @Test
    void doubles_sppWindowsOfUpToSeven_strideOne_wholeVectorsOfChannels() {
        assertTrue(new MaxVanHerk(spp(5).geometry(Shape.of(8, 19, 19, 512))).doubles(), "yolov4-spp max5");
        assertTrue(new MaxVanHerk(spp(5).geometry(Shape.of(8, 20, 20, 512))).doubles(), "yolov5-sppf max5");
        assertFalse(new MaxVanHerk(spp(9).geometry(Shape.of(8, 19, 19, 512))).doubles(), "max9: a fourth level");
        assertFalse(new MaxVanHerk(spp(13).geometry(Shape.of(8, 19, 19, 512))).doubles(), "max13");
        assertFalse(new MaxVanHerk(spp(5).geometry(Shape.of(8, 19, 19, VecMaxDoubling.lanes() + 8))).doubles(),
                "a partial vector of channels");
        assertFalse(new MaxVanHerk(PoolSpec.max(5, 5).stride(2).padding(Padding.of(2)).build()
                .geometry(Shape.of(1, 19, 19, 512))).doubles(), "stride 2");
    }

    private static PoolSpec spp(int k) {
        return PoolSpec.max(k, k).stride(1).padding(Padding.of(k / 2)).build();
    }

    /** Small integers: many equal maxima in a window, among them zeros of both signs. */
    private static Tensor ties(Shape s, SplittableRandom r) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            int k = r.nextInt(4) - 2;
            v[i] = k == 0 && r.nextBoolean() ? -0.0f : k;
        }
        return Tensor.of(s, v);
    }

    /** Ties everywhere and one input row holding NaNs of distinct payloads (the other rows take the two-operation rule). */
    private static Tensor oneNaNRow(Shape s, SplittableRandom r) {
        float[] v = ties(s, r).toArray();
        int y = r.nextInt(s.h());
        for (int n = 0; n < s.n(); n++) {
            for (int x = 0; x < s.w(); x += 2) {
                for (int ch = r.nextInt(3); ch < s.c(); ch += 3) {
                    v[Math.toIntExact(s.offset(n, y, x, ch))] = Float.intBitsToFloat(0x7fc00000 | r.nextInt(1 << 22));
                }
            }
        }
        return Tensor.of(s, v);
    }

    private static void check(PoolSpec spec, Shape s, Tensor x, String what) {
        PoolGeometry g = spec.geometry(s);
        MaxVanHerk v = new MaxVanHerk(g);
        assertTrue(v.doubles(), what + ": runs VecMaxDoubling");
        Tensor vec = VecMaxVanHerkTest.againstScalar(v, g, x, what);
        Tolerance.assertExact(vec.toArray(), NaiveReference.pool(x.toArray(), s, spec), what + " (vector vs reference)");
    }
}
