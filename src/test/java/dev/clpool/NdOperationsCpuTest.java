package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.clpool.testing.NaiveNd;
import dev.clpool.testing.NaiveUnpool;
import dev.clpool.testing.Tolerance;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every operation on tensors of spatial rank 1, 2 and 3 in both layouts, on the CPU path, against
 * {@link NaiveNd} (float64, tap by tap): random specs with padding, dilation, ceil mode and both
 * divisors, data with ties, signed zeros, infinities and NaN. Max and indices exact, sums within
 * SEMANTICS.md's tolerance.
 */
class NdOperationsCpuTest {
    private static final long SEED = Long.getLong("clpool.nd.seed", 20261206L);
    private static PoolingEngine engine;

    @BeforeAll
    static void open() {
        engine = PoolingEngine.builder().backend(BackendChoice.CPU).cpuThreads(2).build();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @Test
    void windowedPooling_indicesAndBackward_matchTheReference_inEveryRankAndLayout() {
        SplittableRandom r = new SplittableRandom(SEED);
        int ran = 0;
        for (int i = 0; i < 240; i++) {
            TensorShape s = shape(r, 1 + i % 3, i % 2 == 0 ? Layout.CHANNELS_LAST : Layout.CHANNELS_FIRST);
            PoolSpec spec = spec(r, s, PoolMode.values()[r.nextInt(3)]);
            if (spec == null) {
                continue;
            }
            String what = "case " + i + " " + s + " " + s.describe() + " " + spec;
            ran++;
            float[] x = data(r, s);
            Tensor in = Tensor.of(s, DType.FLOAT32, x);
            NaiveNd.Result want = NaiveNd.pool(x, s, spec, IndexConvention.NHWC);
            check(engine.pool(in, spec).toArray(), want.values(), spec.mode() == PoolMode.MAX, what);
            if (spec.mode() == PoolMode.LP) {
                continue;
            }
            if (spec.mode() == PoolMode.MAX) {
                IndexConvention conv = IndexConvention.values()[r.nextInt(4)];
                NaiveNd.Result wantIdx = NaiveNd.pool(x, s, spec, conv);
                try (PooledWithIndices got = engine.poolWithIndices(in, spec, conv)) {
                    check(got.values().toArray(), wantIdx.values(), true, what);
                    assertArrayEquals(wantIdx.indices(), got.indices().toArray(), what + " indices " + conv.word());
                }
            }
            TensorShape o = spec.outputShape(s);
            float[] dy = data(r, o);
            for (int j = 0; j < dy.length; j++) {
                dy[j] = Float.isFinite(dy[j]) ? dy[j] : 1f;
            }
            float[] xs = x.clone();
            for (int j = 0; j < xs.length; j++) {
                xs[j] = Float.isNaN(xs[j]) ? 0f : xs[j];
            }
            Tensor got = engine.backward(Tensor.of(s, DType.FLOAT32, xs), Tensor.of(o, DType.FLOAT32, dy), spec);
            check(got.toArray(), NaiveNd.backward(xs, dy, s, spec), false, what + " backward");
        }
        assertEquals(true, ran > 120, "only " + ran + " of 240 random specs could run");
    }

    /** Channels-first max and avg backward of windows tiling rows of several vectors: the one-pass kernel where the Vector API is on. */
    @Test
    void pairWindowBackward_channelsFirst_matchesTheReference_inEveryRank() {
        SplittableRandom r = new SplittableRandom(SEED + 1);
        int[][] dims = {{70}, {6, 70}, {4, 2, 70}};
        for (int[] d : dims) {
            for (PoolMode mode : new PoolMode[] {PoolMode.MAX, PoolMode.AVG}) {
                TensorShape s = TensorShape.channelsFirst(2, 3, d);
                int[] k = new int[d.length];
                java.util.Arrays.fill(k, 2);
                PoolSpec spec = PoolSpec.builder(mode).window(k).stride(k).build();
                float[] x = data(r, s);
                for (int j = 0; j < x.length; j++) {
                    x[j] = Float.isNaN(x[j]) ? 0f : x[j];
                }
                TensorShape o = spec.outputShape(s);
                float[] dy = data(r, o);
                for (int j = 0; j < dy.length; j++) {
                    dy[j] = Float.isFinite(dy[j]) ? dy[j] : 1f;
                }
                Tensor got = engine.backward(Tensor.of(s, DType.FLOAT32, x), Tensor.of(o, DType.FLOAT32, dy), spec);
                check(got.toArray(), NaiveNd.backward(x, dy, s, spec), mode == PoolMode.MAX,
                        s.describe() + " " + spec + " backward");
            }
        }
    }

    @Test
    void adaptiveAndGlobal_matchTheReference_inEveryRankAndLayout() {
        SplittableRandom r = new SplittableRandom(SEED + 1);
        for (int i = 0; i < 120; i++) {
            TensorShape s = shape(r, 1 + i % 3, i % 2 == 0 ? Layout.CHANNELS_LAST : Layout.CHANNELS_FIRST);
            String what = "case " + i + " " + s + " " + s.describe();
            float[] x = data(r, s);
            Tensor in = Tensor.of(s, DType.FLOAT32, x);
            int[] size = new int[s.rank()];
            for (int a = 0; a < size.length; a++) {
                size[a] = 1 + r.nextInt(s.spatial(a) + 2);
            }
            PoolMode mode = r.nextBoolean() ? PoolMode.MAX : PoolMode.AVG;
            check(engine.adaptive(mode, in, size).toArray(), NaiveNd.adaptive(x, s, mode, size), mode == PoolMode.MAX,
                    what + " adaptive " + mode + " to " + java.util.Arrays.toString(size));
            check(engine.global(mode, in).toArray(), NaiveNd.global(x, s, mode, 0), mode == PoolMode.MAX, what + " global");
            double p = 1 + r.nextInt(3);
            check(engine.globalLp(in, p).toArray(), NaiveNd.global(x, s, PoolMode.LP, p), false, what + " global lp " + p);
        }
    }

    @Test
    void deviceTensorForms_equalTheHostForms_inEveryRankAndLayout() {
        SplittableRandom r = new SplittableRandom(SEED + 3);
        for (int i = 0; i < 60; i++) {
            TensorShape s = shape(r, 1 + i % 3, i % 2 == 0 ? Layout.CHANNELS_LAST : Layout.CHANNELS_FIRST);
            PoolSpec spec = spec(r, s, r.nextBoolean() ? PoolMode.MAX : PoolMode.AVG);
            if (spec == null) {
                continue;
            }
            String what = "case " + i + " " + s + " " + s.describe() + " " + spec;
            Tensor x = Tensor.of(s, DType.FLOAT32, data(r, s));
            TensorShape o = spec.outputShape(s);
            Tensor dy = Tensor.of(o, DType.FLOAT32, data(r, o));
            int[] size = s.spatial();
            size[0] = 1 + r.nextInt(size[0] + 1);
            try (DeviceTensor dx = engine.upload(x); DeviceTensor ddy = engine.upload(dy);
                 DeviceTensor p = engine.pool(dx, spec); DeviceTensor g = engine.global(spec.mode(), dx);
                 DeviceTensor a = engine.adaptive(spec.mode(), dx, size); DeviceTensor b = engine.backward(dx, ddy, spec)) {
                assertEquals(s, dx.tensorShape(), what);
                assertArrayEquals(engine.pool(x, spec).toArray(), p.download().toArray(), what + " pool");
                assertArrayEquals(engine.global(spec.mode(), x).toArray(), g.download().toArray(), what + " global");
                assertArrayEquals(engine.adaptive(spec.mode(), x, size).toArray(), a.download().toArray(), what + " adaptive");
                assertArrayEquals(engine.backward(x, dy, spec).toArray(), b.download().toArray(), what + " backward");
                if (spec.mode() == PoolMode.MAX && s.rank() <= 2) {
                    try (DevicePooledWithIndices d = engine.poolWithIndices(dx, spec, IndexConvention.ONNX);
                         PooledWithIndices h = engine.poolWithIndices(x, spec, IndexConvention.ONNX)) {
                        assertArrayEquals(h.indices().toArray(), d.indices().download().toArray(), what + " indices");
                    }
                }
            }
        }
    }

    @Test
    void unpool_ofPoolWithIndices_matchesTheReference_inEveryRankLayoutAndConvention() {
        SplittableRandom r = new SplittableRandom(SEED + 4);
        int ran = 0;
        for (int i = 0; i < 90; i++) {
            TensorShape s = shape(r, 1 + i % 3, i % 2 == 0 ? Layout.CHANNELS_LAST : Layout.CHANNELS_FIRST);
            int[] k = new int[s.rank()];
            int[] st = new int[s.rank()];
            int[] b = new int[s.rank()];
            for (int a = 0; a < k.length; a++) {
                k[a] = 1 + r.nextInt(3);
                st[a] = 1 + r.nextInt(3);
                b[a] = r.nextInt(k[a]);
            }
            PoolSpec spec = PoolSpec.max(k).stride(st).padding(Padding.perAxis(b, b)).build();
            if (spec.check(s).isPresent()) {
                continue;
            }
            ran++;
            IndexConvention conv = IndexConvention.values()[r.nextInt(4)];
            String what = "case " + i + " " + s + " " + s.describe() + " " + spec + " " + conv.word();
            Tensor x = Tensor.of(s, data(r, s));
            try (PooledWithIndices p = engine.poolWithIndices(x, spec, conv)) {
                Tensor y;
                try {
                    y = engine.unpool(p.values(), p.indices(), spec, s.spatial());
                } catch (InvalidSpecException e) {
                    // The input's size is not an unpooling size of this spec (padding beyond the input): the default is.
                    try {
                        y = engine.unpool(p.values(), p.indices(), spec);
                    } catch (InvalidSpecException | InvalidInputException e2) {
                        continue; // no output size restores this pooling (the default is empty, or too small for the indices)
                    }
                }
                float[] v = p.values().toArray();
                int[] bits = new int[v.length];
                for (int j = 0; j < v.length; j++) {
                    bits[j] = Float.floatToRawIntBits(v[j]);
                }
                int[] want = NaiveUnpool.unpool(s.withSpatial(p.values().tensorShape().spatial()), y.tensorShape(), conv,
                        bits, p.indices().toArray());
                float[] got = y.toArray();
                for (int j = 0; j < got.length; j++) {
                    assertEquals(want[j], Float.floatToRawIntBits(got[j]), what + ": element " + j);
                }
            }
        }
        assertEquals(true, ran > 40, "only " + ran + " unpool cases ran");
        Tensor v = Tensor.of(TensorShape.channelsFirst(1, 1, 2), 1f, 2f);
        Indices bad = Indices.allocate(v.tensorShape(), IndexConvention.PYTORCH);
        bad.longs().put(1, 7);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> engine.unpool(v, bad, PoolSpec.max(new int[] {2}).build()));
        assertEquals(true, e.getMessage().contains("7"), e.getMessage());
    }

