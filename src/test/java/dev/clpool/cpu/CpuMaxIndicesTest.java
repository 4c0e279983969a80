package dev.clpool.cpu;

import static dev.clpool.testing.Ramps.ramp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.clpool.BackendChoice;
import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.InvalidSpecException;
import dev.clpool.Padding;
import dev.clpool.PoolSpec;
import dev.clpool.PooledWithIndices;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.IndexCases;
import dev.clpool.testing.NaiveArgmax;
import dev.clpool.testing.Tolerance;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Max pooling with indices on the CPU path: hand-checked indices (ties, NaN, signed zeros,
 * padding, every convention), validation, and a seeded sweep against NaiveArgmax.
 */
class CpuMaxIndicesTest {
    private static PoolingEngine engine;

    @BeforeAll
    static void open() {
        engine = PoolingEngine.builder().backend(BackendChoice.CPU).build();
    }

    @AfterAll
    static void close() {
        engine.close();
    }


    private static long[] indices(Tensor x, PoolSpec spec, IndexConvention conv) {
        return engine.poolWithIndices(x, spec, conv).indices().toArray();
    }

    private static long[] indices(Tensor x, PoolSpec spec) {
        return indices(x, spec, IndexConvention.NHWC);
    }

    @Test
    void ramp4x4_max2x2_indicesInEveryConvention() {
        PoolSpec s = PoolSpec.max(2, 2).build();
        PooledWithIndices r = engine.poolWithIndices(ramp(4, 4), s);
        assertArrayEquals(new float[] {5, 7, 13, 15}, r.values().toArray());
        assertEquals(IndexConvention.NHWC, r.indices().convention());
        assertEquals(Shape.of(1, 2, 2, 1), r.indices().shape());
        assertArrayEquals(new long[] {5, 7, 13, 15}, r.indices().toArray());
        assertArrayEquals(new long[] {5, 7, 13, 15}, indices(ramp(4, 4), s, IndexConvention.PYTORCH));
        assertArrayEquals(new long[] {5, 7, 13, 15}, indices(ramp(4, 4), s, IndexConvention.ONNX));
        // Column-major: x*H + y, so (1,3) -> 13 and (3,1) -> 7.
        assertArrayEquals(new long[] {5, 13, 7, 15}, indices(ramp(4, 4), s, IndexConvention.ONNX_COLUMN_MAJOR));
    }

    @Test
    void batchAndChannels_tellTheConventionsApart() {
        // (N, H, W, C) = (2, 2, 2, 2), one 2x2 window per (n, c). The maxima sit at
        // n0c0 (1,0)=8, n0c1 (0,1)=9, n1c0 (0,0)=7, n1c1 (1,1)=5.
        Tensor x = Tensor.of(Shape.of(2, 2, 2, 2),
                1, 2, 0, 9, 8, 3, 2, 4,
                7, 1, 5, 2, 6, 3, -1, 5);
        PoolSpec s = PoolSpec.max(2, 2).build();
        PooledWithIndices r = engine.poolWithIndices(x, s);
        assertArrayEquals(new float[] {8, 9, 7, 5}, r.values().toArray());
        assertArrayEquals(new long[] {4, 3, 0, 7}, r.indices().toArray());                         // (y*W + x)*C + c
        assertArrayEquals(new long[] {2, 1, 0, 3}, indices(x, s, IndexConvention.PYTORCH));        // y*W + x
        assertArrayEquals(new long[] {2, 5, 8, 15}, indices(x, s, IndexConvention.ONNX));          // ((n*C + c)*H + y)*W + x
        assertArrayEquals(new long[] {1, 6, 8, 15}, indices(x, s, IndexConvention.ONNX_COLUMN_MAJOR)); // ((n*C + c)*W + x)*H + y
    }

