package dev.clpool.cpu;

import dev.clpool.Axis;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Backward of windowed max and avg pooling on the CPU (SEMANTICS.md, "Backward").
 *
 * <p>Gather, not scatter: work is split over input rows (n, y), and each input element sums the
 * contributions of the outputs whose windows contain it, found through a precomputed inverse of
 * the window map per axis. Every element of the result is written by exactly one task, so there
 * are no races and no locks, and the result does not depend on the thread count. Sums are in
 * double, rounded to float once.
 *
 * <p>Max first finds each output's argmax in parallel over output rows, with the rule of
 * {@link CpuBackend#max} (a strictly larger value, or the first NaN, replaces: the first maximum
 * in scan order, rows then columns); an input element then collects the gradients of exactly the
 * outputs whose argmax it is.
 */
final class CpuBackward {

    /** Runs {@code body} for task 0..tasks-1, possibly in parallel: the CPU backend's pool. */
    interface Parallel {
        void run(int tasks, IntConsumer body);
    }

    private CpuBackward() {
    }

    static void run(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn, Parallel parallel) {
        if (g.mode() != PoolMode.MAX && g.mode() != PoolMode.AVG) {
            throw new IllegalArgumentException("backward pooling supports max and avg, not " + g.mode().word());
        }
        Shape is = g.input();
        Shape os = g.output();
        Inverse rows = new Inverse(g.rows());
        Inverse cols = new Inverse(g.cols());
        FloatBuffer dy = gradOut.floats();
        FloatBuffer dx = gradIn.floats();
        int[] argmax = g.mode() == PoolMode.MAX ? argmax(g, in.floats(), parallel) : null;
        double[] rowDiv = g.mode() == PoolMode.AVG ? divisors(g.rows(), g.spec().countIncludePad()) : null;
        double[] colDiv = g.mode() == PoolMode.AVG ? divisors(g.cols(), g.spec().countIncludePad()) : null;
        int c = is.c();
        parallel.run(is.n() * is.h(), task -> {
            int n = task / is.h();
            int y = task % is.h();
            double[] acc = new double[c];
            for (int x = 0; x < is.w(); x++) {
                Arrays.fill(acc, 0.0);
                int pixel = y * is.w() + x;
                for (int i = rows.from[y]; i < rows.from[y + 1]; i++) {
                    int oy = rows.outputs[i];
                    for (int k = cols.from[x]; k < cols.from[x + 1]; k++) {
                        int ox = cols.outputs[k];
                        int o = Math.toIntExact(os.offset(n, oy, ox, 0));
                        if (argmax != null) {
                            for (int ch = 0; ch < c; ch++) {
                                if (argmax[o + ch] == pixel) {
                                    acc[ch] += dy.get(o + ch);
                                }
                            }
                        } else {
                            double div = rowDiv[oy] * colDiv[ox];
                            for (int ch = 0; ch < c; ch++) {
                                acc[ch] += dy.get(o + ch) / div;
                            }
                        }
                    }
                }
                int off = Math.toIntExact(is.offset(n, y, x, 0));
                for (int ch = 0; ch < c; ch++) {
                    dx.put(off + ch, CpuBackend.canonicalNaN((float) acc[ch]));
                }
            }
        });
    }

    /**
     * For every output element, the pixel {@code y*W + x} of its batch item that max pooling picks
     * (also the source of max pooling's indices, {@link CpuMaxIndices}).
     * The running maximum starts at -inf with the window's first tap as its position, so a window
     * of -inf values picks its first element, as the first-maximum rule says.
     */
    static int[] argmax(PoolGeometry g, FloatBuffer src, Parallel parallel) {
        Shape is = g.input();
        Shape os = g.output();
        Axis ra = g.rows();
        Axis ca = g.cols();
        int c = is.c();
        int[] arg = new int[Math.toIntExact(os.elementCount())];
        parallel.run(os.n() * os.h(), task -> {
            int n = task / os.h();
            int oy = task % os.h();
            float[] m = new float[c];
            int y0 = (int) ra.start(oy);
            int jy0 = ra.firstTap(oy);
            int jy1 = ra.endTap(oy);
            for (int ox = 0; ox < os.w(); ox++) {
                int x0 = (int) ca.start(ox);
                int jx0 = ca.firstTap(ox);
                int jx1 = ca.endTap(ox);
                int o = Math.toIntExact(os.offset(n, oy, ox, 0));
                int first = (y0 + jy0 * ra.dilation()) * is.w() + x0 + jx0 * ca.dilation();
                Arrays.fill(m, Float.NEGATIVE_INFINITY);
                Arrays.fill(arg, o, o + c, first);
                for (int jy = jy0; jy < jy1; jy++) {
                    int y = y0 + jy * ra.dilation();
                    for (int jx = jx0; jx < jx1; jx++) {
                        int x = x0 + jx * ca.dilation();
                        int off = Math.toIntExact(is.offset(n, y, x, 0));
                        for (int ch = 0; ch < c; ch++) {
                            float before = m[ch];
                            m[ch] = CpuBackend.max(before, src.get(off + ch));
                            // The rule replaces only with a different value (larger, or NaN over a number),
                            // so a change of bits is exactly "this element won".
                            if (Float.floatToRawIntBits(m[ch]) != Float.floatToRawIntBits(before)) {
                                arg[o + ch] = y * is.w() + x;
                            }
                        }
                    }
                }
            }
        });
        return arg;
    }

    /** Per output position of one axis, its factor of the avg divisor (PoolGeometry.divisor). */
    private static double[] divisors(Axis a, boolean includePad) {
        double[] d = new double[a.out()];
        for (int o = 0; o < d.length; o++) {
            d[o] = includePad ? a.extentIncludingPad(o) : a.count(o);
        }
        return d;
    }

    /**
     * The inverse of one axis's window map: for input position p, the outputs whose windows have
     * a tap at p, ascending, in {@code outputs[from[p]] .. outputs[from[p+1]-1]}.
     */
    private static final class Inverse {
        final int[] from;
        final int[] outputs;

        Inverse(Axis a) {
            from = new int[a.in() + 1];
            for (int o = 0; o < a.out(); o++) {
                for (int j = a.firstTap(o); j < a.endTap(o); j++) {
                    from[(int) (a.start(o) + (long) j * a.dilation()) + 1]++;
                }
            }
            for (int p = 0; p < a.in(); p++) {
                from[p + 1] += from[p];
            }
            outputs = new int[from[a.in()]];
            int[] next = Arrays.copyOf(from, a.in());
            for (int o = 0; o < a.out(); o++) {
                for (int j = a.firstTap(o); j < a.endTap(o); j++) {
                    outputs[next[(int) (a.start(o) + (long) j * a.dilation())]++] = o;
                }
            }
        }
    }
}
