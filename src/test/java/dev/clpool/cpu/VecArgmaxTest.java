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
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * {@link VecArgmax} against its scalar twins, called directly on the same inputs: the values and
 * indices of {@link ArgmaxRows#vectorRow} against {@link ArgmaxRows#row} in every convention, and
 * {@link VecArgmax#taps} against {@link CpuArgmax#row}'s tap numbers, bit for bit, over channel
 * counts around the vector length (tails) and from the tap-by-tap form's up, random strides, dilations, padding and ceil mode, on
 * data with ties, ±0, NaNs of both signs with payloads, infinities, and all-zero, constant, all
 * −∞ and Gaussian inputs.
 */
class VecArgmaxTest {
    @BeforeAll
    static void vectorsOn() {
        assumeTrue(VectorSupport.ENABLED, "the Vector API kernels are off in this JVM");
    }

    /** Channel counts at and around the vector length: one vector, tails, several vectors. */
    static int channels(SplittableRandom r) {
        int l = VecWidth.floats();
        int[] c = {l, l + 1, 2 * l - 1, 2 * l + 3, 3 * l};
        return c[r.nextInt(c.length)];
    }

    /** Input data of kind {@code kind}: 0 hard (CpuArgmaxTest), 1 Gaussian, 2 all zero, 3 constant, 4 all −∞. */
    static Tensor data(Shape s, int kind, long seed) {
        if (kind == 0) {
            return CpuArgmaxTest.hard(s, seed);
        }
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            v[i] = switch (kind) {
                case 1 -> (float) r.nextGaussian();
                case 2 -> 0f;
                case 3 -> 2.5f;
                default -> Float.NEGATIVE_INFINITY;
            };
        }
        return Tensor.of(s, v);
    }

    static PoolSpec spec(SplittableRandom r, int repetition) {
        return repetition % 5 == 0 ? PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build()
                : CpuArgmaxTest.randomSpec(r, repetition % 2 == 0);
    }

    @RepeatedTest(15)
    void indicesAndTapsAreTheScalarPathsBits(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        SplittableRandom r = new SplittableRandom(900 + rep);
        check(rep, r, spec(r, rep), channels(r));
    }

    @RepeatedTest(6)
    void manyChannels_chosenTapByTap_areTheScalarPathsBits(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        SplittableRandom r = new SplittableRandom(950 + rep);
        // From VecMaxWindows.TAP_MAJOR_CHANNELS up, with and without a tail vector.
        check(rep, r, spec(r, rep), VecMaxWindows.TAP_MAJOR_CHANNELS + (rep % 2 == 0 ? 0 : 1 + r.nextInt(40)));
    }

    @RepeatedTest(10)
    void twoByTwoWindows_fourTapsInRegisters_areTheScalarPathsBits(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        SplittableRandom r = new SplittableRandom(980 + rep);
        // Stride 2 and 1, ceil mode on odd sizes (last windows of one or two taps), dilation; C up to the tap-by-tap form's.
        PoolSpec spec = PoolSpec.max(2, 2).stride(rep % 3 == 0 ? 1 : 2).dilation(rep % 4 == 3 ? 2 : 1)
                .ceilMode(rep % 2 == 0).build();
        check(rep, r, spec, rep % 3 == 2 ? VecMaxWindows.TAP_MAJOR_CHANNELS + 1 + r.nextInt(40) : channels(r));
    }

    @Test
    void twoByTwoWindows_everyOrderOfNansZerosAndInfinities_areTheScalarPathsBits() {
        Tensor x = VecTestData.everyFourTapOrder();
        compare(PoolSpec.max(2, 2).stride(2).build(), x, "every order of four taps");
    }

    private static void check(int rep, SplittableRandom r, PoolSpec spec, int channels) {
        Shape s = Shape.of(1 + r.nextInt(2), 5 + r.nextInt(6), 5 + r.nextInt(8), channels);
        compare(spec, data(s, rep % 5, rep), spec + " on " + s + ", data " + rep % 5);
    }

    private static void compare(PoolSpec spec, Tensor x, String what) {
        Shape s = x.shape();
        PoolGeometry g = spec.geometry(s);
        for (IndexConvention conv : IndexConvention.values()) {
            ArgmaxRows rows = ArgmaxRows.of(new WindowPlan(g), IndexForm.of(conv, s));
            assertTrue(rows.vectors(), what);
            Tensor want = Tensor.allocate(g.output());
            Tensor got = Tensor.allocate(g.output());
            Indices wantIdx = Indices.allocate(g.output(), conv);
            Indices gotIdx = Indices.allocate(g.output(), conv);
            Scratch sc = Scratch.get();
            for (int n = 0; n < g.output().n(); n++) {
                for (int oy = 0; oy < g.output().h(); oy++) {
                    rows.row(CpuArgmax.bits(x), CpuArgmax.bits(want), wantIdx.longs(), n, oy, sc);
                    rows.vectorRow(x.buffer(), got.buffer(), gotIdx.buffer(), n, oy, sc);
                }
            }
            assertArrayEquals(bits(want), bits(got), what + ", values, " + conv.word());
            assertArrayEquals(wantIdx.toArray(), gotIdx.toArray(), what + ", indices, " + conv.word());
        }
        assertArrayEquals(scalarTaps(g, x), vectorTaps(g, x), what + ", tap numbers");
    }

    @Test
    void fewerChannelsThanLanesStayScalar() {
        Shape s = Shape.of(1, 6, 6, VecWidth.floats() - 1);
        PoolGeometry g = PoolSpec.max(2, 2).stride(2).build().geometry(s);
        assertFalse(ArgmaxRows.of(new WindowPlan(g), IndexForm.of(IndexConvention.NHWC, s)).vectors());
    }

    static int[] bits(Tensor t) {
        int[] b = new int[Math.toIntExact(t.shape().elementCount())];
        CpuArgmax.bits(t).get(0, b);
        return b;
    }

    private static int[] scalarTaps(PoolGeometry g, Tensor x) {
        CpuArgmax argmax = new CpuArgmax(g);
        Shape os = g.output();
        int width = os.w() * os.c();
        int[] taps = new int[Math.toIntExact(os.elementCount())];
        Scratch sc = Scratch.get();
        for (int row = 0; row < os.n() * os.h(); row++) {
            int[] tap = sc.ints(4, 1, width)[0];
            argmax.row(CpuArgmax.bits(x), row / os.h(), row % os.h(), sc.ints(0, g.rows().window(), g.input().w() * os.c()),
                    tap, sc);
            System.arraycopy(tap, 0, taps, row * width, width);
        }
        return taps;
    }

    private static int[] vectorTaps(PoolGeometry g, Tensor x) {
        WindowPlan p = new WindowPlan(g);
        Shape os = g.output();
        int width = os.w() * os.c();
        int[] numbers = new int[g.rows().window() * g.cols().window()];
        java.util.Arrays.setAll(numbers, t -> t);
        int[] taps = new int[Math.toIntExact(os.elementCount())];
        int[] rowAt = new int[g.rows().window()];
        ByteBuffer in = x.buffer();
        for (int row = 0; row < os.n() * os.h(); row++) {
            int n = row / os.h();
            int oy = row % os.h();
            for (int jy = p.rowFirst[oy]; jy < p.rowEnd[oy]; jy++) {
                rowAt[jy] = Math.toIntExact(g.input().offset(n, p.inputRow(oy, jy), 0, 0));
            }
            VecArgmax.taps(in, rowAt, p.rowFirst[oy], p.rowEnd[oy], g.cols().window(), numbers, p.colStart, p.colFirst,
                    p.colEnd, p.dw, p.c, taps, row * width);
        }
        return taps;
    }
}