    @Test
    void float16_threeD_roundsOnce() {
        TensorShape s = TensorShape.channelsFirst(1, 2, 3, 4, 5);
        SplittableRandom r = new SplittableRandom(SEED + 2);
        float[] x = new float[(int) s.elementCount()];
        for (int i = 0; i < x.length; i++) {
            x[i] = Float16.toFloat(Float16.fromFloat((float) r.nextGaussian()));
        }
        for (Layout layout : Layout.values()) {
            // Max in the storage type, two passes: the same bits as float32 on the same values.
            TensorShape t = TensorShape.of(1, 2, new int[] {3, 4, 5}, layout);
            PoolSpec max = PoolSpec.max(2, 3, 2).stride(1, 2, 1).padding(Padding.of(1)).build();
            float[] half = engine.pool(Tensor.of(t, DType.FLOAT16, x), max).toArray();
            assertArrayEquals(engine.pool(Tensor.of(t, DType.FLOAT32, x), max).toArray(), half, layout.word());
        }
        PoolSpec spec = PoolSpec.builder(PoolMode.AVG).window(2, 3, 2).stride(1).padding(Padding.of(1)).build();
        float[] got = engine.pool(Tensor.of(s, DType.FLOAT16, x), spec).toArray();
        double[] want = NaiveNd.pool(x, s, spec, IndexConvention.NHWC).values();
        for (int i = 0; i < got.length; i++) {
            // The float32 result rounded once: the nearest float16, or its neighbour when the exact
            // value lies within the float32 tolerance of the midpoint between them.
            float nearest = Float16.toFloat(Float16.fromFloat((float) want[i]));
            double mid = (nearest + (double) got[i]) / 2;
            boolean ok = got[i] == nearest || Math.abs(want[i] - mid) <= Tolerance.REL * Math.max(1, Math.abs(want[i]));
            assertEquals(true, ok, "element " + i + " is " + got[i] + ", nearest float16 to " + want[i] + " is " + nearest);
        }
    }

