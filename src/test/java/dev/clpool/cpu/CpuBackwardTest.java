package dev.clpool.cpu;

import static dev.clpool.testing.Ramps.ramp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.BackendChoice;
import dev.clpool.InvalidSpecException;
import dev.clpool.Padding;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.BackwardCases;
import dev.clpool.testing.Tolerance;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Backward pooling on the CPU path: hand-checked values, refusals, and the naive float64 reference. */
class CpuBackwardTest {
    private static final long SEED = BackwardCases.SEED;

    private static PoolingEngine engine;

    @BeforeAll
    static void open() {
        engine = PoolingEngine.builder().backend(BackendChoice.CPU).build();
    }

    @AfterAll
    static void close() {
        engine.close();
    }


    private static Tensor row(float... v) {
        return Tensor.of(Shape.of(1, 1, v.length, 1), v);
    }

    private static float[] backward(Tensor x, PoolSpec spec, float... dy) {
        return engine.backward(x, Tensor.of(spec.outputShape(x.shape()), dy), spec).toArray();
    }

    // ---- max ----

    @Test
    void maxBackward_2x2_stride2_on4x4Ramp_routesEachGradientToBottomRightOfItsWindow() {
        float[] dx = backward(ramp(4, 4), PoolSpec.max(2, 2).stride(2).build(), 1, 2, 3, 4);
        assertArrayEquals(new float[] {
            0, 0, 0, 0,
            0, 1, 0, 2,
            0, 0, 0, 0,
            0, 3, 0, 4}, dx);
    }

    @Test
    void maxBackward_3x3_stride1_overlappingWindowsSharingThePeak_accumulate() {
        Tensor x = Tensor.allocate(Shape.of(1, 4, 4, 1));
        x.set(0, 2, 2, 0, 5f); // the maximum of all four 3x3 windows
        float[] dx = backward(x, PoolSpec.max(3, 3).stride(1).build(), 1, 2, 3, 4);
        float[] want = new float[16];
        want[2 * 4 + 2] = 10;
        assertArrayEquals(want, dx);
    }

    @Test
    void maxBackward_1x3_stride1_overlappingWindows_addUpOnlyWhereTheyPickTheSameElement() {
        // windows [0,5,1] [5,1,4] [1,4,2] pick positions 1, 1, 3
        assertArrayEquals(new float[] {0, 11, 0, 100, 0}, backward(row(0, 5, 1, 4, 2), PoolSpec.max(1, 3).stride(1).build(), 1, 10, 100));
    }

    @Test
    void maxBackward_3x3_stride2_pad1_on4x4Ramp_paddingNeverWins() {
        float[] dx = backward(ramp(4, 4), PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(), 1, 2, 3, 4);
        float[] want = new float[16];
        want[5] = 1;
        want[7] = 2;
        want[13] = 3;
        want[15] = 4;
        assertArrayEquals(want, dx);
        // all-negative input with leading padding: the (implicit -inf) padding is never the argmax
        PoolSpec padded = PoolSpec.max(1, 2).stride(1, 2).padding(Padding.of(0, 0, 1, 0)).build();
        assertArrayEquals(new float[] {7, 0}, backward(row(-3, -1), padded, 7));
    }

    @Test
    void maxBackward_ties_goToTheFirstMaximumInScanOrder() {
        PoolSpec s = PoolSpec.max(1, 2).stride(1).build();
        assertArrayEquals(new float[] {1, 10, 100, 0}, backward(row(2, 2, 2, 2), s, 1, 10, 100));
        // -0.0 and +0.0 tie: the first of them wins
        assertArrayEquals(new float[] {1, 10, 0}, backward(row(-0.0f, 0.0f, -0.0f), s, 1, 10));
        // a window of -inf picks its first element
        float ninf = Float.NEGATIVE_INFINITY;
        assertArrayEquals(new float[] {1, 0, 10}, backward(row(ninf, ninf, 3), s, 1, 10));
        // rows before columns: in a 2x2 window of equal values the top-left wins
        assertArrayEquals(new float[] {6, 0, 0, 0}, backward(Tensor.of(Shape.of(1, 2, 2, 1), 1, 1, 1, 1),
                PoolSpec.max(2, 2).build(), 6));
    }

    @Test
    void maxBackward_nanInTheWindow_routesToTheFirstNan() {
        float nanA = Float.intBitsToFloat(0x7fc00001);
        float nanB = Float.intBitsToFloat(0x7fc00002);
        assertArrayEquals(new float[] {0, 5, 0, 0}, backward(row(1, nanA, 3, nanB), PoolSpec.max(1, 4).build(), 5));
        assertArrayEquals(new float[] {0, 3, 0}, backward(row(5, nanA, 7), PoolSpec.max(1, 2).stride(1).build(), 1, 2));
        assertArrayEquals(new float[] {4, 0}, backward(row(nanA, Float.POSITIVE_INFINITY), PoolSpec.max(1, 2).build(), 4));
    }

