package dev.clpool.cpu;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.Axis;
import dev.clpool.Indices;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.backend.PoolingBackend;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * The multithreaded CPU path: the fallback, and the reference the device tests compare with.
 *
 * <p>Work is split into contiguous ranges of output rows (or, for global pooling, of pixel runs)
 * on a private fork-join pool, several ranges per thread; problems too small to be worth waking
 * the pool run in the calling thread. Max and average pooling run in {@link WindowedPool}: input
 * rows staged into heap arrays by bulk copies, an interior/border split so that interior windows
 * carry no bounds checks, channels innermost. LP pooling visits only the window taps inside the
 * input (tap ranges precomputed per axis). Scratch arrays are per thread and reused.
 *
 * <p>Max gives the same bits as the kernels (a strictly larger value, or the first NaN, wins; see
 * {@link #max}); averages and LP accumulate in double.
 */
public final class CpuBackend implements PoolingBackend {

    /** Ranges per thread in {@link #chunks}. */
    private static final int CHUNKS_PER_THREAD = 4;
    /** Below this many element visits a range is not worth a task of its own. */
    private static final long MIN_TASK_WORK = 1 << 15;
    /** Global pooling: the smallest run of one plane given to a task, in floats. */
    private static final long MIN_RUN_FLOATS = 1 << 14;
    /** Global pooling: floats staged per bulk copy. */
    private static final int STAGE_FLOATS = 1 << 14;

    private final ForkJoinPool pool;
    private final int threads;

    public CpuBackend(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.pool = new ForkJoinPool(threads);
    }

    /** One thread per available processor. */
    public CpuBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    @Override
    public String kind() {
        return "cpu";
    }

    @Override
    public String description() {
        return "CPU (" + threads + (threads == 1 ? " thread)" : " threads)");
    }

    @Override
    public void pool(PoolGeometry g, Tensor in, Tensor out) {
        FloatBuffer src = in.floats();
        FloatBuffer dst = out.floats();
        Shape os = g.output();
        int rows = os.n() * os.h();
        if (g.mode() == PoolMode.MAX || g.mode() == PoolMode.AVG) {
            WindowedPool kernel = new WindowedPool(g);
            chunks(rows, kernel.workPerRow(), (from, to) -> kernel.run(src, dst, from, to, Scratch.get()));
            return;
        }
        Taps taps = new Taps(g.rows());
        Taps cols = new Taps(g.cols());
        parallel(rows, task -> {
            int n = task / os.h();
            int oy = task % os.h();
            switch (g.mode()) {
                case LP: lpRow(g, taps, cols, src, dst, n, oy); break;
                default: throw new IllegalStateException("mode " + g.mode());
            }
        });
    }

    @Override
    public void backward(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn) {
        CpuBackward.run(g, in, gradOut, gradIn, this::parallel);
    }

    @Override
    public void global(PoolMode mode, Tensor in, Tensor out) {
        if (mode != PoolMode.MAX && mode != PoolMode.AVG) {
            throw new IllegalArgumentException("global pooling supports max and avg, not " + mode.word());
        }
        Shape s = in.shape();
        int hw = s.h() * s.w();
        int c = s.c();
        long plane = (long) hw * c;
        // Enough contiguous pixel runs to keep every thread busy even when N is 1, but runs of
        // at least MIN_RUN_FLOATS so that small planes are not split into slivers.
        int wanted = (int) Math.min(hw, Math.max(1, Math.min((4L * threads + s.n() - 1) / s.n(), plane / MIN_RUN_FLOATS)));
        int chunk = (hw + wanted - 1) / wanted;
        int runs = (hw + chunk - 1) / chunk;
        FloatBuffer src = in.floats();
        FloatBuffer dst = out.floats();
        boolean avg = mode == PoolMode.AVG;
        double[][] sums = avg ? new double[s.n() * runs][] : null;
        float[][] maxima = avg ? null : new float[s.n() * runs][];
        chunks(s.n() * runs, (long) chunk * c, (from, to) -> {
            Scratch scratch = Scratch.get();
            int stagePixels = Math.max(1, Math.min(chunk, STAGE_FLOATS / c));
            float[] stage = scratch.floats(0, stagePixels * c);
            // Max: one lane per staged element, so the fold is one same-index loop that C2
            // vectorises; the lanes of each channel are folded at the end of the run.
            float[] lanes = avg ? null : scratch.floats(1, stagePixels * c);
            for (int task = from; task < to; task++) {
                int n = task / runs;
                int p0 = (task % runs) * chunk;
                int p1 = Math.min(p0 + chunk, hw);
                double[] dacc = avg ? new double[c] : null;
                if (!avg) {
                    Arrays.fill(lanes, 0, stagePixels * c, Float.NEGATIVE_INFINITY);
                }
                int used = 0;
                for (int p = p0; p < p1; p += stagePixels) {
                    int pixels = Math.min(stagePixels, p1 - p);
                    int len = pixels * c;
                    used = Math.max(used, len);
                    src.get(Math.toIntExact(n * plane + (long) p * c), stage, 0, len);
                    if (avg) {
                        for (int q = 0; q < len; q += c) {
                            for (int ch = 0; ch < c; ch++) {
                                dacc[ch] += stage[q + ch];
                            }
                        }
                    } else {
                        for (int i = 0; i < len; i++) {
                            lanes[i] = Math.max(lanes[i], stage[i]);
                        }
                    }
                }
                if (avg) {
                    sums[task] = dacc;
                } else {
                    float[] facc = new float[c];
                    Arrays.fill(facc, Float.NEGATIVE_INFINITY);
                    for (int q = 0; q < used; q += c) {
                        for (int ch = 0; ch < c; ch++) {
                            facc[ch] = Math.max(facc[ch], lanes[q + ch]);
                        }
                    }
                    maxima[task] = facc;
                }
            }
        });
        // Combine the runs in order. Max as in WindowedPool: Math.max is exact except where the
        // result is zero or NaN, and those channels are scanned again with clpool's rule.
        float[] result = new float[c];
        for (int n = 0; n < s.n(); n++) {
            for (int ch = 0; ch < c; ch++) {
                if (avg) {
                    double total = 0;
                    for (int r = 0; r < runs; r++) {
                        total += sums[n * runs + r][ch];
                    }
                    result[ch] = canonicalNaN((float) (total / hw));
                } else {
                    float m = Float.NEGATIVE_INFINITY;
                    for (int r = 0; r < runs; r++) {
                        m = Math.max(m, maxima[n * runs + r][ch]);
                    }
                    if (!(m > 0 || m < 0)) {
                        m = Float.NEGATIVE_INFINITY;
                        for (int p = 0; p < hw; p++) {
                            m = max(m, src.get(Math.toIntExact(n * plane + (long) p * c + ch)));
                        }
                    }
                    result[ch] = m;
                }
            }
            dst.put(n * c, result, 0, c);
        }
    }

    @Override
    public void adaptive(AdaptiveGeometry g, Tensor in, Tensor out) {
        CpuAdaptive.run(g, in, out, this::parallel);
    }

    @Override
    public void maxWithIndices(PoolGeometry g, Tensor in, Tensor out, Indices indices) {
        CpuMaxIndices.run(g, in, out, indices, this::parallel);
    }

    /**
     * clpool's max: {@code v} replaces {@code m} if strictly larger, or if it is NaN and {@code m}
     * is not (the first NaN wins and stays). Identical to the kernels' MAX_UPDATE.
     */
    static float max(float m, float v) {
        return (v > m || (v != v && m == m)) ? v : m;
    }

    /**
     * A NaN sum comes out with a sign and payload that depend on the JIT tier (HotSpot may swap
     * the operands of an add, and x86 keeps the first NaN operand): the same call gave 0x7fc00000
     * interpreted and 0xffc00000 compiled. Sums (averages, adaptive averages, gradients: SEMANTICS
     * says only "NaN" for them) return the one canonical NaN, so that results repeat bit for bit,
     * serially and concurrently.
     */
    static float canonicalNaN(float v) {
        return v != v ? Float.NaN : v;
    }

    private static void lpRow(PoolGeometry g, Taps rows, Taps cols, FloatBuffer src, FloatBuffer dst,
                              int n, int oy) {
        Shape is = g.input();
        int c = is.c();
        double p = g.spec().p();
        float[] amax = new float[c];
        boolean[] nan = new boolean[c];
        double[] sum = new double[c];
        int outBase = Math.toIntExact(g.output().offset(n, oy, 0, 0));
        for (int ox = 0; ox < cols.count; ox++) {
            Arrays.fill(amax, 0f);
            Arrays.fill(nan, false);
            Arrays.fill(sum, 0.0);
            // Pass 1: the largest |x| per channel, so pass 2 can scale and never overflow.
            for (int jy = rows.first[oy]; jy < rows.end[oy]; jy++) {
                int y = rows.start[oy] + jy * rows.dilation;
                for (int jx = cols.first[ox]; jx < cols.end[ox]; jx++) {
                    int off = Math.toIntExact(is.offset(n, y, cols.start[ox] + jx * cols.dilation, 0));
                    for (int ch = 0; ch < c; ch++) {
                        float a = Math.abs(src.get(off + ch));
                        nan[ch] |= a != a;
                        amax[ch] = Math.max(amax[ch], a);
                    }
                }
            }
            for (int jy = rows.first[oy]; jy < rows.end[oy]; jy++) {
                int y = rows.start[oy] + jy * rows.dilation;
                for (int jx = cols.first[ox]; jx < cols.end[ox]; jx++) {
                    int off = Math.toIntExact(is.offset(n, y, cols.start[ox] + jx * cols.dilation, 0));
                    for (int ch = 0; ch < c; ch++) {
                        if (amax[ch] > 0 && amax[ch] < Float.POSITIVE_INFINITY) {
                            sum[ch] += Math.pow(Math.abs(src.get(off + ch)) / (double) amax[ch], p);
                        }
                    }
                }
            }
            int o = outBase + ox * c;
            for (int ch = 0; ch < c; ch++) {
                float r;
                if (nan[ch]) {
                    r = Float.NaN;
                } else if (amax[ch] == 0f || amax[ch] == Float.POSITIVE_INFINITY) {
                    r = amax[ch];
                } else {
                    r = (float) (amax[ch] * Math.pow(sum[ch], 1.0 / p));
                }
                dst.put(o + ch, r);
            }
        }
    }

    private void parallel(int tasks, java.util.function.IntConsumer body) {
        if (tasks == 1 || threads == 1) {
            for (int t = 0; t < tasks; t++) {
                body.accept(t);
            }
            return;
        }
        pool.submit(() -> IntStream.range(0, tasks).parallel().forEach(body)).join();
    }

    /**
     * Runs {@code body} over {@code [0, items)} split into contiguous ranges: several per thread so
     * that a thread slowed by other work on the machine does not hold up the rest, or in the
     * calling thread alone when the whole job is too small to be worth waking the pool.
     */
    private void chunks(int items, long workPerItem, RangeBody body) {
        long work = items * Math.max(1, workPerItem);
        int parts = (int) Math.min(items, Math.min(CHUNKS_PER_THREAD * threads, Math.max(1, work / MIN_TASK_WORK)));
        if (parts <= 1 || threads == 1) {
            body.run(0, items);
            return;
        }
        pool.submit(() -> IntStream.range(0, parts).parallel()
                .forEach(p -> body.run((int) ((long) items * p / parts), (int) ((long) items * (p + 1) / parts)))).join();
    }

    @FunctionalInterface
    private interface RangeBody {
        void run(int from, int to);
    }

    @Override
    public void close() {
        pool.shutdown();
    }

    /** Per-output tap ranges of one axis, precomputed once per operation. */
    private static final class Taps {
        final int count;
        final int dilation;
        final int[] start;
        final int[] first;
        final int[] end;

        Taps(Axis a) {
            count = a.out();
            dilation = a.dilation();
            start = new int[count];
            first = new int[count];
            end = new int[count];
            for (int o = 0; o < count; o++) {
                start[o] = (int) a.start(o);
                first[o] = a.firstTap(o);
                end[o] = a.endTap(o);
            }
        }
    }
}
