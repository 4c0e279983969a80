package dev.clpool.cpu;

import static dev.clpool.testing.Ramps.ramp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.BackendChoice;
import dev.clpool.InvalidSpecException;
import dev.clpool.PoolMode;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.AdaptiveCases;
import dev.clpool.testing.NaiveAdaptive;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.Tolerance;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Adaptive avg and max on the CPU path: hand-checked values, validation, and a seeded sweep against NaiveAdaptive. */
class CpuAdaptiveTest {
    private static PoolingEngine engine;

    @BeforeAll
    static void open() {
        engine = PoolingEngine.builder().backend(BackendChoice.CPU).build();
    }

    @AfterAll
    static void close() {
        engine.close();
    }


    @Test
    void regions_5to3_are_0to1_1to3_3to4() {
        // floor(i*5/3) .. ceil((i+1)*5/3)-1: [0,1], [1,3], [3,4]: neighbouring regions overlap.
        int[][] want = {{0, 2}, {1, 4}, {3, 5}};
        for (int i = 0; i < 3; i++) {
            assertEquals(want[i][0], AdaptiveGeometry.start(i, 5, 3), "start " + i);
            assertEquals(want[i][1], AdaptiveGeometry.end(i, 5, 3), "end " + i);
        }
    }

    @Test
    void regions_doNotOverflow_forLargeSizes() {
        // i*in exceeds 2^31 here; the bounds must still be floor/ceil of the exact quotient.
        int in = 1_000_000_007;
        int out = 999_999_937;
        int i = out - 1;
        assertEquals(1_000_000_005, AdaptiveGeometry.start(i, in, out)); // floor(999999936 * 1000000007 / 999999937)
        assertEquals(in, AdaptiveGeometry.end(i, in, out));
        assertEquals(1_000_000_006, AdaptiveGeometry.end(i - 1, in, out));
    }

    @Test
    void adaptiveMax_5x5Ramp_to3x3() {
        Tensor y = engine.adaptiveMax(ramp(5, 5), 3, 3);
        assertEquals(Shape.of(1, 3, 3, 1), y.shape());
        assertArrayEquals(new float[] {6, 8, 9, 16, 18, 19, 21, 23, 24}, y.toArray());
    }

    @Test
    void adaptiveAvg_5x5Ramp_to3x3() {
        // Region means: 5 * (row mean) + (column mean), row/column means 0.5, 2, 3.5.
        assertArrayEquals(new float[] {3, 4.5f, 6, 10.5f, 12, 13.5f, 18, 19.5f, 21},
                engine.adaptiveAvg(ramp(5, 5), 3, 3).toArray());
    }

    @Test
    void adaptive_outputLargerThanInput_2x2to5x5_repeatsRows() {
        // 2 -> 5: regions [0], [0], [0,1], [1], [1].
        Tensor x = Tensor.of(Shape.of(1, 2, 2, 1), 1, 2, 3, 4);
        assertArrayEquals(new float[] {
            1, 1, 1.5f, 2, 2,
            1, 1, 1.5f, 2, 2,
            2, 2, 2.5f, 3, 3,
            3, 3, 3.5f, 4, 4,
            3, 3, 3.5f, 4, 4}, engine.adaptiveAvg(x, 5, 5).toArray());
        assertArrayEquals(new float[] {
            1, 1, 2, 2, 2,
            1, 1, 2, 2, 2,
            3, 3, 4, 4, 4,
            3, 3, 4, 4, 4,
            3, 3, 4, 4, 4}, engine.adaptiveMax(x, 5, 5).toArray());
    }

    @Test
    void adaptive_1x5Row_to1x2_and_toNonSquare() {
        Tensor x = Tensor.of(Shape.of(1, 1, 5, 1), 1, 2, 3, 4, 5);
        // 5 -> 2: regions [0,2] and [2,4].
        assertArrayEquals(new float[] {2, 4}, engine.adaptiveAvg(x, 1, 2).toArray());
        assertArrayEquals(new float[] {3, 5}, engine.adaptiveMax(x, 1, 2).toArray());
        // Height 1 -> 2 repeats the row: output (1, 2, 2, 1).
        assertArrayEquals(new float[] {2, 4, 2, 4}, engine.adaptiveAvg(x, 2, 2).toArray());
    }

