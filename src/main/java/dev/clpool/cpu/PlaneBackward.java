package dev.clpool.cpu;

import dev.clpool.Axis;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;

/**
 * {@link CpuBackward} for one channel (C == 1: channels-first planes viewed as channels-last), a
 * band of input rows of one plane per task instead of one input row. The results are
 * {@link CpuBackward}'s bit for bit: every input element sums the same terms, in double, in the
 * same order (ascending output rows, then ascending output columns), rounded to float once.
 *
 * <p>Max: the chosen taps come from {@link PlaneArgmax}; a band then scatters the gradient of
 * every output whose window reaches it into the element its tap names (skipping taps in other
 * bands). The band belongs to one task, so there are no races; walking the outputs in order keeps
 * each element's summation order. Avg: each output's gradient divided by its divisor is formed
 * once per band (the general path divides it again for every input row its window covers), summed
 * down the output rows that cover an input row, then across the output columns that cover an
 * input column, as {@link CpuBackward} does. Where the Vector API runs and a plane's rows fill a
 * vector, the average is {@link PlaneAvgBackward}'s certified float sums instead (within
 * SEMANTICS.md's tolerance, as {@link AvgBackwardRows} is for channels-last), and a band it cannot
 * certify comes back here; max runs in the Vector API's lanes ({@link PlaneMaxGather}) where
 * {@link PlaneMaxGather#fits} says so.
 */
final class PlaneBackward {
    /** Input elements per band (bounds the double accumulators). */
    private static final int BAND_INPUTS = 1 << 14;

    private PlaneBackward() {
    }

    /**
     * The gradient; with {@code vectors}, the average in certified float lanes along the rows
     * ({@link PlaneAvgBackward}) where {@link VectorSupport#fitsRow} allows, each band that fails its
     * certificate in double here.
     */
    static void run(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn, CpuBackward.Parallel parallel,
                    CpuBackward.Inverse rows, boolean vectors) {
        if (vectors && PlaneMaxGather.fits(g)) {
            PlaneMaxGather.run(g, in, gradOut, gradIn, parallel);
            return;
        }
        Shape is = g.input();
        int bandRows = Math.max(1, Math.min(is.h(), BAND_INPUTS / is.w()));
        int bands = (is.h() + bandRows - 1) / bandRows;
        if (g.mode() == PoolMode.MAX) {
            CpuArgmax argmax = new CpuArgmax(g);
            PlaneArgmax plane = new PlaneArgmax(argmax);
            int[] taps = taps(plane, g.output(), in, parallel);
            try {
                parallel.run(is.n() * bands, task -> maxBand(plane, argmax.plan(), taps, gradOut.floats(),
                        gradIn.floats(), task / bands, task % bands * bandRows, bandRows, rows));
            } finally {
                TapArrays.give(taps);
            }
        } else {
            double[] rowDiv = CpuBackward.divisors(g.rows(), g.spec().countIncludePad());
            double[] colDiv = CpuBackward.divisors(g.cols(), g.spec().countIncludePad());
            ColumnTaps taps = new ColumnTaps(g.cols());
            PlaneAvgBackward vec = vectors && VectorSupport.fitsRow(is.w())
                    ? new PlaneAvgBackward(g, rows, rowDiv, colDiv) : null;
            parallel.run(is.n() * bands, task -> {
                int y0 = task % bands * bandRows;
                if (vec == null || !vec.band(gradOut, gradIn, task / bands, y0, Math.min(is.h(), y0 + bandRows))) {
                    avgBand(g, gradOut.floats(), gradIn.floats(), task / bands, y0, bandRows, rows, taps, rowDiv,
                            colDiv);
                }
            });
        }
    }

    /** Every output element's chosen tap, in output order. */
    private static int[] taps(PlaneArgmax plane, Shape os, Tensor in, CpuBackward.Parallel parallel) {
        IntBuffer bits = CpuArgmax.bits(in);
        int[] taps = TapArrays.take(Math.toIntExact(os.elementCount()));
        int bands = plane.bands();
        parallel.run(os.n() * bands, task -> {
            int n = task / bands;
            int from = plane.bandStart(task % bands);
            int to = plane.bandEnd(task % bands);
            PlaneArgmax.Band band = plane.run(bits, n, from, to, Scratch.get());
            System.arraycopy(band.tap(), 0, taps, Math.toIntExact(os.offset(n, from, 0, 0)), (to - from) * os.w());
        });
        return taps;
    }

    /** Output rows [lo, hi) whose windows reach input rows [y0, y1); lo == hi if none. */
    static long outputRows(CpuBackward.Inverse rows, int y0, int y1) {
        int lo = Integer.MAX_VALUE;
        int hi = 0;
        for (int y = y0; y < y1; y++) {
            if (rows.from[y] < rows.from[y + 1]) {
                lo = Math.min(lo, rows.outputs[rows.from[y]]);
                hi = Math.max(hi, rows.outputs[rows.from[y + 1] - 1] + 1);
            }
        }
        return lo >= hi ? 0 : ((long) lo << 32) | hi;
    }

