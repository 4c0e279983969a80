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
 * and the innermost loop runs over the contiguous channels. Max reduces with {@code Math.max} and
 * makes zero and NaN results exact by the kernels' rule ({@link CpuBackend#max}), so results are
 * bit-identical; avg sums in double, from input rows staged into
 * heap arrays, and divides by the region's element count, except with many channels, where
 * {@link AdaptiveAvgRows} sums in certified float.
 *
 * <p>With one channel (channels-first planes viewed as channels-last) the channel loop is one
 * element long, and a task per output row costs more than its work: {@link PlaneAdaptiveMax} and
 * {@link PlaneAdaptiveAvg} take groups of whole planes (or bands of a large plane) per task, with
 * the same results bit for bit. Where the Vector API runs and the planes are small (VGG-16's 10×10,
 * SPP-net's 13×13), {@link AdaptPlaneLanes} runs them in this path's vector kernels instead, a group
 * of planes as the channels (max the same bits; the average certified as {@link AdaptiveAvgRows}').
 */
final class CpuAdaptive {
    private CpuAdaptive() {
    }

    static void run(AdaptiveGeometry g, Tensor in, Tensor out, CpuBackward.Parallel parallel) {
        run(g, in, out, parallel, true);
    }

    /** {@link #run}, with {@code planes} false: the general path even for one channel. */
    static void run(AdaptiveGeometry g, Tensor in, Tensor out, CpuBackward.Parallel parallel, boolean planes) {
        run(g, in, out, parallel, planes, VectorSupport.ENABLED);
    }

    /** {@link #run}, with {@code vectors} false: the scalar kernels even where the Vector API ones run (tests compare them). */
    static void run(AdaptiveGeometry g, Tensor in, Tensor out, CpuBackward.Parallel parallel, boolean planes,
                    boolean vectors) {
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
        if (planes && vectors && AdaptPlaneLanes.pays(is, os)) {
            AdaptPlaneLanes lanes = new AdaptPlaneLanes(is, os, y0, y1, x0, x1, max);
            parallel.run(lanes.units(), u -> lanes.run(src, dst, u));
            return;
        }
        if (planes && is.c() == 1) {
            PlaneRegions regions = new PlaneRegions(is, os, y0, y1, x0, x1);
            if (max) {
                PlaneAdaptiveMax m = new PlaneAdaptiveMax(regions);
                parallel.run(regions.units(), u -> m.run(src, dst, u));
            } else {
                PlaneAdaptiveAvg a = new PlaneAdaptiveAvg(regions, vectors);
                parallel.run(regions.units(), u -> a.run(src, dst, u));
            }
            return;
        }
        // Whether the Vector API kernels (VecAdaptive) run: enough channels to fill a vector.
        boolean lanes = vectors && VectorSupport.fits(is.c());
        if (!max && AdaptiveAvgRows.pays(is)) {
            new AdaptiveAvgRows(is, os, y0, y1, x0, x1).run(src, in.buffer(), lanes, dst, out.buffer(), parallel);
            return;
        }
        if (max && lanes) {
            int rows = os.n() * os.h();
            int group = AdaptiveAvgRows.rowsPerTask(is, os);
            int tallest = AdaptiveAvgRows.tallest(y0, y1);
            boolean narrow = AdaptiveAvgRows.narrow(x0, x1);
            parallel.run((rows + group - 1) / group, task -> vectorMaxRows(is, os, src, dst, task * group,
                    Math.min(rows, (task + 1) * group), y0, y1, x0, x1, tallest, narrow));
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

    /**
     * One output row of maxima, as {@link MaxWindows} does it: each input row of the row's regions
     * is staged by one bulk copy and reduced across each region's columns, then folded down, with
     * {@link Math#max(float, float)} (loops C2 vectorises); a result that is zero or NaN is redone
     * by the kernels' rule element by element, and only if a staged row holds a −0 or a NaN
     * ({@link MaxExact#holdsNegativeZeroOrNaN}), where the two rules can differ. The per-element
     * rule for every result cost 3–8× more on random data than on all-zero data.
     */
    private static void maxRow(Shape is, Shape os, FloatBuffer src, FloatBuffer dst, int n, int oy,
                               int ys, int ye, int[] x0, int[] x1) {
        int c = is.c();
        int ow = os.w();
        int width = ow * c;
        int rowLen = is.w() * c;
        Scratch s = Scratch.get();
        float[] row = s.floats(0, rowLen);
        float[] across = s.floats(1, width);
        float[] acc = s.floats(2, width);
        float[] tap = s.floats(3, c);
        float[] red = s.floats(4, c);
        boolean risky = false;
        for (int y = ys; y < ye; y++) {
            src.get(Math.toIntExact(is.offset(n, y, 0, 0)), row, 0, rowLen);
            risky |= MaxExact.holdsNegativeZeroOrNaN(row, rowLen);
            for (int ox = 0; ox < ow; ox++) {
                System.arraycopy(row, x0[ox] * c, red, 0, c);
                for (int x = x0[ox] + 1; x < x1[ox]; x++) {
                    System.arraycopy(row, x * c, tap, 0, c);
                    for (int ch = 0; ch < c; ch++) {
                        red[ch] = Math.max(red[ch], tap[ch]);
                    }
                }
                System.arraycopy(red, 0, y == ys ? acc : across, ox * c, c);
            }
            if (y > ys) {
                for (int i = 0; i < width; i++) {
                    acc[i] = Math.max(acc[i], across[i]);
                }
            }
        }
        if (risky) {
            for (int i = 0; i < width; i++) {
                float m = acc[i];
                if (!(m > 0 || m < 0)) {
                    acc[i] = exactMax(is, src, n, ys, ye, x0[i / c], x1[i / c], i % c);
                }
            }
        }
        dst.put(Math.toIntExact(os.offset(n, oy, 0, 0)), acc, 0, width);
    }

    /**
     * Output rows {@code [from, to)} of {@link #maxRow} in Vector API lanes, exact by clpool's rule as
     * they go: each input row staged once and reduced across the regions' columns once
     * ({@link VecAdaptiveMaxRows#across}, or {@link VecAdaptive#maxAcross} for wider regions) into a
     * ring of the {@code tallest} region's rows, keyed by (item, row), for the output rows that share
     * it (SPP-net's 13 rows to 6 reduced 18 rows per item, one output row per task), then each output
     * row's rows folded ({@link VecAdaptiveMaxRows#down}); a result that comes out NaN (its region
     * holds a NaN or an infinity) is redone by the rule in scan order.
     */
    private static void vectorMaxRows(Shape is, Shape os, FloatBuffer src, FloatBuffer dst, int from, int to,
                                      int[] y0, int[] y1, int[] x0, int[] x1, int tallest, boolean narrow) {
        int c = is.c();
        int ow = os.w();
        int width = ow * c;
        int rowLen = is.w() * c;
        Scratch s = Scratch.get();
        float[] row = s.floats(0, rowLen);
        float[] hm = s.floats(1, tallest * width);
        float[] acc = s.floats(2, width);
        AcrossRing ring = new AcrossRing(s, tallest, width, is.h());
        AcrossRing.Reduce reduce = (n, y, at) -> {
            src.get(Math.toIntExact(is.offset(n, y, 0, 0)), row, 0, rowLen);
            VecAdaptiveMaxRows.across(row, 0, c, ow, x0, x1, hm, at, narrow);
        };
        for (int r = from; r < to; r++) {
            int n = r / os.h();
            int oy = r % os.h();
            int[] rowAt = ring.rows(n, y0[oy], y1[oy], reduce);
            VecAdaptiveMaxRows.down(hm, rowAt, y1[oy] - y0[oy], c, ow, acc);
            if (VecAdaptive.mayHoldNaN(acc, 0, width)) {
                for (int i = 0; i < width; i++) {
                    if (acc[i] != acc[i]) {
                        acc[i] = exactMax(is, src, n, y0[oy], y1[oy], x0[i / c], x1[i / c], i % c);
                    }
                }
            }
            dst.put(Math.toIntExact(os.offset(n, oy, 0, 0)), acc, 0, width);
        }
    }

    /** The kernels' rule ({@link CpuBackend#max}) over one region and channel, in scan order. */
    private static float exactMax(Shape is, FloatBuffer src, int n, int ys, int ye, int xs, int xe, int ch) {
        float m = Float.NEGATIVE_INFINITY;
        for (int y = ys; y < ye; y++) {
            for (int x = xs; x < xe; x++) {
                m = CpuBackend.max(m, src.get(Math.toIntExact(is.offset(n, y, x, ch))));
            }
        }
        return m;
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
}
