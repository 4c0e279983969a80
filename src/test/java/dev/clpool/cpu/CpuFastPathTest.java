package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.Padding;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.NaiveReference;
import dev.clpool.testing.Tolerance;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The parts of the CPU fast path the small random sweep does not reach: several threads and ranges,
 * rows split into column blocks, a ring of staged rows too small for the window, and data where
 * {@code Math.max} and clpool's max rule differ (windows whose maximum is a signed zero, NaNs with
 * distinct payloads) — the case the fast path's exact fix-up exists for.
 */
class CpuFastPathTest {
    private static CpuBackend cpu;

    @BeforeAll
    static void open() {
        cpu = new CpuBackend(3);
    }

    @AfterAll
    static void close() {
        cpu.close();
    }

    /**
     * Mostly negative values and zeros of both signs, so that many windows have a zero maximum;
     * with {@code nan}, about one value in a hundred is a NaN with its own payload.
     */
    static Tensor zerosAndNans(Shape s, long seed, boolean nan) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            int k = r.nextInt(100);
            if (nan && k == 0) {
                v[i] = Float.intBitsToFloat(0x7fc00000 | r.nextInt(1 << 22));
            } else if (k < 25) {
                v[i] = 0.0f;
            } else if (k < 50) {
                v[i] = -0.0f;
            } else if (k < 53) {
                v[i] = (float) r.nextDouble() * 8;
            } else {
                v[i] = (float) -r.nextDouble() * 8;
            }
        }
        return Tensor.of(s, v);
    }

    record Case(String name, Shape shape, PoolSpec spec, boolean nan) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        PoolSpec max2 = PoolSpec.max(2, 2).stride(2).build();
        PoolSpec max3 = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
        PoolSpec max3s1 = PoolSpec.max(3, 3).stride(1).padding(Padding.of(1)).build();
        PoolSpec avg3 = PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).build();
        PoolSpec avg3incl = PoolSpec.avg(3, 3).stride(2).padding(Padding.of(1)).countIncludePad(true).ceilMode(true).build();
        PoolSpec dilated = PoolSpec.max(5, 4).stride(1, 3).dilation(2, 3).padding(Padding.of(2, 3, 4, 1)).build();
        PoolSpec dilatedAvg = PoolSpec.avg(5, 4).stride(2, 1).dilation(2, 2).padding(Padding.SAME).build();
        return Stream.of(
                new Case("max 2x2 s2, two column blocks", Shape.of(2, 12, 700, 70), max2, true),
                new Case("max 2x2 s2, zeros only", Shape.of(1, 8, 64, 16), max2, false),
                new Case("max 3x3 s2 p1, many rows", Shape.of(3, 41, 37, 64), max3, true),
                new Case("max 3x3 s1 p1, column blocks", Shape.of(1, 9, 600, 64), max3s1, true),
                new Case("max dilated, ring smaller than the window", Shape.of(1, 30, 300, 64), dilated, true),
                new Case("max dilated, odd channels", Shape.of(2, 19, 23, 3), dilated, true),
                new Case("avg 3x3 s1 p1, column blocks", Shape.of(2, 10, 600, 64), avg3, true),
                new Case("avg 3x3 s2 include pad ceil", Shape.of(2, 33, 31, 17), avg3incl, true),
                new Case("avg dilated same, ring smaller than the window", Shape.of(1, 30, 300, 64), dilatedAvg, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void fastPath_matchesNaiveReference(Case c) {
        Tensor x = zerosAndNans(c.shape(), c.name().hashCode(), c.nan());
        Tensor y = Tensor.allocate(c.spec().outputShape(c.shape()));
        cpu.pool(c.spec().geometry(c.shape()), x, y);
        double[] want = NaiveReference.pool(x.toArray(), c.shape(), c.spec());
        if (c.spec().mode() == PoolMode.MAX) {
            Tolerance.assertExact(y.toArray(), want, c.name());
        } else {
            Tolerance.assertClose(y.toArray(), want, c.name());
        }
    }

    static Stream<PoolSpec> maxSpecs() {
        return Stream.of(PoolSpec.max(2, 2).stride(2).build(), PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(),
                PoolSpec.max(3, 3).stride(1).padding(Padding.of(1)).build(),
                PoolSpec.max(13, 13).stride(1).padding(Padding.of(6)).build(),
                PoolSpec.max(5, 4).stride(1, 3).dilation(2, 3).padding(Padding.of(2, 3, 4, 1)).build());
    }

    /**
     * Positive values in 63 channels and signed zeros, negatives and NaN payloads in one: rows whose
     * zero or NaN results are few among many (as after a ReLU), which the fix-up takes window by
     * window without testing the input rows ({@link MaxExact#FEW}), on every max path.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("maxSpecs")
    void maxPool_fewZeroOrNanWindowsPerRow_matchNaiveReference(PoolSpec spec) {
        Shape s = Shape.of(2, 13, 50, 64);
        float[] odd = zerosAndNans(s, 11, true).toArray();
        float[] v = new float[odd.length];
        SplittableRandom r = new SplittableRandom(12);
        for (int i = 0; i < v.length; i++) {
            v[i] = i % 64 == 5 ? odd[i] : (float) r.nextDouble() * 4 + Float.MIN_NORMAL;
        }
        Tensor x = Tensor.of(s, v);
        Tensor y = Tensor.allocate(spec.outputShape(s));
        cpu.pool(spec.geometry(s), x, y);
        Tolerance.assertExact(y.toArray(), NaiveReference.pool(v, s, spec), spec.toString());
    }

    @Test
    void holdsNegativeZeroOrNaN_skipsNoMinusZeroNorNaN() {
        float[] relu = {0f, 3f, 0f, 1e-45f, Float.POSITIVE_INFINITY};
        assertEquals(false, MaxExact.holdsNegativeZeroOrNaN(relu, relu.length));
        assertEquals(false, MaxExact.holdsNegativeZeroOrNaN(new float[] {-2f, 0f, -1e-30f}, 3));
        assertEquals(false, MaxExact.holdsNegativeZeroOrNaN(relu, 0));
        for (float odd : new float[] {-0f, Float.NaN, Float.intBitsToFloat(0xffc00001)}) {
            for (float[] rest : new float[][] {{0f, 2f, 0f}, {-3f, 0f, 5f}, {7f, 8f, 9f}}) {
                for (int at = 0; at <= rest.length; at++) {
                    float[] a = new float[rest.length + 1];
                    for (int i = 0, j = 0; i < a.length; i++) {
                        a[i] = i == at ? odd : rest[j++];
                    }
                    assertEquals(true, MaxExact.holdsNegativeZeroOrNaN(a, a.length), java.util.Arrays.toString(a));
                }
            }
        }
    }

    @Test
    void maxPool_zeroWindows_keepTheSignOfTheFirstZero() {
        // Row 0: -0, +0; row 1: +0, -0. Scan order gives -0 (the first zero), Math.max would give +0.
        Tensor x = Tensor.of(Shape.of(1, 2, 2, 1), -0.0f, 0.0f, 0.0f, -0.0f);
        Tensor y = Tensor.allocate(Shape.of(1, 1, 1, 1));
        cpu.pool(PoolSpec.max(2, 2).build().geometry(x.shape()), x, y);
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(y.toArray()[0]));
    }

    /**
     * Global max over planes split into several runs, where a zero maximum is kept as +0 without
     * a rescan only if no run holding a zero of that item holds a −0 or NaN: channel 0 all +0
     * (item 0) or all +0 and ReLU'd values (item 1); channel 1 +0 first and a −0 later; channel 2
     * −0 first; channel 3 +0 with a −0 in the last pixel only; channel 4 negative with one −0 in
     * the middle; channel 5 +0 with a NaN in the last pixel.
     */
    @Test
    void globalMax_zeroMaxima_signAndNanAcrossRuns() {
        Shape s = Shape.of(2, 120, 90, 6);
        int hw = 120 * 90;
        float[] v = new float[Math.toIntExact(s.elementCount())];
        SplittableRandom r = new SplittableRandom(5);
        for (int n = 0; n < 2; n++) {
            for (int p = 0; p < hw; p++) {
                int o = (n * hw + p) * 6;
                v[o] = n == 1 && r.nextBoolean() ? (float) r.nextDouble() : 0f;
                v[o + 1] = p == hw / 2 ? -0f : 0f;
                v[o + 2] = p == 0 ? -0f : 0f;
                v[o + 3] = p == hw - 1 ? -0f : 0f;
                v[o + 4] = p == hw / 3 ? -0f : (float) -r.nextDouble() - 1;
                v[o + 5] = p == hw - 1 ? Float.intBitsToFloat(0x7fc01234) : 0f;
            }
        }
        Tensor x = Tensor.of(s, v);
        Tensor y = Tensor.allocate(Shape.of(2, 1, 1, 6));
        cpu.global(PoolMode.MAX, x, y);
        Tolerance.assertExact(y.toArray(), NaiveReference.global(v, s, PoolMode.MAX), "global max " + s);
        float[] got = y.toArray();
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(got[2]), "channel 2: the first zero is -0");
        assertEquals(0, Float.floatToRawIntBits(got[3]), "channel 3: the first zero is +0");
        assertEquals(0x7fc01234, Float.floatToRawIntBits(got[5]), "channel 5: the NaN");
    }

    @ParameterizedTest(name = "global {0}")
    @MethodSource("globalShapes")
    void global_zerosAndNans_matchNaiveReference(Shape s) {
        for (boolean nan : new boolean[] {false, true}) {
            Tensor x = zerosAndNans(s, s.hashCode() + (nan ? 1 : 0), nan);
            for (PoolMode m : new PoolMode[] {PoolMode.MAX, PoolMode.AVG}) {
                Tensor y = Tensor.allocate(Shape.of(s.n(), 1, 1, s.c()));
                cpu.global(m, x, y);
                double[] want = NaiveReference.global(x.toArray(), s, m);
                if (m == PoolMode.MAX) {
                    Tolerance.assertExact(y.toArray(), want, "global max " + s);
                } else {
                    Tolerance.assertClose(y.toArray(), want, "global avg " + s);
                }
            }
        }
    }

    static Stream<Shape> globalShapes() {
        return Stream.of(Shape.of(1, 200, 150, 7), Shape.of(5, 7, 7, 300), Shape.of(2, 1, 1, 3));
    }
}
