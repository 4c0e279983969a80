package dev.clpool.cpu;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Adaptive avg and max pooling on the CPU path, organised like {@link CpuBackend#pool}: work is
 * split over output rows (n, oy), the region bounds of each axis are computed once per operation,
 * and the innermost loop runs over the contiguous channels. Max uses {@link CpuBackend#max} (the
 * kernels' rule, so results are bit-identical); avg sums in double, from input rows staged into
 * heap arrays, and divides by the region's element count.
 *
 * <p>With one channel (channels-first planes viewed as channels-last) the channel loop is one
 * element long, and a task per output row costs more than its work: {@link #planes} gives each task
 * whole planes and walks each region's rows along W, with the same sums in the same order (rows,
 * then columns), so the results are the same bits.
 */
final class CpuAdaptive {
    /** Input elements a task should visit at least (planes are grouped up to it). */
    private static final int TASK_INPUTS = 1 << 13;

    private CpuAdaptive() {
    }

    static void run(AdaptiveGeometry g, Tensor in, Tensor out, CpuBackward.Parallel parallel) {
        run(g, in, out, parallel, true);
    }

    /** {@link #run}, with {@code planes} false: the general path even for one channel. */
    static void run(AdaptiveGeometry g, Tensor in, Tensor out, CpuBackward.Parallel parallel, boolean planes) {
        Shape is = g.input();
        Shape os = g.output();
        int[] y0 = new int[os.h()];
        int[] y1 = new int[os.h()];
        int[] x0 = new int[os.w()];
        int[] x1 = new int[os.w()];
        for (int oy = 0; oy < os.h(); oy++) {
            y0[oy] = g.rowStart(oy);
            y1[oy] = g.rowEnd(oy);
        }
        for (int ox = 0; ox < os.w(); ox++) {
            x0[ox] = g.colStart(ox);
            x1[ox] = g.colEnd(ox);
        }
        FloatBuffer src = in.floats();
        FloatBuffer dst = out.floats();
        boolean max = g.mode() == PoolMode.MAX;
        if (planes && is.c() == 1) {
            planes(is, os, src, dst, max, y0, y1, x0, x1, parallel);
            return;
        }
        parallel.run(os.n() * os.h(), task -> {
            int n = task / os.h();
            int oy = task % os.h();
            if (max) {
                maxRow(is, os, src, dst, n, oy, y0[oy], y1[oy], x0, x1);
            } else {
                avgRow(is, os, src, dst, n, oy, y0[oy], y1[oy], x0, x1);
            }
        });
    }

    private static void maxRow(Shape is, Shape os, FloatBuffer src, FloatBuffer dst, int n, int oy,
                               int ys, int ye, int[] x0, int[] x1) {
        int c = is.c();
        float[] acc = new float[c];
        int outBase = Math.toIntExact(os.offset(n, oy, 0, 0));
        for (int ox = 0; ox < os.w(); ox++) {
            Arrays.fill(acc, Float.NEGATIVE_INFINITY);
            for (int y = ys; y < ye; y++) {
                for (int x = x0[ox]; x < x1[ox]; x++) {
                    int off = Math.toIntExact(is.offset(n, y, x, 0));
                    for (int ch = 0; ch < c; ch++) {
                        acc[ch] = CpuBackend.max(acc[ch], src.get(off + ch));
                    }
                }
            }
            dst.put(outBase + ox * c, acc);
        }
    }

    /**
     * One output row of averages: each input row of the row's regions is staged into a heap array
     * by one bulk copy and added, channels innermost, into double sums per output column (a scalar
     * FloatBuffer read per element cost four times as much).
     */
    private static void avgRow(Shape is, Shape os, FloatBuffer src, FloatBuffer dst, int n, int oy,
                               int ys, int ye, int[] x0, int[] x1) {
        int c = is.c();
        int ow = os.w();
        Scratch s = Scratch.get();
        double[] acc = s.doubles(ow * c);
        Arrays.fill(acc, 0, ow * c, 0.0);
        float[] row = s.floats(0, is.w() * c);
        for (int y = ys; y < ye; y++) {
            src.get(Math.toIntExact(is.offset(n, y, 0, 0)), row, 0, is.w() * c);
            for (int ox = 0; ox < ow; ox++) {
                int a = ox * c;
                for (int i = x0[ox] * c; i < x1[ox] * c; i += c) {
                    for (int ch = 0; ch < c; ch++) {
                        acc[a + ch] += row[i + ch];
                    }
                }
            }
        }
        float[] res = s.floats(1, ow * c);
        for (int ox = 0; ox < ow; ox++) {
            double div = (double) (ye - ys) * (x1[ox] - x0[ox]);
            for (int ch = 0; ch < c; ch++) {
                res[ox * c + ch] = CpuBackend.canonicalNaN((float) (acc[ox * c + ch] / div));
            }
        }
        dst.put(Math.toIntExact(os.offset(n, oy, 0, 0)), res, 0, ow * c);
    }

    /** One channel: groups of whole planes per task, each region's rows staged and walked along W. */
    private static void planes(Shape is, Shape os, FloatBuffer src, FloatBuffer dst, boolean max, int[] y0, int[] y1,
                               int[] x0, int[] x1, CpuBackward.Parallel parallel) {
        int plane = is.h() * is.w();
        int group = Math.max(1, TASK_INPUTS / plane);
        int tasks = (is.n() + group - 1) / group;
        int ow = os.w();
        parallel.run(tasks, task -> {
            Scratch s = Scratch.get();
            float[] row = s.floats(0, is.w());
            float[] res = s.floats(1, ow);
            double[] acc = s.doubles(ow);
            for (int n = task * group, end = Math.min(is.n(), n + group); n < end; n++) {
                for (int oy = 0; oy < os.h(); oy++) {
                    if (max) {
                        Arrays.fill(res, 0, ow, Float.NEGATIVE_INFINITY);
                    } else {
                        Arrays.fill(acc, 0, ow, 0.0);
                    }
                    for (int y = y0[oy]; y < y1[oy]; y++) {
                        src.get(Math.toIntExact(is.offset(n, y, 0, 0)), row, 0, is.w());
                        for (int ox = 0; ox < ow; ox++) {
                            if (max) {
                                float m = res[ox];
                                for (int x = x0[ox]; x < x1[ox]; x++) {
                                    m = CpuBackend.max(m, row[x]);
                                }
                                res[ox] = m;
                            } else {
                                double a = acc[ox];
                                for (int x = x0[ox]; x < x1[ox]; x++) {
                                    a += row[x];
                                }
                                acc[ox] = a;
                            }
                        }
                    }
                    if (!max) {
                        for (int ox = 0; ox < ow; ox++) {
                            double div = (double) (y1[oy] - y0[oy]) * (x1[ox] - x0[ox]);
                            res[ox] = CpuBackend.canonicalNaN((float) (acc[ox] / div));
                        }
                    }
                    dst.put(Math.toIntExact(os.offset(n, oy, 0, 0)), res, 0, ow);
                }
            }
        });
    }
}
