package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.BackendChoice;
import dev.clpool.DType;
import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolSpec;
import dev.clpool.PooledWithIndices;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import dev.clpool.testing.NaiveArgmax;
import dev.clpool.testing.Tolerance;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * The one-pass argmax of max pooling with indices ({@link CpuArgmax#take}): channels-last rows
 * ({@link ArgmaxRows}: channel runs copied whole and element by element, strides 1–3) and
 * phase-split planes ({@link ArgmaxPlanes}: bands spanning several small planes, −∞ padding with
 * its fix-up, {@code nhwc} indices of channels-first tensors formed directly), against
 * {@link NaiveArgmax} and the two-pass tap path ({@link CpuMaxIndices#channels}), bit for bit, on
 * ties, ±0, ±∞ and NaN payloads, every index convention. Small tensors: this class runs in about a
 * second.
 */
class ArgmaxPassTest {
    private static PoolingEngine engine;

    @BeforeAll
    static void open() {
        engine = PoolingEngine.builder().backend(BackendChoice.CPU).build();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    /** Mostly −∞ (with ±0, NaN and ties among the rest): windows of −∞ only, with padding leading them. */
    private static Tensor negativeInfinities(Shape s, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            int k = r.nextInt(12);
            v[i] = k == 0 ? -0.0f : k == 1 ? Float.intBitsToFloat(0xffc00000 | r.nextInt(1 << 22))
                    : k == 2 ? -1f : Float.NEGATIVE_INFINITY;
        }
        return Tensor.of(s, v);
    }

    private static void assertSameAsNaiveAndTwoPass(PoolSpec spec, Tensor x, IndexConvention conv) {
        Shape s = x.shape();
        PoolGeometry g = spec.geometry(s);
        Tensor fast = Tensor.allocate(g.output());
        Tensor twoPass = Tensor.allocate(g.output());
        Indices fastIdx = Indices.allocate(g.output(), conv);
        Indices twoPassIdx = Indices.allocate(g.output(), conv);
        CpuMaxIndices.run(g, x, fast, fastIdx, TestParallel.FORK_JOIN);
        CpuMaxIndices.channels(g, x, twoPass, twoPassIdx, TestParallel.FORK_JOIN);
        NaiveArgmax.Result want = NaiveArgmax.pool(x.toArray(), s, spec, conv);
        String what = spec + " on " + s + ", " + conv.word();
        Tolerance.assertBitIdentical(fast.toArray(), want.values(), what);
        assertArrayEquals(want.indices(), fastIdx.toArray(), what);
        Tolerance.assertBitIdentical(twoPass.toArray(), want.values(), "two-pass " + what);
        assertArrayEquals(want.indices(), twoPassIdx.toArray(), "two-pass " + what);
    }

    @RepeatedTest(24)
    void channelsLast_wideAndNarrowChannelRuns_everyConvention(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        SplittableRandom r = new SplittableRandom(3100 + rep);
        PoolSpec spec = CpuArgmaxTest.randomSpec(r, rep % 2 == 0);
        // Below and above ArgmaxRows' 16-channel copy threshold.
        int c = rep % 3 == 0 ? 16 + r.nextInt(20) : 2 + r.nextInt(14);
        Shape s = Shape.of(1 + r.nextInt(2), 4 + r.nextInt(10), 4 + r.nextInt(10), c);
        Tensor x = rep % 4 == 0 ? negativeInfinities(s, rep) : CpuArgmaxTest.hard(s, rep);
        for (IndexConvention conv : IndexConvention.values()) {
            assertSameAsNaiveAndTwoPass(spec, x, conv);
        }
    }

    @RepeatedTest(24)
    void planes_bandsSpanningPlanes_negativeInfinityPadding_everyConvention(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        SplittableRandom r = new SplittableRandom(3200 + rep);
        PoolSpec spec = CpuArgmaxTest.randomSpec(r, rep % 2 == 0);
        // Many small planes: a band holds several, each with its slack rows.
        Shape s = Shape.of(3 + r.nextInt(30), 3 + r.nextInt(9), 3 + r.nextInt(9), 1);
        Tensor x = rep % 2 == 0 ? negativeInfinities(s, rep) : CpuArgmaxTest.hard(s, rep);
        for (IndexConvention conv : IndexConvention.values()) {
            assertSameAsNaiveAndTwoPass(spec, x, conv);
        }
    }

    @Test
    void planes_allNegativeInfinity_paddingNeverChosen() {
        // Every window is −∞ only; with padding leading, the first tap inside the input is the answer.
        Shape s = Shape.of(5, 7, 9, 1);
        float[] v = new float[Math.toIntExact(s.elementCount())];
        Arrays.fill(v, Float.NEGATIVE_INFINITY);
        PoolSpec spec = PoolSpec.max(3, 3).stride(2, 3).padding(Padding.of(2, 1, 2, 2)).ceilMode(true).build();
        for (IndexConvention conv : IndexConvention.values()) {
            assertSameAsNaiveAndTwoPass(spec, Tensor.of(s, v), conv);
        }
    }

    @Test
    void planes_largeStridesAndDilation_phasePlanes() {
        // Strides 3 and 4 (more phase planes than taps), dilation 2 (taps in one phase plane).
        Shape s = Shape.of(4, 23, 29, 1);
        Tensor x = CpuArgmaxTest.hard(s, 41);
        assertSameAsNaiveAndTwoPass(PoolSpec.max(2, 3).stride(3, 4).dilation(2, 2).padding(Padding.of(1, 0, 2, 1)).build(),
                x, IndexConvention.PYTORCH);
        assertSameAsNaiveAndTwoPass(PoolSpec.max(4, 1).stride(4, 1).build(), x, IndexConvention.ONNX);
    }

    @RepeatedTest(12)
    void nhwcPlanes_formedDirectly_equalPlanePositionsRewritten(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        SplittableRandom r = new SplittableRandom(3300 + rep);
        PoolSpec spec = CpuArgmaxTest.randomSpec(r, rep % 2 == 0);
        int n = 1 + r.nextInt(3);
        int c = 1 + r.nextInt(7);
        Shape view = Shape.of(n * c, 3 + r.nextInt(12), 3 + r.nextInt(12), 1);
        Tensor x = rep % 3 == 0 ? negativeInfinities(view, rep) : CpuArgmaxTest.hard(view, rep);
        PoolGeometry g = spec.geometry(view);
        Tensor y = Tensor.allocate(g.output());
        Indices idx = Indices.allocate(g.output(), IndexConvention.PYTORCH);
        CpuMaxIndices.runNhwcPlanes(g, x, y, idx, c, TestParallel.FORK_JOIN);
        NaiveArgmax.Result want = NaiveArgmax.pool(x.toArray(), view, spec, IndexConvention.PYTORCH);
        long[] nhwc = want.indices().clone();
        int plane = g.output().h() * g.output().w();
        for (int i = 0; i < nhwc.length; i++) {
            nhwc[i] = nhwc[i] * c + i / plane % c;
        }
        String what = spec + " on " + view + " as C=" + c;
        Tolerance.assertBitIdentical(y.toArray(), want.values(), what);
        assertArrayEquals(nhwc, idx.toArray(), what);
    }

    @Test
    void engine_channelsFirstNhwc_16BitStorage_sameIndicesAsFloat32AndChannelsLast() {
        // The engine's route for channels-first nhwc indices (maxWithNhwcPlaneIndices through the
        // widening wrapper): 16-bit storage gives float32's indices, and nhwc indices do not depend
        // on the layout, so they equal the channels-last twin's, transposed.
        int n = 2, c = 3, h = 9, w = 11;
        PoolSpec spec = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).ceilMode(true).build();
        Shape view = Shape.of(n * c, h, w, 1);
        float[] cf = CpuArgmaxTest.hard(view, 77).toArray();
        float[] cl = new float[cf.length];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < h * w; i++) {
                    cl[(b * h * w + i) * c + ch] = cf[(b * c + ch) * h * w + i];
                }
            }
        }
        long[] want;
        try (PooledWithIndices r = engine.poolWithIndices(Tensor.of(Shape.of(n, h, w, c), cl), spec,
                IndexConvention.NHWC)) {
            want = r.indices().toArray();
        }
        for (DType t : DType.values()) {
            try (PooledWithIndices r = engine.poolWithIndices(Tensor.of(TensorShape.channelsFirst(n, c, h, w), t, cf), spec,
                    IndexConvention.NHWC)) {
                long[] got = r.indices().toArray();
                int plane = got.length / (n * c);
                for (int b = 0; b < n; b++) {
                    for (int ch = 0; ch < c; ch++) {
                        for (int i = 0; i < plane; i++) {
                            assertEquals(want[(b * plane + i) * c + ch],
                                    got[(b * c + ch) * plane + i], t + " n=" + b + " c=" + ch + " at " + i);
                        }
                    }
                }
            }
        }
    }
}