    /**
     * A 16-bit 3-D backward works in float32 and rounds once: with windows that tile the input
     * each gradient element receives one term, so the float16 result is the float32 result
     * rounded, bit for bit (mostly zeros for max: the bulk conversion's zero lanes). Rows of 64
     * take the CPU path's one-pass channels-first kernel (where the Vector API runs), channels-last
     * the lowered passes.
     */
    @Test
    void float16_threeD_backward_isTheFloat32GradientRoundedOnce() {
        SplittableRandom r = new SplittableRandom(SEED + 3);
        for (Layout layout : Layout.values()) {
            TensorShape t = TensorShape.of(2, 3, new int[] {4, 6, 64}, layout);
            float[] x = new float[(int) t.elementCount()];
            for (int i = 0; i < x.length; i++) {
                x[i] = Float16.toFloat(Float16.fromFloat((float) r.nextGaussian()));
            }
            for (PoolMode mode : new PoolMode[] {PoolMode.MAX, PoolMode.AVG}) {
                PoolSpec spec = PoolSpec.builder(mode).window(2, 2, 2).stride(2).build();
                TensorShape o = engine.pool(Tensor.of(t, DType.FLOAT32, x), spec).tensorShape();
                float[] dy = new float[(int) o.elementCount()];
                for (int i = 0; i < dy.length; i++) {
                    dy[i] = Float16.toFloat(Float16.fromFloat((float) r.nextGaussian()));
                }
                Tensor want = engine.backward(Tensor.of(t, DType.FLOAT32, x), Tensor.of(o, DType.FLOAT32, dy), spec)
                        .convert(DType.FLOAT16);
                Tensor got = engine.backward(Tensor.of(t, DType.FLOAT16, x), Tensor.of(o, DType.FLOAT16, dy), spec);
                assertEquals(DType.FLOAT16, got.dtype());
                assertArrayEquals(want.toArray(), got.toArray(), mode.word() + " " + layout.word());
            }
        }
    }

