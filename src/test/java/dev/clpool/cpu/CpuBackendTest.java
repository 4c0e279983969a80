package dev.clpool.cpu;

import static dev.clpool.testing.Ramps.ramp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.BackendChoice;
import dev.clpool.Padding;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.NaiveReference;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.Tolerance;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The CPU path against literal values and against the naive float64 reference. */
class CpuBackendTest {
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
    void maxPool_2x2_stride1_on3x3Ramp_gives4578() {
        Tensor y = engine.pool(ramp(3, 3), PoolSpec.max(2, 2).stride(1).build());
        assertEquals(Shape.of(1, 2, 2, 1), y.shape());
        assertArrayEquals(new float[] {4, 5, 7, 8}, y.toArray());
    }

    @Test
    void avgPool_2x2_stride1_on3x3Ramp_gives2356() {
        assertArrayEquals(new float[] {2, 3, 5, 6}, engine.pool(ramp(3, 3), PoolSpec.avg(2, 2).stride(1).build()).toArray());
    }

    @Test
    void maxPool_3x3_defaultStride_on4x4Ramp_gives10() {
        assertArrayEquals(new float[] {10}, engine.pool(ramp(4, 4), PoolSpec.max(3, 3).build()).toArray());
    }

    @Test
    void maxPool_3x3_stride2_pad1_on4x4Ramp() {
        PoolSpec s = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
        assertArrayEquals(new float[] {5, 7, 13, 15}, engine.pool(ramp(4, 4), s).toArray());
    }

    @Test
    void maxPool_2x3_stride2x3_leftRightPad1_on4x4Ramp() {
        PoolSpec s = PoolSpec.max(2, 3).stride(2, 3).padding(Padding.of(0, 0, 1, 1)).build();
        assertArrayEquals(new float[] {5, 7, 13, 15}, engine.pool(ramp(4, 4), s).toArray());
    }

    @Test
    void maxPool_twoChannels_poolsEachChannelSeparately() {
        Tensor x = Tensor.allocate(Shape.of(1, 4, 4, 2));
        for (int i = 0; i < 16; i++) {
            x.set(0, i / 4, i % 4, 0, i);
            x.set(0, i / 4, i % 4, 1, i + 1);
        }
        Tensor y = engine.pool(x, PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build());
        assertArrayEquals(new float[] {5, 6, 7, 8, 13, 14, 15, 16}, y.toArray());
    }

    @Test
    void avgPool_countIncludePad_dividesByWholeWindow() {
        // 3x3 window, pad 1, stride 2 on 0..15: the corner window holds 0,1,4,5 (sum 10).
        PoolSpec excl = PoolSpec.avg(3, 3).stride(2).padding(Padding.of(1)).build();
        PoolSpec incl = PoolSpec.avg(3, 3).stride(2).padding(Padding.of(1)).countIncludePad(true).build();
        assertEquals(2.5f, engine.pool(ramp(4, 4), excl).toArray()[0]);
        assertEquals(10f / 9, engine.pool(ramp(4, 4), incl).toArray()[0]);
    }

    @Test
    void globalAvg_of4x4Ramp_is7point5() {
        assertArrayEquals(new float[] {7.5f}, engine.globalAvg(ramp(4, 4)).toArray());
        assertArrayEquals(new float[] {15f}, engine.globalMax(ramp(4, 4)).toArray());
    }

    @Test
    void maxPool_nanPropagates_andFirstNanWins() {
        float nanA = Float.intBitsToFloat(0x7fc00001);
        float nanB = Float.intBitsToFloat(0x7fc00002);
        Tensor x = Tensor.of(Shape.of(1, 1, 4, 1), 1f, nanA, 3f, nanB);
        Tensor y = engine.pool(x, PoolSpec.max(1, 4).build());
        assertEquals(0x7fc00001, Float.floatToRawIntBits(y.toArray()[0]));
        Tensor z = engine.pool(Tensor.of(Shape.of(1, 1, 2, 1), Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY),
                PoolSpec.max(1, 2).build());
        assertEquals(Float.NEGATIVE_INFINITY, z.toArray()[0]);
    }

    @Test
    void maxPool_signedZeros_firstMaximumInScanOrderWins() {
        Tensor y = engine.pool(Tensor.of(Shape.of(1, 1, 2, 1), -0.0f, 0.0f), PoolSpec.max(1, 2).build());
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(y.toArray()[0]));
    }

    @Test
    void globalAvg_largePlaneNear1000_isAccurate() {
        Shape s = Shape.of(1, 224, 224, 8);
        Tensor x = RandomCases.values(new SplittableRandom(7), s, false);
        float[] v = x.toArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = 1000f + v[i] / 8;
        }
        Tensor big = Tensor.of(s, v);
        Tolerance.assertClose(engine.globalAvg(big).toArray(), NaiveReference.global(v, s, PoolMode.AVG), "global avg");
    }

    static Stream<RandomCases.Case> sweep() {
        return RandomCases.generate(20261128L, 300).stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sweep")
    void randomSpec_matchesNaiveReference(RandomCases.Case c) {
        Shape in = c.input().shape();
        NaiveReference.AxisPlan ph = NaiveReference.plan(in.h(), c.spec().windowH(), c.spec().strideH(),
                c.spec().dilationH(), c.spec().padding(), true, c.spec().ceilMode());
        NaiveReference.AxisPlan pw = NaiveReference.plan(in.w(), c.spec().windowW(), c.spec().strideW(),
                c.spec().dilationW(), c.spec().padding(), false, c.spec().ceilMode());
        Tensor y = engine.pool(c.input(), c.spec());
        assertEquals(Shape.of(in.n(), ph.out(), pw.out(), in.c()), y.shape(), "output shape");
        double[] want = NaiveReference.pool(c.input().toArray(), in, c.spec());
        if (c.spec().mode() == PoolMode.MAX) {
            Tolerance.assertExact(y.toArray(), want, c.name());
        } else {
            Tolerance.assertClose(y.toArray(), want, c.name());
        }
    }

    @ParameterizedTest(name = "global {0}")
    @MethodSource("globalShapes")
    void global_matchesNaiveReference(Shape s) {
        Tensor x = RandomCases.values(new SplittableRandom(s.hashCode()), s, s.c() == 5);
        for (PoolMode m : List.of(PoolMode.AVG, PoolMode.MAX)) {
            float[] got = engine.global(m, x).toArray();
            double[] want = NaiveReference.global(x.toArray(), s, m);
            if (m == PoolMode.MAX) {
                Tolerance.assertExact(got, want, "global max " + s);
            } else {
                Tolerance.assertClose(got, want, "global avg " + s);
            }
        }
    }

    static Stream<Shape> globalShapes() {
        return Stream.of(Shape.of(1, 1, 1, 1), Shape.of(3, 7, 5, 5), Shape.of(2, 31, 17, 130), Shape.of(1, 64, 64, 3));
    }
}
