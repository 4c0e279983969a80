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
 * <p>Work is split over output rows (n, oy) on a private fork-join pool. For each output pixel
 * only the window taps inside the input are visited (the tap ranges are precomputed per axis, so
 * the inner loops carry no bounds checks), and the innermost loop runs over the contiguous
 * channels. Per-row scratch arrays are allocated once per task, never per element.
 *
 * <p>Max uses the same comparison as the kernels (a strictly larger value, or the first NaN),
 * so results are bit-identical; averages and LP accumulate in double.
 */
public final class CpuBackend implements PoolingBackend {

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
        Taps rows = new Taps(g.rows());
        Taps cols = new Taps(g.cols());
        FloatBuffer src = in.floats();
        FloatBuffer dst = out.floats();
        Shape os = g.output();
        parallel(os.n() * os.h(), task -> {
            int n = task / os.h();
            int oy = task % os.h();
            switch (g.mode()) {
                case MAX: maxRow(g, rows, cols, src, dst, n, oy); break;
                case AVG: avgRow(g, rows, cols, src, dst, n, oy); break;
                case LP: lpRow(g, rows, cols, src, dst, n, oy); break;
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
        // Enough contiguous pixel runs to keep every thread busy even when N is 1.
        int chunks = Math.max(1, Math.min(hw, (4 * threads + s.n() - 1) / s.n()));
        int chunk = (hw + chunks - 1) / chunks;
        int runs = (hw + chunk - 1) / chunk;
        FloatBuffer src = in.floats();
        FloatBuffer dst = out.floats();
        double[][] sums = mode == PoolMode.AVG ? new double[s.n() * runs][] : null;
        float[][] maxima = mode == PoolMode.MAX ? new float[s.n() * runs][] : null;
        parallel(s.n() * runs, task -> {
            int n = task / runs;
            int p0 = (task % runs) * chunk;
            int p1 = Math.min(p0 + chunk, hw);
            long base = (long) n * hw * c;
            if (sums != null) {
                double[] acc = new double[c];
                for (int p = p0; p < p1; p++) {
                    int off = Math.toIntExact(base + (long) p * c);
                    for (int ch = 0; ch < c; ch++) {
                        acc[ch] += src.get(off + ch);
                    }
                }
                sums[task] = acc;
            } else {
                float[] acc = new float[c];
                Arrays.fill(acc, Float.NEGATIVE_INFINITY);
                for (int p = p0; p < p1; p++) {
                    int off = Math.toIntExact(base + (long) p * c);
                    for (int ch = 0; ch < c; ch++) {
                        acc[ch] = max(acc[ch], src.get(off + ch));
                    }
                }
                maxima[task] = acc;
            }
        });
        // Combine the runs in order: for max this equals one sequential scan bit for bit.
        for (int n = 0; n < s.n(); n++) {
            for (int ch = 0; ch < c; ch++) {
                float result;
                if (sums != null) {
                    double total = 0;
                    for (int r = 0; r < runs; r++) {
                        total += sums[n * runs + r][ch];
                    }
                    result = canonicalNaN((float) (total / hw));
                } else {
                    float m = Float.NEGATIVE_INFINITY;
                    for (int r = 0; r < runs; r++) {
                        m = max(m, maxima[n * runs + r][ch]);
                    }
                    result = m;
                }
                dst.put(n * c + ch, result);
            }
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

    private static void maxRow(PoolGeometry g, Taps rows, Taps cols, FloatBuffer src, FloatBuffer dst,
                               int n, int oy) {
        Shape is = g.input();
        int c = is.c();
        float[] acc = new float[c];
        int outBase = Math.toIntExact(g.output().offset(n, oy, 0, 0));
        for (int ox = 0; ox < cols.count; ox++) {
            Arrays.fill(acc, Float.NEGATIVE_INFINITY);
            for (int jy = rows.first[oy]; jy < rows.end[oy]; jy++) {
                int y = rows.start[oy] + jy * rows.dilation;
                for (int jx = cols.first[ox]; jx < cols.end[ox]; jx++) {
                    int x = cols.start[ox] + jx * cols.dilation;
                    int off = Math.toIntExact(is.offset(n, y, x, 0));
                    for (int ch = 0; ch < c; ch++) {
                        acc[ch] = max(acc[ch], src.get(off + ch));
                    }
                }
            }
            dst.put(outBase + ox * c, acc);
        }
    }

    private static void avgRow(PoolGeometry g, Taps rows, Taps cols, FloatBuffer src, FloatBuffer dst,
                               int n, int oy) {
        Shape is = g.input();
        int c = is.c();
        double[] acc = new double[c];
        int outBase = Math.toIntExact(g.output().offset(n, oy, 0, 0));
        for (int ox = 0; ox < cols.count; ox++) {
            Arrays.fill(acc, 0.0);
            for (int jy = rows.first[oy]; jy < rows.end[oy]; jy++) {
                int y = rows.start[oy] + jy * rows.dilation;
                for (int jx = cols.first[ox]; jx < cols.end[ox]; jx++) {
                    int x = cols.start[ox] + jx * cols.dilation;
                    int off = Math.toIntExact(is.offset(n, y, x, 0));
                    for (int ch = 0; ch < c; ch++) {
                        acc[ch] += src.get(off + ch);
                    }
                }
            }
            double div = g.divisor(oy, ox);
            int o = outBase + ox * c;
            for (int ch = 0; ch < c; ch++) {
                dst.put(o + ch, canonicalNaN((float) (acc[ch] / div)));
            }
        }
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