    @Test
    void aSpecOfAnotherRank_isRefused_namingBoth() {
        Tensor x = Tensor.allocate(TensorShape.channelsFirst(1, 1, 4, 4, 4));
        InvalidSpecException e = assertThrows(InvalidSpecException.class, () -> engine.pool(x, PoolSpec.max(2, 2).build()));
        assertEquals(true, e.getMessage().contains("2-D") && e.getMessage().contains("rank 3"), e.getMessage());
    }

    // ---- random cases ----

    private static TensorShape shape(SplittableRandom r, int rank, Layout layout) {
        int[] sp = new int[rank];
        for (int i = 0; i < rank; i++) {
            sp[i] = 1 + r.nextInt(rank == 3 ? 5 : 8);
        }
        return TensorShape.of(1 + r.nextInt(2), 1 + r.nextInt(3), sp, layout);
    }

    /** A random valid spec for {@code s}, or null when the draw cannot run on it. */
    private static PoolSpec spec(SplittableRandom r, TensorShape s, PoolMode mode) {
        int rank = s.rank();
        int[] k = new int[rank];
        int[] st = new int[rank];
        int[] d = new int[rank];
        int[] b = new int[rank];
        int[] e = new int[rank];
        for (int i = 0; i < rank; i++) {
            k[i] = 1 + r.nextInt(3);
            st[i] = 1 + r.nextInt(3);
            d[i] = r.nextInt(4) == 0 ? 2 : 1;
            int eff = (k[i] - 1) * d[i] + 1;
            b[i] = r.nextInt(eff);
            e[i] = r.nextInt(eff);
        }
        Padding pad = switch (r.nextInt(4)) {
            case 0 -> Padding.VALID;
            case 1 -> r.nextBoolean() ? Padding.SAME : Padding.SAME_LOWER;
            default -> Padding.perAxis(b, e);
        };
        PoolSpec spec = PoolSpec.builder(mode).window(k).stride(st).dilation(d).padding(pad).ceilMode(r.nextBoolean())
                .countIncludePad(r.nextBoolean()).p(1 + r.nextInt(3)).build();
        return spec.check(s).isPresent() ? null : spec;
    }

    private static float[] data(SplittableRandom r, TensorShape s) {
        float[] x = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < x.length; i++) {
            int pick = r.nextInt(40);
            x[i] = pick == 0 ? Float.NaN : pick == 1 ? Float.POSITIVE_INFINITY : pick == 2 ? -0f : pick < 6 ? 0f
                    : pick < 16 ? r.nextInt(-3, 4) : (float) r.nextGaussian();
        }
        return x;
    }

    private static void check(float[] got, double[] want, boolean exact, String what) {
        assertEquals(want.length, got.length, what + ": element count");
        for (int i = 0; i < got.length; i++) {
            float w = (float) want[i];
            boolean ok = exact ? Float.floatToRawIntBits(got[i]) == Float.floatToRawIntBits(w)
                    || Float.isNaN(got[i]) && Float.isNaN(w)
                    : Tolerance.close(got[i], want[i], Tolerance.REL);
            if (!ok) {
                fail(what + ": element " + i + " is " + got[i] + ", expected " + want[i]);
            }
        }
    }
}