    private static void maxBand(PlaneArgmax plane, WindowPlan p, int[] taps, FloatBuffer dy, FloatBuffer dx, int n,
                                int y0, int bandRows, CpuBackward.Inverse rows) {
        int w = p.in.w();
        int ow = p.out.w();
        int y1 = Math.min(p.in.h(), y0 + bandRows);
        int len = (y1 - y0) * w;
        Scratch s = Scratch.get();
        double[] acc = s.doubles(len);
        Arrays.fill(acc, 0, len, 0.0);
        float[] grad = s.floats(0, ow);
        long range = outputRows(rows, y0, y1);
        for (int oy = (int) (range >>> 32); oy < (int) range; oy++) {
            int o = Math.toIntExact(p.out.offset(n, oy, 0, 0));
            dy.get(o, grad, 0, ow);
            for (int ox = 0; ox < ow; ox++) {
                int t = taps[o + ox];
                int y = plane.tapRow(oy, t);
                if (y >= y0 && y < y1) {
                    acc[(y - y0) * w + plane.tapColumn(ox, t)] += grad[ox];
                }
            }
        }
        CpuBackward.store(dx, acc, 0, Math.toIntExact(p.in.offset(n, y0, 0, 0)), len, s);
    }

    private static void avgBand(PoolGeometry g, FloatBuffer dy, FloatBuffer dx, int n, int y0, int bandRows,
                                CpuBackward.Inverse rows, ColumnTaps cols, double[] rowDiv, double[] colDiv) {
        Shape is = g.input();
        Shape os = g.output();
        int w = is.w();
        int ow = os.w();
        int y1 = Math.min(is.h(), y0 + bandRows);
        long range = outputRows(rows, y0, y1);
        int lo = (int) (range >>> 32);
        int hi = (int) range;
        Scratch s = Scratch.get();
        int len = (y1 - y0) * w;
        // [0, len): the band's sums; then one row of column sums; then the divided gradients.
        double[] all = s.doubles(len + ow + (hi - lo) * ow);
        int sums = len;
        int scaled = len + ow;
        float[] grad = s.floats(0, ow);
        for (int oy = lo; oy < hi; oy++) {
            dy.get(Math.toIntExact(os.offset(n, oy, 0, 0)), grad, 0, ow);
            int at = scaled + (oy - lo) * ow;
            for (int ox = 0; ox < ow; ox++) {
                all[at + ox] = grad[ox] / (rowDiv[oy] * colDiv[ox]);
            }
        }
        for (int y = y0; y < y1; y++) {
            Arrays.fill(all, sums, sums + ow, 0.0);
            for (int i = rows.from[y]; i < rows.from[y + 1]; i++) {
                int at = scaled + (rows.outputs[i] - lo) * ow;
                for (int ox = 0; ox < ow; ox++) {
                    all[sums + ox] += all[at + ox];
                }
            }
            // Column tap by column tap, the last first: an input column's terms then come in
            // ascending output columns, the order of the general path.
            int row = (y - y0) * w;
            Arrays.fill(all, row, row + w, 0.0);
            for (int jx = cols.first.length - 1; jx >= 0; jx--) {
                int at = row + jx * cols.dilation;
                for (int ox = cols.first[jx]; ox < cols.end[jx]; ox++) {
                    all[at + cols.start[ox]] += all[sums + ox];
                }
            }
        }
        CpuBackward.store(dx, all, 0, Math.toIntExact(is.offset(n, y0, 0, 0)), len, s);
    }

    /**
     * The column taps of an axis: output column {@code ox}'s tap {@code jx} is input column
     * {@code start[ox] + jx*dilation}, inside the input for output columns {@code [first[jx], end[jx])}
     * (a contiguous range, as starts grow with {@code ox}).
     */
    private static final class ColumnTaps {
        final int[] start;
        final int[] first;
        final int[] end;
        final int dilation;

        ColumnTaps(Axis a) {
            dilation = a.dilation();
            start = new int[a.out()];
            first = new int[a.window()];
            end = new int[a.window()];
            for (int ox = 0; ox < a.out(); ox++) {
                start[ox] = (int) a.start(ox);
            }
            for (int jx = 0; jx < a.window(); jx++) {
                int lo = a.out();
                int hi = 0;
                for (int ox = 0; ox < a.out(); ox++) {
                    long x = a.start(ox) + (long) jx * dilation;
                    if (x >= 0 && x < a.in()) {
                        lo = Math.min(lo, ox);
                        hi = ox + 1;
                    }
                }
                first[jx] = Math.min(lo, hi);
                end[jx] = hi;
            }
        }
    }
}