    @Test
    void ties_firstMaximumInScanOrderWins() {
        assertArrayEquals(new long[] {1}, indices(Tensor.of(Shape.of(1, 1, 4, 1), 3, 5, 5, 1), PoolSpec.max(1, 4).build()));
        // Rows before columns: (0,0) before (1,0) and (1,1).
        assertArrayEquals(new long[] {0}, indices(Tensor.of(Shape.of(1, 2, 2, 1), 5, 1, 5, 5), PoolSpec.max(2, 2).build()));
        // A tie with the later of two channels does not move the other channel's index.
        assertArrayEquals(new long[] {0, 1}, indices(Tensor.of(Shape.of(1, 1, 2, 2), 4, 4, 4, 4), PoolSpec.max(1, 2).build()));
    }

    @Test
    void nan_theFirstNanWins_withItsPayload() {
        float nanA = Float.intBitsToFloat(0x7fc00001);
        float nanB = Float.intBitsToFloat(0x7fc00002);
        PooledWithIndices r = engine.poolWithIndices(Tensor.of(Shape.of(1, 1, 4, 1), 1f, nanA, 3f, nanB),
                PoolSpec.max(1, 4).build());
        assertEquals(0x7fc00001, Float.floatToRawIntBits(r.values().toArray()[0]));
        assertArrayEquals(new long[] {1}, r.indices().toArray());
        assertArrayEquals(new long[] {0}, indices(Tensor.of(Shape.of(1, 1, 2, 1), Float.NaN, 9f), PoolSpec.max(1, 2).build()));
        assertArrayEquals(new long[] {2}, indices(Tensor.of(Shape.of(1, 1, 3, 1), Float.POSITIVE_INFINITY, 1f, Float.NaN),
                PoolSpec.max(1, 3).build()));
    }