    @Test
    void maxBackward_dilation_skipsTheElementsBetweenTaps() {
        // taps at 0 and 2 (values 1 and 3); the 9 at 1 lies between them
        assertArrayEquals(new float[] {0, 0, 5, 0}, backward(row(1, 9, 3, 2), PoolSpec.max(1, 2).dilation(1, 2).build(), 5));
    }

    @Test
    void maxBackward_batchesAndChannels_areIndependent() {
        Shape s = Shape.of(2, 2, 2, 2);
        float nan = Float.NaN;
        // element (n, y, x, c) at n*8 + (y*2 + x)*2 + c
        Tensor x = Tensor.of(s,
                0, 3, 1, 2, 2, 1, 3, 0,     // n=0: c0 ramp (max at pixel 3), c1 reversed (max at pixel 0)
                7, 1, 7, 1, 7, nan, 7, 1);  // n=1: c0 all equal (first wins), c1 NaN at pixel 2
        float[] dx = engine.backward(x, Tensor.of(Shape.of(2, 1, 1, 2), 10, 20, 30, 40), PoolSpec.max(2, 2).build()).toArray();
        float[] want = new float[16];
        want[6] = 10;
        want[1] = 20;
        want[8] = 30;
        want[13] = 40;
        assertArrayEquals(want, dx);
    }

    @Test
    void maxBackward_nanAndInfiniteGradients_reachOnlyTheirArgmax_andAddInIeeeArithmetic() {
        PoolSpec s2 = PoolSpec.max(1, 2).build();
        assertArrayEquals(new float[] {0, Float.NaN, 0, 1}, backward(row(1, 2, 3, 4), s2, Float.NaN, 1));
        PoolSpec s = PoolSpec.max(1, 3).stride(1).build(); // argmaxes 1, 1, 3 on this row
        Tensor x = row(0, 5, 1, 4, 2);
        float inf = Float.POSITIVE_INFINITY;
        assertArrayEquals(new float[] {0, Float.NaN, 0, 1, 0}, backward(x, s, inf, -inf, 1));
        // sums beyond the float range become infinite when rounded to float
        assertArrayEquals(new float[] {0, inf, 0, 0, 0}, backward(x, s, 3e38f, 3e38f, 0));
    }

    // ---- avg ----

    @Test
    void avgBackward_2x2_stride1_on3x3_spreadsAQuarterOfEachGradient() {
        float[] dx = backward(ramp(3, 3), PoolSpec.avg(2, 2).stride(1).build(), 1, 1, 1, 1);
        assertArrayEquals(new float[] {0.25f, 0.5f, 0.25f, 0.5f, 1f, 0.5f, 0.25f, 0.5f, 0.25f}, dx);
    }

    @Test
    void avgBackward_3x3_stride2_pad1_withAndWithoutCountIncludePad() {
        // windows cover rows (and columns) {0,1} and {1,2,3}: 2 and 3 input elements per axis
        PoolSpec excl = PoolSpec.avg(3, 3).stride(2).padding(Padding.of(1)).build();
        double[] perAxis = {1 / 2.0, 1 / 2.0 + 1 / 3.0, 1 / 3.0, 1 / 3.0};
        Tolerance.assertClose(backward(ramp(4, 4), excl, 1, 1, 1, 1), outer(perAxis), "exclude pad");
        // count_include_pad: every window's divisor is 3x3 = 9
        PoolSpec incl = PoolSpec.avg(3, 3).stride(2).padding(Padding.of(1)).countIncludePad(true).build();
        double[] perAxisIncl = {1 / 3.0, 2 / 3.0, 1 / 3.0, 1 / 3.0};
        Tolerance.assertClose(backward(ramp(4, 4), incl, 1, 1, 1, 1), outer(perAxisIncl), "include pad");
        assertEquals(4f / 9, backward(ramp(4, 4), incl, 1, 1, 1, 1)[5], 1e-7f);
    }

    @Test
    void avgBackward_2x2_stride2_pad1_paddingReceivesNothing() {
        // rows (and columns) {0} and {1,2}; gradients 4, 8, 12, 16
        PoolSpec excl = PoolSpec.avg(2, 2).stride(2).padding(Padding.of(1)).build();
        assertArrayEquals(new float[] {4, 4, 4, 6, 4, 4, 6, 4, 4}, backward(ramp(3, 3), excl, 4, 8, 12, 16));
        PoolSpec incl = PoolSpec.avg(2, 2).stride(2).padding(Padding.of(1)).countIncludePad(true).build();
        assertArrayEquals(new float[] {1, 2, 2, 3, 4, 4, 3, 4, 4}, backward(ramp(3, 3), incl, 4, 8, 12, 16));
    }