    @Test
    void adaptive_toSameSize_isIdentity_andTo1x1_isGlobal() {
        Shape s = Shape.of(2, 7, 5, 3);
        Tensor x = RandomCases.values(new SplittableRandom(11), s, true);
        Tolerance.assertBitIdentical(engine.adaptiveMax(x, 7, 5).toArray(), x.toArray(), "adaptive max to the same size");
        // avg of one element: equal in value (a sum that starts at +0 turns -0 into +0, as on the device).
        float[] v = x.toArray();
        double[] same = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            same[i] = v[i];
        }
        Tolerance.assertClose(engine.adaptiveAvg(x, 7, 5).toArray(), same, 0, "adaptive avg to the same size");
        Tolerance.assertBitIdentical(engine.adaptiveMax(x, 1, 1).toArray(), engine.globalMax(x).toArray(), "adaptive max to 1x1");
    }

    @Test
    void adaptiveMax_nanPropagates_firstNanWins_andSignedZerosKeepTheFirst() {
        float nanA = Float.intBitsToFloat(0x7fc00001);
        float nanB = Float.intBitsToFloat(0x7fc00002);
        Tensor x = Tensor.of(Shape.of(1, 1, 4, 1), 1f, nanA, 3f, nanB);
        assertEquals(0x7fc00001, Float.floatToRawIntBits(engine.adaptiveMax(x, 1, 1).toArray()[0]));
        Tensor z = Tensor.of(Shape.of(1, 1, 2, 1), -0.0f, 0.0f);
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(engine.adaptiveMax(z, 1, 1).toArray()[0]));
        assertEquals(Float.NaN, engine.adaptiveAvg(x, 1, 1).toArray()[0]);
    }

    @Test
    void adaptive_multiChannel_andBatch_poolEachPlaneSeparately() {
        Tensor x = Tensor.allocate(Shape.of(2, 2, 2, 2));
        for (int n = 0; n < 2; n++) {
            for (int i = 0; i < 4; i++) {
                x.set(n, i / 2, i % 2, 0, i + 10 * n);
                x.set(n, i / 2, i % 2, 1, -i);
            }
        }
        assertArrayEquals(new float[] {3, 0, 13, 0}, engine.adaptiveMax(x, 1, 1).toArray());
        assertArrayEquals(new float[] {1.5f, -1.5f, 11.5f, -1.5f}, engine.adaptiveAvg(x, 1, 1).toArray());
    }

    @Test
    void invalidOutputSize_andLp_areRefused_namingTheField() {
        Tensor x = ramp(3, 3);
        InvalidSpecException e = assertThrows(InvalidSpecException.class, () -> engine.adaptiveAvg(x, 0, 2));
        assertEquals("output size", e.field());
        assertEquals("output size 0x2: must be >= 1 on each axis", e.getMessage());
        assertEquals("output size", assertThrows(InvalidSpecException.class, () -> engine.adaptiveMax(x, 2, -1)).field());
        assertEquals("mode", assertThrows(InvalidSpecException.class, () -> engine.adaptive(PoolMode.LP, x, 2, 2)).field());
    }

    @Test
    void adaptiveMax_signedZerosAndNans_manyChannels_bitForBit() {
        // The fast path reduces with Math.max and redoes zero and NaN results by the rule: inputs
        // with zeros of both signs, NaNs of distinct payloads, and channel counts off the vector width.
        int[][] cases = {{2, 13, 13, 20, 6, 6}, {1, 10, 17, 9, 4, 7}, {1, 3, 4, 33, 5, 6}, {2, 9, 9, 64, 1, 1}};
        for (int[] k : cases) {
            Shape s = Shape.of(k[0], k[1], k[2], k[3]);
            for (boolean nan : new boolean[] {false, true}) {
                Tensor x = CpuFastPathTest.zerosAndNans(s, k[1] * 31 + k[3], nan);
                Tensor y = engine.adaptive(PoolMode.MAX, x, k[4], k[5]);
                Tolerance.assertExact(y.toArray(), NaiveAdaptive.pool(x.toArray(), s, PoolMode.MAX, k[4], k[5]),
                        s + " to " + k[4] + "x" + k[5] + (nan ? " with NaNs" : ""));
            }
        }
    }

    /** The same seed as the device sweep (AdaptiveAndIndicesDeviceIT). */
    public static final long SEED = 20261204L;

    static Stream<AdaptiveCases.Case> sweep() {
        return AdaptiveCases.generate(SEED, 300).stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sweep")
    void randomAdaptive_matchesNaiveReference(AdaptiveCases.Case c) {
        Tensor y = engine.adaptive(c.mode(), c.input(), c.oh(), c.ow());
        Shape in = c.input().shape();
        assertEquals(Shape.of(in.n(), c.oh(), c.ow(), in.c()), y.shape());
        double[] want = NaiveAdaptive.pool(c.input().toArray(), in, c.mode(), c.oh(), c.ow());
        if (c.mode() == PoolMode.MAX) {
            Tolerance.assertExact(y.toArray(), want, c.name());
        } else {
            Tolerance.assertClose(y.toArray(), want, c.name());
        }
    }
}