    @Test
    void signedZeros_theFirstOneWins() {
        PooledWithIndices a = engine.poolWithIndices(Tensor.of(Shape.of(1, 1, 2, 1), -0.0f, 0.0f), PoolSpec.max(1, 2).build());
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(a.values().toArray()[0]));
        assertArrayEquals(new long[] {0}, a.indices().toArray());
        PooledWithIndices b = engine.poolWithIndices(Tensor.of(Shape.of(1, 1, 2, 1), 0.0f, -0.0f), PoolSpec.max(1, 2).build());
        assertEquals(Float.floatToRawIntBits(0.0f), Float.floatToRawIntBits(b.values().toArray()[0]));
        assertArrayEquals(new long[] {0}, b.indices().toArray());
    }

    @Test
    void allMinusInfinity_picksTheFirstInputTap_notPadding() {
        Tensor x = Tensor.of(Shape.of(1, 1, 2, 1), Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY);
        PoolSpec s = PoolSpec.max(1, 2).stride(1).padding(Padding.of(0, 0, 1, 0)).build();
        PooledWithIndices r = engine.poolWithIndices(x, s);
        assertArrayEquals(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, r.values().toArray());
        // Window 0 covers (padding, x=0); window 1 covers (x=0, x=1).
        assertArrayEquals(new long[] {0, 0}, r.indices().toArray());
    }

    @Test
    void padding_neverWins_evenOverNegativeValues() {
        float[] v = new float[16];
        for (int i = 0; i < 16; i++) {
            v[i] = -(i + 1);
        }
        PoolSpec s = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
        PooledWithIndices r = engine.poolWithIndices(Tensor.of(Shape.of(1, 4, 4, 1), v), s);
        assertArrayEquals(new float[] {-1, -2, -5, -6}, r.values().toArray());
        assertArrayEquals(new long[] {0, 1, 4, 5}, r.indices().toArray());
        PoolSpec same = PoolSpec.max(3, 3).stride(2).padding(Padding.SAME).build();
        assertArrayEquals(new long[] {10, 11, 14, 15}, indices(ramp(4, 4), same)); // SAME: begin 0, end 1
    }

    @Test
    void dilationAndCeilMode_indicesPointAtTheTaps() {
        // 2x2 window, dilation 2, stride 1 on a 4x4 ramp: taps (0,0),(0,2),(2,0),(2,2) for the first output.
        PoolSpec s = PoolSpec.max(2, 2).stride(1).dilation(2).build();
        assertArrayEquals(new long[] {10, 11, 14, 15}, indices(ramp(4, 4), s));
        // Ceil mode: 2x2 stride 2 on 5x5 adds a last window covering only column/row 4.
        PoolSpec ceil = PoolSpec.max(2, 2).ceilMode(true).build();
        assertArrayEquals(new long[] {6, 8, 9, 16, 18, 19, 21, 23, 24}, indices(ramp(5, 5), ceil));
    }

    @ParameterizedTest
    @EnumSource(IndexConvention.class)
    void conventionWords_parseBack(IndexConvention c) {
        assertEquals(c, IndexConvention.parse(c.word()));
    }

    @Test
    void nonMaxSpec_andUnknownConvention_areRefused() {
        InvalidSpecException e = assertThrows(InvalidSpecException.class,
                () -> engine.poolWithIndices(ramp(4, 4), PoolSpec.avg(2, 2).build()));
        assertEquals("mode", e.field());
        assertEquals("mode avg: indices come with max pooling only", e.getMessage());
        assertEquals("index convention", assertThrows(InvalidSpecException.class, () -> IndexConvention.parse("nchw")).field());
        assertThrows(IllegalArgumentException.class, () -> Indices.allocate(Shape.of(1, 1 << 14, 1 << 14, 2), IndexConvention.NHWC));
    }

    /** The same seed as the device sweep (AdaptiveAndIndicesDeviceIT). */
    public static final long SEED = 20261205L;

    @Test
    void manyChannels_severalColumnBlocks_tiesZerosAndNans_matchNaiveArgmax() {
        // CpuArgmax.chosen works in column blocks of 2048 ints: 3 channels (many columns per
        // block), 700 (two), 2100 (one column, wider than a block); ties, both zeros, NaN payloads.
        PoolSpec[] specs = {PoolSpec.max(2, 2).build(), PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(),
                PoolSpec.max(2, 3).stride(1, 2).dilation(2, 1).ceilMode(true).build()};
        int seed = 0;
        for (Shape s : new Shape[] {Shape.of(2, 5, 900, 3), Shape.of(1, 5, 9, 700), Shape.of(1, 4, 5, 2100)}) {
            for (PoolSpec spec : specs) {
                Tensor x = CpuFastPathTest.zerosAndNans(s, ++seed, true);
                for (IndexConvention conv : IndexConvention.values()) {
                    PooledWithIndices r = engine.poolWithIndices(x, spec, conv);
                    NaiveArgmax.Result want = NaiveArgmax.pool(x.toArray(), s, spec, conv);
                    String what = s + " " + spec + " " + conv;
                    Tolerance.assertBitIdentical(r.values().toArray(), want.values(), what);
                    assertArrayEquals(want.indices(), r.indices().toArray(), what);
                }
            }
        }
    }

    static Stream<IndexCases.Case> sweep() {
        return IndexCases.generate(SEED, 300).stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sweep")
    void randomSpec_valuesAndIndices_matchNaiveArgmax(IndexCases.Case c) {
        PooledWithIndices r = engine.poolWithIndices(c.input(), c.spec(), c.convention());
        NaiveArgmax.Result want = NaiveArgmax.pool(c.input().toArray(), c.input().shape(), c.spec(), c.convention());
        Tolerance.assertBitIdentical(r.values().toArray(), want.values(), c.name());
        Tolerance.assertBitIdentical(r.values().toArray(), engine.pool(c.input(), c.spec()).toArray(), "values vs pool: " + c.name());
        assertArrayEquals(want.indices(), r.indices().toArray(), c.name());
        assertEquals(c.spec().outputShape(c.input().shape()), r.indices().shape());
    }
}
