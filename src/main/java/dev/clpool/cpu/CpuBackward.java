package dev.clpool.cpu;

import dev.clpool.Axis;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Backward of windowed max and avg pooling on the CPU (SEMANTICS.md, "Backward").
 *
 * <p>Gather, not scatter: work is split over input rows (n, y), and each input row sums the
 * contributions of the output rows whose windows contain it, found through a precomputed inverse
 * of the window map per axis. Every element of the result is written by exactly one task, so there
 * are no races and no locks, and the result does not depend on the thread count. Sums are in
 * double, rounded to float once.
 *
 * <p>Max first finds each output's chosen tap in parallel over output rows ({@link CpuArgmax}, the
 * rule of {@link CpuBackend#max}: the first maximum in scan order, rows then columns); an input row
 * then adds the gradient of each output of those rows whose chosen tap lies in it. Avg is
 * separable, as its divisor is a product of one factor per axis: down the output rows, then
 * across the output columns. With one channel (channels-first planes viewed as channels-last)
 * {@link PlaneBackward} does the same sums a band of a plane per task. Where the Vector API is on
 * and C fills a vector, max runs {@link VecArgmax#taps} and {@link VecMaxBackward}'s gather instead
 * (the same bits).
 */
final class CpuBackward {

    /** Runs {@code body} for task 0..tasks-1, possibly in parallel: the CPU backend's pool. */
    interface Parallel {
        void run(int tasks, IntConsumer body);
    }

    private CpuBackward() {
    }

    static void run(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn, Parallel parallel) {
        run(g, in, gradOut, gradIn, parallel, true);
    }

    /** {@link #run}, with {@code planes} false: the general path even for one channel. */
    static void run(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn, Parallel parallel, boolean planes) {
        run(g, in, gradOut, gradIn, parallel, planes, VectorSupport.ENABLED);
    }

    /**
     * {@link #run}, with {@code vectors} false: the scalar max backward and plane average even where
     * the Vector API is on (the tests compare the two); true has effect only where
     * {@link VectorSupport#ENABLED}.
     */
    static void run(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn, Parallel parallel, boolean planes,
                    boolean vectors) {
        if (g.mode() != PoolMode.MAX && g.mode() != PoolMode.AVG) {
            throw new IllegalArgumentException("backward pooling supports max and avg, not " + g.mode().word());
        }
        Shape is = g.input();
        Shape os = g.output();
        Inverse rows = new Inverse(g.rows());
        Inverse cols = new Inverse(g.cols());
        if (planes && is.c() == 1) {
            PlaneBackward.run(g, in, gradOut, gradIn, parallel, rows, vectors);
            return;
        }
        FloatBuffer dy = gradOut.floats();
        FloatBuffer dx = gradIn.floats();
        int c = is.c();
        int rowLen = is.w() * c;
        int width = os.w() * c;
        if (g.mode() == PoolMode.MAX) {
            CpuArgmax argmax = new CpuArgmax(g);
            if (vectors && VectorSupport.fits(c)) {
                vectorMax(argmax, in, gradOut, gradIn, rows, cols, parallel);
                return;
            }
            int[] taps = taps(argmax, in, parallel);
            int kw = g.cols().window();
            try {
                parallel.run(is.n() * is.h(), task -> {
                    int n = task / is.h();
                    int y = task % is.h();
                    Scratch s = Scratch.get();
                    // One slot past the row takes the gradients of outputs whose tap is in another row.
                    double[] acc = s.doubles(rowLen + 1);
                    Arrays.fill(acc, 0, rowLen + 1, 0.0);
                    float[] grad = s.floats(0, width);
                    for (int i = rows.from[y]; i < rows.from[y + 1]; i++) {
                        int oy = rows.outputs[i];
                        int o = Math.toIntExact(os.offset(n, oy, 0, 0));
                        dy.get(o, grad, 0, width);
                        // The taps of row y in output row oy's windows are numbered [first, first + kw).
                        int first = (y - argmax.plan().rowStart[oy]) / g.rows().dilation() * kw;
                        for (int ox = 0, k = 0; ox < os.w(); ox++) {
                            int x0 = argmax.plan().colStart[ox];
                            for (int ch = 0; ch < c; ch++, k++) {
                                // Branch-free (a branch here mispredicts on random data): -1 where the
                                // tap t is outside this row's kw taps, whose gradient goes to the spare slot.
                                int t = taps[o + k] - first;
                                int outside = (t | (kw - 1 - t)) >> 31;
                                int at = (x0 + argmax.tapOffset(t & ~outside)) * c + ch;
                                acc[(at & ~outside) | (rowLen & outside)] += grad[k];
                            }
                        }
                    }
                    store(dx, acc, 0, Math.toIntExact(is.offset(n, y, 0, 0)), rowLen, s);
                });
            } finally {
                TapArrays.give(taps);
            }
            return;
        }
        if (AvgBackwardRows.pays(is)) {
            new AvgBackwardRows(g, rows, cols).run(gradOut, gradIn, parallel);
            return;
        }
        double[] rowDiv = divisors(g.rows(), g.spec().countIncludePad());
        double[] colDiv = divisors(g.cols(), g.spec().countIncludePad());
        // Separable: each input row first sums its output rows' gradients per output column
        // (divided by their divisors, a product of one factor per axis), then each input column
        // sums the output columns whose windows hold it.
        parallel.run(is.n() * is.h(), task -> {
            int n = task / is.h();
            int y = task % is.h();
            Scratch s = Scratch.get();
            double[] all = s.doubles(width + rowLen);
            Arrays.fill(all, 0, width, 0.0);
            float[] grad = s.floats(0, width);
            for (int i = rows.from[y]; i < rows.from[y + 1]; i++) {
                int oy = rows.outputs[i];
                dy.get(Math.toIntExact(os.offset(n, oy, 0, 0)), grad, 0, width);
                for (int ox = 0, k = 0; ox < os.w(); ox++) {
                    double div = rowDiv[oy] * colDiv[ox];
                    for (int ch = 0; ch < c; ch++, k++) {
                        all[k] += grad[k] / div;
                    }
                }
            }
            for (int x = 0; x < is.w(); x++) {
                int a = width + x * c;
                Arrays.fill(all, a, a + c, 0.0);
                for (int k = cols.from[x]; k < cols.from[x + 1]; k++) {
                    int v = cols.outputs[k] * c;
                    for (int ch = 0; ch < c; ch++) {
                        all[a + ch] += all[v + ch];
                    }
                }
            }
            store(dx, all, width, Math.toIntExact(is.offset(n, y, 0, 0)), rowLen, s);
        });
    }

    /**
     * The max branch of {@link #run} in the Vector API: every output's chosen tap number
     * ({@link VecArgmax#taps}), then each input row gathers its gradients
     * ({@link VecMaxBackward#row}); the same bits as the scalar branch.
     */
    private static void vectorMax(CpuArgmax argmax, Tensor in, Tensor gradOut, Tensor gradIn, Inverse rows,
                                  Inverse cols, Parallel parallel) {
        WindowPlan p = argmax.plan();
        int[] numbers = new int[p.rows.window() * p.cols.window()];
        Arrays.setAll(numbers, t -> t);
        int[] taps = TapArrays.take(Math.toIntExact(p.out.elementCount()));
        try {
            vectorMax(p, CpuArgmax.bytes(in), CpuArgmax.bytes(gradOut), CpuArgmax.bytes(gradIn), taps, numbers, rows,
                    cols, parallel);
        } finally {
            TapArrays.give(taps);
        }
    }

    /** The two passes of the method above, every output's chosen tap kept in {@code taps}. */
    private static void vectorMax(WindowPlan p, ByteBuffer x, ByteBuffer dy, ByteBuffer dx, int[] taps, int[] numbers,
                                  Inverse rows, Inverse cols, Parallel parallel) {
        Shape is = p.in;
        Shape os = p.out;
        int c = p.c;
        int kh = p.rows.window();
        int kw = p.cols.window();
        int width = os.w() * c;
        parallel.run(os.n() * os.h(), task -> {
            int n = task / os.h();
            int oy = task % os.h();
            int[] rowAt = Scratch.get().ints(0, 1, kh)[0];
            for (int jy = p.rowFirst[oy]; jy < p.rowEnd[oy]; jy++) {
                rowAt[jy] = Math.toIntExact(is.offset(n, p.inputRow(oy, jy), 0, 0));
            }
            VecArgmax.taps(x, rowAt, p.rowFirst[oy], p.rowEnd[oy], kw, numbers, p.colStart, p.colFirst, p.colEnd,
                    p.dw, c, taps, task * width);
        });
        parallel.run(is.n() * is.h(), task -> {
            int n = task / is.h();
            int y = task % is.h();
            int[][] a = Scratch.get().ints(1, 3, 2 * kh * kw);
            int count = 0;
            for (int i = rows.from[y]; i < rows.from[y + 1]; i++, count++) {
                int oy = rows.outputs[i];
                a[0][count] = Math.toIntExact(os.offset(n, oy, 0, 0));
                a[1][count] = (y - p.rowStart[oy]) / p.dh * kw;
            }
            VecMaxBackward.row(taps, dy, dx, a[0], a[1], count, cols.from, cols.outputs, p.colStart, p.dw, c, is.w(),
                    Math.toIntExact(is.offset(n, y, 0, 0)), a[2]);
        });
    }

    /** Every output element's chosen tap ({@link CpuArgmax}), in output order. */
    private static int[] taps(CpuArgmax argmax, Tensor in, Parallel parallel) {
        Shape os = argmax.plan().out;
        IntBuffer bits = CpuArgmax.bits(in);
        int width = os.w() * os.c();
        int rowLen = argmax.plan().in.w() * os.c();
        int[] taps = TapArrays.take(Math.toIntExact(os.elementCount()));
        parallel.run(os.n() * os.h(), task -> {
            Scratch s = Scratch.get();
            int[] tap = s.ints(4, 1, width)[0];
            argmax.row(bits, task / os.h(), task % os.h(), s.ints(0, argmax.plan().rows.window(), rowLen), tap, s);
            System.arraycopy(tap, 0, taps, task * width, width);
        });
        return taps;
    }

    /** Rounds one input row's sums, {@code acc[from..from+len)}, to float (one canonical NaN) and writes them at {@code at}. */
    static void store(FloatBuffer dx, double[] acc, int from, int at, int len, Scratch s) {
        float[] row = s.floats(1, len);
        for (int i = 0; i < len; i++) {
            row[i] = CpuBackend.canonicalNaN((float) acc[from + i]);
        }
        dx.put(at, row, 0, len);
    }

    /** Per output position of one axis, its factor of the avg divisor (PoolGeometry.divisor). */
    static double[] divisors(Axis a, boolean includePad) {
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
    static final class Inverse {
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
