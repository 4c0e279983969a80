package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.Axis;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.NaiveReference;
import dev.clpool.testing.Tolerance;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The channels-first kernels against the channels-last path on the same memory viewed as batch
 * N*C with one channel (ranks 1 and 2; bit-identical for max, and for sums both within tolerance of
 * the float64 {@link NaiveReference}), and against a plain float64 reference written here for
 * rank 3 and for global pooling. Data mixes signed zeros, NaNs with their own payloads and
 * infinities, so the exact max rule and the averages' fallback are exercised.
 */
class ChannelsFirstPoolTest {
    private static CpuBackend cpu;
    private static ChannelsFirstPool cf;

    @BeforeAll
    static void open() {
        cpu = new CpuBackend(3);
        cf = new ChannelsFirstPool(cpu);
    }

    @AfterAll
    static void close() {
        cpu.close();
    }

    /** Values of one of a few kinds: plain, zeros of both signs with NaNs and infinities, or near 1000. */
    static float[] data(int count, long seed, int kind) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            int k = r.nextInt(100);
            if (kind == 1 && k == 0) {
                v[i] = Float.intBitsToFloat(0x7fc00000 | r.nextInt(1 << 22));
            } else if (kind == 1 && k == 1) {
                v[i] = r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
            } else if (kind == 1 && k < 40) {
                v[i] = k % 2 == 0 ? 0f : -0f;
            } else if (kind == 2) {
                v[i] = 1000f + (float) r.nextDouble();
            } else {
                v[i] = (float) (r.nextDouble() * 8 - 6);
            }
        }
        return v;
    }

    record Case2(String name, int planes, int h, int w, PoolSpec spec, int kind) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Random 2-D specs (each valid for its shape), every mode, every data kind. */
    static Stream<Case2> random2d() {
        SplittableRandom r = new SplittableRandom(13);
        return IntStream.range(0, 400).mapToObj(i -> {
            while (true) {
                int h = 1 + r.nextInt(i % 10 == 0 ? 160 : 24);
                int w = 1 + r.nextInt(i % 7 == 0 ? 120 : 24);
                PoolMode mode = PoolMode.values()[i % 3];
                int kh = 1 + r.nextInt(5);
                int kw = 1 + r.nextInt(5);
                int dh = 1 + r.nextInt(3);
                int dw = 1 + r.nextInt(3);
                int eh = (kh - 1) * dh + 1;
                int ew = (kw - 1) * dw + 1;
                PoolSpec spec = PoolSpec.builder(mode).window(kh, kw).stride(1 + r.nextInt(4), 1 + r.nextInt(4))
                        .dilation(dh, dw)
                        .padding(Padding.of(r.nextInt(eh), r.nextInt(eh), r.nextInt(ew), r.nextInt(ew)))
                        .ceilMode(r.nextBoolean()).countIncludePad(r.nextBoolean()).p(mode == PoolMode.LP ? 1 + r.nextInt(3) : 2)
                        .build();
                Shape s = Shape.of(1 + r.nextInt(4), h, w, 1);
                if (spec.check(s).isPresent()) {
                    continue;
                }
                int kind = mode == PoolMode.LP ? 0 : i % 3;
                return new Case2(i + ": " + spec + " on " + h + "x" + w + " kind " + kind, s.n(), h, w, spec, kind);
            }
        });
    }

    @ParameterizedTest
    @MethodSource("random2d")
    void rank2_matchesChannelsLastView(Case2 c) {
        check2d(c, false);
    }

    @ParameterizedTest
    @MethodSource("random2d")
    void rank1_matchesChannelsLastView(Case2 c) {
        PoolSpec s = c.spec;
        Padding pad = s.padding();
        PoolSpec one = PoolSpec.builder(s.mode()).window(1, s.windowW()).stride(1, s.strideW()).dilation(1, s.dilationW())
                .padding(Padding.of(0, 0, pad.left(), pad.right())).ceilMode(s.ceilMode())
                .countIncludePad(s.countIncludePad()).p(s.p()).build();
        check2d(new Case2(c.name, c.planes * c.h, 1, c.w, one, c.kind), true);
    }

    /**
     * Max with windows of 6 to 17 columns (the random specs stop at 5): the horizontal pass folds
     * by doubling, and these widths take every branch of it (a power of two, and two overlapping
     * halves), with dilation, padding, ceil mode, 1-D and 2-D, bit-identical to the channels-last view.
     */
    @Test
    void maxOfWideWindows_doublingFolds_matchChannelsLastView() {
        SplittableRandom r = new SplittableRandom(29);
        int checked = 0;
        while (checked < 60) {
            int kw = 6 + r.nextInt(12);
            int dw = 1 + r.nextInt(3);
            int ew = (kw - 1) * dw + 1;
            int h = 1 + r.nextInt(6);
            int w = ew + r.nextInt(40);
            int kh = 1 + r.nextInt(Math.min(h, 3));
            PoolSpec spec = PoolSpec.builder(PoolMode.MAX).window(kh, kw).stride(1, 1 + r.nextInt(kw + 2)).dilation(1, dw)
                    .padding(Padding.of(0, 0, r.nextInt(ew), r.nextInt(ew))).ceilMode(r.nextBoolean()).build();
            Shape s = Shape.of(1 + r.nextInt(3), h, w, 1);
            if (spec.check(s).isPresent()) {
                continue;
            }
            int kind = checked % 3;
            check2d(new Case2("wide " + checked + ": " + spec + " on " + h + "x" + w + " kind " + kind, s.n(), h, w, spec,
                    kind), h == 1);
            checked++;
        }
    }

    private static void check2d(Case2 c, boolean rank1) {
        Shape view = Shape.of(c.planes, c.h, c.w, 1);
        float[] x = data(c.planes * c.h * c.w, c.name.hashCode(), c.kind);
        PoolGeometry g = c.spec.geometry(view);
        Tensor want = Tensor.allocate(g.output());
        cpu.pool(g, Tensor.of(view, x), want);
        float[] got = run(c.spec, x, (int) g.output().elementCount(), c.planes,
                rank1 ? new Axis[] {g.cols()} : new Axis[] {g.rows(), g.cols()});
        if (c.spec.mode() == PoolMode.MAX) {
            Tolerance.assertBitIdentical(got, floats(want), c.name);
        } else {
            Tolerance.assertClose(got, NaiveReference.pool(x, view, c.spec), c.name);
        }
    }

    private static float[] run(PoolSpec spec, float[] x, int outs, int planes, Axis... axes) {
        ByteBuffer out = direct(new float[outs]);
        cf.pool(spec.mode(), spec.p(), spec.countIncludePad(), direct(x), out, planes, axes);
        return floats(out);
    }

    /** {@code x} in a direct buffer of exactly its bytes, native order (as a tensor's storage). */
    static ByteBuffer direct(float[] x) {
        ByteBuffer b = ByteBuffer.allocateDirect(x.length * Float.BYTES).order(ByteOrder.nativeOrder());
        b.asFloatBuffer().put(x);
        return b;
    }

    private static float[] floats(ByteBuffer b) {
        float[] f = new float[b.capacity() / Float.BYTES];
        b.order(ByteOrder.nativeOrder()).asFloatBuffer().get(f);
        return f;
    }

    private static float[] floats(Tensor t) {
        float[] f = new float[Math.toIntExact(t.shape().elementCount())];
        t.floats().get(0, f);
        return f;
    }

    /** A random valid axis: out >= 1, and every window covers input. */
    private static Axis axis(SplittableRandom r, int maxIn) {
        while (true) {
            int in = 1 + r.nextInt(maxIn);
            int k = 1 + r.nextInt(4);
            int s = 1 + r.nextInt(3);
            int d = 1 + r.nextInt(3);
            int e = (k - 1) * d + 1;
            int pb = r.nextInt(e);
            int pe = r.nextInt(e);
            long out = Axis.explicitOut(in, e, s, pb, pe, r.nextBoolean());
            if (out < 1) {
                continue;
            }
            Axis a = new Axis(in, (int) out, k, s, d, pb, pe);
            if (IntStream.range(0, a.out()).allMatch(o -> a.count(o) > 0)) {
                return a;
            }
        }
    }

    @Test
    void rank3_matchesPlainReference() {
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 240; i++) {
            Axis[] axes = {axis(r, 9), axis(r, 12), axis(r, 30)};
            int planes = 1 + r.nextInt(6);
            PoolMode mode = PoolMode.values()[i % 3];
            boolean include = r.nextBoolean();
            int kind = mode == PoolMode.LP ? 0 : (i / 3) % 3;
            int count = planes * axes[0].in() * axes[1].in() * axes[2].in();
            float[] x = data(count, i, kind);
            int outs = planes * axes[0].out() * axes[1].out() * axes[2].out();
            ByteBuffer bytes = direct(new float[outs]);
            cf.pool(mode, 2, include, direct(x), bytes, planes, axes);
            FloatBuffer out = FloatBuffer.wrap(floats(bytes));
            double[] want = reference3d(mode, include, x, planes, axes);
            String what = i + ": " + mode + " include " + include + " kind " + kind + " " + java.util.Arrays.toString(axes);
            if (mode == PoolMode.MAX) {
                float[] w = new float[outs];
                for (int j = 0; j < outs; j++) {
                    w[j] = (float) want[j];
                }
                Tolerance.assertBitIdentical(out.array(), w, what);
            } else {
                Tolerance.assertClose(out.array(), want, what);
            }
        }
    }

    /**
     * Rank-3 pooling straight from SEMANTICS.md: max by clpool's rule in scan order (kept as the
     * float's bits), avg and lp (p = 2) summed in double.
     */
    private static double[] reference3d(PoolMode mode, boolean include, float[] x, int planes, Axis[] a) {
        double[] out = new double[planes * a[0].out() * a[1].out() * a[2].out()];
        int i = 0;
        for (int pl = 0; pl < planes; pl++) {
            for (int oz = 0; oz < a[0].out(); oz++) {
                for (int oy = 0; oy < a[1].out(); oy++) {
                    for (int ox = 0; ox < a[2].out(); ox++) {
                        int[] o = {oz, oy, ox};
                        float m = Float.NEGATIVE_INFINITY;
                        double sum = 0;
                        long count = 1;
                        long padded = 1;
                        for (int ax = 0; ax < 3; ax++) {
                            long inside = 0;
                            long inPad = 0;
                            for (int j = 0; j < a[ax].window(); j++) {
                                long pos = (long) o[ax] * a[ax].stride() - a[ax].padBegin() + (long) j * a[ax].dilation();
                                inside += pos >= 0 && pos < a[ax].in() ? 1 : 0;
                                inPad += pos >= -a[ax].padBegin() && pos < a[ax].in() + a[ax].padEnd() ? 1 : 0;
                            }
                            count *= inside;
                            padded *= inPad;
                        }
                        for (int jz = 0; jz < a[0].window(); jz++) {
                            int z = oz * a[0].stride() - a[0].padBegin() + jz * a[0].dilation();
                            for (int jy = 0; jy < a[1].window(); jy++) {
                                int y = oy * a[1].stride() - a[1].padBegin() + jy * a[1].dilation();
                                for (int jx = 0; jx < a[2].window(); jx++) {
                                    int xx = ox * a[2].stride() - a[2].padBegin() + jx * a[2].dilation();
                                    if (z < 0 || z >= a[0].in() || y < 0 || y >= a[1].in() || xx < 0 || xx >= a[2].in()) {
                                        continue;
                                    }
                                    float v = x[((pl * a[0].in() + z) * a[1].in() + y) * a[2].in() + xx];
                                    m = (v > m || (v != v && m == m)) ? v : m;
                                    sum += mode == PoolMode.LP ? (double) v * v : v;
                                }
                            }
                        }
                        out[i++] = switch (mode) {
                            case MAX -> m;
                            case AVG -> sum / (include ? padded : count);
                            default -> Math.sqrt(sum);
                        };
                    }
                }
            }
        }
        return out;
    }

    @Test
    void maxOfSignedZerosAndNans_isExactInTallBands() {
        // Taller than one band (PlanePlan.BAND_FLOATS), stride 1, so bands overlap in input rows.
        PoolSpec spec = PoolSpec.max(3, 3).stride(1).padding(Padding.of(1)).build();
        check2d(new Case2("zeros 3x3 s1", 3, 400, 37, spec, 1), false);
        PoolSpec dilated = PoolSpec.max(3, 2).stride(2, 1).dilation(3, 2).padding(Padding.of(2, 1, 0, 1)).ceilMode(true).build();
        check2d(new Case2("zeros dilated", 2, 333, 64, dilated, 1), false);
    }

    @Test
    void averages_repeatBitForBit_whateverTheThreads() {
        // Tall planes, so that a range of rows splits differently with 1, 2 and 3 threads; values
        // near 1000 make some certificates fail (and fall back to double) at the corners.
        Axis[] axes = {new Axis(300, 150, 3, 2, 1, 1, 1), new Axis(45, 45, 3, 1, 1, 1, 1)};
        int planes = 5;
        float[] x = data(planes * 300 * 45, 99, 2);
        for (boolean include : new boolean[] {false, true}) {
            float[] one = null;
            for (int threads = 1; threads <= 3; threads++) {
                ByteBuffer out = direct(new float[planes * 150 * 45]);
                try (CpuBackend b = new CpuBackend(threads)) {
                    new ChannelsFirstPool(b).pool(PoolMode.AVG, 2, include, direct(x), out, planes, axes);
                }
                if (one == null) {
                    one = floats(out);
                } else {
                    Tolerance.assertBitIdentical(floats(out), one, threads + " threads against 1, include pad " + include);
                }
            }
        }
    }

    @Test
    void globalPooling_matchesPlainReference() {
        for (int size : new int[] {1, 3, 49, 50, PlaneGlobal.LARGE_PLANE - 1, PlaneGlobal.LARGE_PLANE, 100_003}) {
            for (int kind = 0; kind < 3; kind++) {
                int planes = size > 10_000 ? 3 : 37;
                float[] x = data(planes * size, size * 3L + kind, kind);
                for (PoolMode mode : PoolMode.values()) {
                    if (mode == PoolMode.LP && kind != 0) {
                        continue;
                    }
                    FloatBuffer out = FloatBuffer.allocate(planes);
                    cf.global(mode, 2, FloatBuffer.wrap(x), out, planes, size);
                    double[] want = new double[planes];
                    float[] wantMax = new float[planes];
                    for (int pl = 0; pl < planes; pl++) {
                        float m = Float.NEGATIVE_INFINITY;
                        double sum = 0;
                        for (int j = 0; j < size; j++) {
                            float v = x[pl * size + j];
                            m = (v > m || (v != v && m == m)) ? v : m;
                            sum += mode == PoolMode.LP ? (double) v * v : v;
                        }
                        wantMax[pl] = m;
                        want[pl] = mode == PoolMode.LP ? Math.sqrt(sum) : sum / size;
                    }
                    String what = "global " + mode + " size " + size + " kind " + kind;
                    if (mode == PoolMode.MAX) {
                        Tolerance.assertBitIdentical(out.array(), wantMax, what);
                    } else {
                        Tolerance.assertClose(out.array(), want, what);
                    }
                }
            }
        }
    }

    @Test
    void refusesShortBuffersAndBadRanks() {
        Axis a = new Axis(4, 2, 2, 2, 1, 0, 0);
        ByteBuffer in = direct(new float[7]);
        ByteBuffer out = direct(new float[2]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> cf.pool(PoolMode.MAX, 2, false, in, out, 2, a));
        assertTrue(e.getMessage().contains("input"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> cf.pool(PoolMode.MAX, 2, false, direct(new float[256]), out, 1, a, a, a, a));
        assertThrows(IllegalArgumentException.class,
                () -> cf.global(PoolMode.LP, 0, FloatBuffer.allocate(8), FloatBuffer.allocate(2), 2, 4));
    }
}