    @Test
    void avgBackward_ceilMode_theOverhangBeyondTheEndPaddingDoesNotCount() {
        // 2x2 stride 2 on 3x3, ceil: windows {0,1} and {2} per axis; divisors 4, 2, 2, 1 either way
        PoolSpec ceil = PoolSpec.avg(2, 2).stride(2).ceilMode(true).build();
        float[] ones = {1, 1, 1, 1, 1, 1, 1, 1, 1};
        assertArrayEquals(ones, backward(ramp(3, 3), ceil, 4, 2, 2, 1));
        PoolSpec ceilIncl = PoolSpec.avg(2, 2).stride(2).ceilMode(true).countIncludePad(true).build();
        assertArrayEquals(ones, backward(ramp(3, 3), ceilIncl, 4, 2, 2, 1));
        // width 4, window 3, stride 2, pad 1 each side, ceil: windows start at -1, 1, 3 and cover
        // {0,1}, {1,2,3}, {3}; with count_include_pad the divisors are 3, 3 and 2 (5 - 3: not 3)
        PoolSpec p = PoolSpec.avg(1, 3).stride(1, 2).padding(Padding.of(0, 0, 1, 1)).ceilMode(true).build();
        assertArrayEquals(new float[] {3, 5, 2, 8}, backward(row(0, 0, 0, 0), p, 6, 6, 6));
        PoolSpec pIncl = PoolSpec.avg(1, 3).stride(1, 2).padding(Padding.of(0, 0, 1, 1)).ceilMode(true)
                .countIncludePad(true).build();
        assertArrayEquals(new float[] {2, 4, 2, 5}, backward(row(0, 0, 0, 0), pIncl, 6, 6, 6));
    }

    @Test
    void avgBackward_ignoresTheInputValues_andSpreadsNanGradientsOverTheirWindowOnly() {
        PoolSpec s = PoolSpec.avg(1, 2).build();
        assertArrayEquals(new float[] {Float.NaN, Float.NaN, 1, 1}, backward(row(Float.NaN, 1, 2, 3), s, Float.NaN, 2));
        assertArrayEquals(new float[] {1, 1, 1, 1}, backward(row(Float.NaN, 1, 2, Float.NEGATIVE_INFINITY), s, 2, 2));
    }

    private static double[] outer(double[] a) {
        double[] o = new double[a.length * a.length];
        for (int y = 0; y < a.length; y++) {
            for (int x = 0; x < a.length; x++) {
                o[y * a.length + x] = a[y] * a[x];
            }
        }
        return o;
    }

    // ---- refusals ----

    @Test
    void lpBackward_isRefused_namingTheMode() {
        PoolSpec lp = PoolSpec.builder(PoolMode.LP).window(2).build();
        InvalidSpecException e = assertThrows(InvalidSpecException.class,
                () -> engine.backward(ramp(4, 4), Tensor.allocate(Shape.of(1, 2, 2, 1)), lp));
        assertEquals("mode", e.field());
        assertTrue(e.getMessage().contains("lp"), e.getMessage());
    }

    @Test
    void gradOutputOfTheWrongShape_isRefused_namingBothShapes() {
        PoolSpec s = PoolSpec.max(2, 2).build();
        InvalidSpecException e = assertThrows(InvalidSpecException.class,
                () -> engine.backward(ramp(4, 4), Tensor.allocate(Shape.of(1, 3, 3, 1)), s));
        assertTrue(e.getMessage().contains("1,3,3,1") && e.getMessage().contains("1,2,2,1"), e.getMessage());
        // a spec that cannot run on the input is refused as by pool()
        assertThrows(InvalidSpecException.class,
                () -> engine.backward(ramp(2, 2), Tensor.allocate(Shape.of(1, 1, 1, 1)), PoolSpec.max(3, 3).build()));
    }

    // ---- random sweep ----

    static Stream<BackwardCases.Case> sweep() {
        return BackwardCases.generate(SEED, 300).stream();
    }

    /** Sums may run in another order than the reference's, so even max is compared within tolerance. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("sweep")
    void randomSpec_backward_matchesNaiveReference(BackwardCases.Case c) {
        Tensor dx = engine.backward(c.input(), c.gradOutput(), c.spec());
        assertEquals(c.input().shape(), dx.shape());
        Tolerance.assertClose(dx.toArray(), c.reference(), c.name());
    }

    @Test
    void result_doesNotDependOnTheThreadCount() {
        try (PoolingEngine one = PoolingEngine.builder().backend(BackendChoice.CPU).cpuThreads(1).build();
             PoolingEngine many = PoolingEngine.builder().backend(BackendChoice.CPU).cpuThreads(7).build()) {
            for (BackwardCases.Case c : BackwardCases.generate(SEED + 1, 40)) {
                Tolerance.assertBitIdentical(many.backward(c.input(), c.gradOutput(), c.spec()).toArray(),
                        one.backward(c.input(), c.gradOutput(), c.spec()).toArray(), c.name());
            }
        }
    }
}
