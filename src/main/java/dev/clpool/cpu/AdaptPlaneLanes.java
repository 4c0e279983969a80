package dev.clpool.cpu;

import dev.clpool.Shape;
import java.nio.FloatBuffer;

/**
 * Adaptive avg and max pooling of small one-channel planes (channels-first tensors viewed as
 * channels-last with one channel) in the channels-last kernels' vector lanes, where the Vector API
 * runs: a group of whole planes is staged with one bulk copy and turned channels-last (position
 * major, the group's planes as channels) by 16×16 transposes in registers
 * ({@link VecAdaptive#transposePlanes}), reduced by {@link VecAdaptive}'s channels-last kernels with the
 * group as the channels, and the results are transposed back to their planes and written with one
 * bulk copy. An average group that its inputs' magnitude certifies, with regions of up to three rows
 * and columns, skips the transposes: {@link VecAdaptFlat} sums it in the planes' own layout, with the
 * same bits.
 *
 * <p>A plane of VGG-16's head (10×10 to 7×7) or SPP-net's 6×6 level (13×13) is shorter than a vector
 * or two along W, so lanes along the plane ({@link VecPlaneAdaptive}, {@link PlaneAdaptiveMax}) waste
 * most of a vector, and {@link VecPlaneAdaptive} gathers every tap; here each input element is
 * moved once and every tap is a contiguous vector of planes. Gathers of a vector of planes (one
 * per position) instead of the transposes: VGG-16's head 0.45 against 0.40 ms, one thread.
 *
 * <p>Each lane does what the channels-last path does for one channel: max is clpool's rule in lanes,
 * NaN results redone by the rule in scan order, so the results are the general path's bits; the
 * average is {@link AdaptiveAvgRows}' certified float sum (u·B·(1 + γ(3·taps)) over the element count
 * at most {@link AvgWindows#TOLERANCE}·max(1, |avg|)), a result that fails it summed in double in scan
 * order: SEMANTICS.md's tolerance with the channels-last path's guarantee.
 */
final class AdaptPlaneLanes {
    private final Shape is;
    private final Shape os;
    private final int[] y0;
    private final int[] y1;
    private final int[] x0;
    private final int[] x1;
    private final boolean max;
    private final int area;
    private final int outArea;
    /** Planes per unit: at least a vector, a multiple of it where the tensor has enough planes. */
    private final int group;
    /** Per output (oy·OW + ox): its region's element count as a float, and the certificate's factor. */
    private final float[] divisor;
    private final float[] perB;
    /** The largest input magnitude, as float bits, that certifies every average ({@link AdaptiveAvgRows#limit}). */
    private final int limitBits;
    /** The most input rows of a region; whether every region is at most three columns wide. */
    private final int tallest;
    private final boolean narrow;
    /** {@link VecPlaneRows#rows} for max where that path fits the regions, else null. */
    private final int[] rows;
    /** The certified averages in the planes' own layout where the regions fit it, else null. */
    private final VecAdaptFlat flat;

    /** Regions {@code [y0[oy], y1[oy]) × [x0[ox], x1[ox])} of planes of shape {@code is} (one channel). */
    AdaptPlaneLanes(Shape is, Shape os, int[] y0, int[] y1, int[] x0, int[] x1, boolean max) {
        this.is = is;
        this.os = os;
        this.y0 = y0;
        this.y1 = y1;
        this.x0 = x0;
        this.x1 = x1;
        this.max = max;
        area = is.h() * is.w();
        outArea = os.h() * os.w();
        int lanes = VecWidth.floats();
        int fit = PlaneRegions.UNIT_FLOATS / Math.max(area, outArea) / lanes * lanes;
        group = Math.min(is.n(), Math.max(lanes, fit));
        divisor = new float[outArea];
        perB = new float[outArea];
        for (int oy = 0; oy < os.h(); oy++) {
            for (int ox = 0; ox < os.w(); ox++) {
                long taps = (long) (y1[oy] - y0[oy]) * (x1[ox] - x0[ox]);
                // AdaptiveAvgRows' float division and certificate factor.
                divisor[oy * os.w() + ox] = (float) taps;
                perB[oy * os.w() + ox] = AdaptiveAvgRows.perB(taps);
            }
        }
        tallest = AdaptiveAvgRows.tallest(y0, y1);
        narrow = AdaptiveAvgRows.narrow(x0, x1);
        int least = Integer.MAX_VALUE;
        for (int bits : AdaptiveAvgRows.limitBits(os, y0, y1, x0, x1)) {
            least = Math.min(least, bits);
        }
        limitBits = least;
        rows = max ? VecPlaneRows.rows(is, os, y0, y1, x0, x1) : null;
        flat = max ? null : VecAdaptFlat.plan(is, os, y0, y1, x0, x1);
    }

    /**
     * Whether this path runs: 16-float vectors ({@link VecAdaptive#transpose}'s blocks), at least
     * 16 planes, and planes (input and output) of 16 to {@link PlaneRegions#UNIT_FLOATS}/16
     * elements, so that 16 of them fit a unit.
     */
    static boolean pays(Shape is, Shape os) {
        long lanes = VecWidth.floats();
        long area = (long) is.h() * is.w();
        long outArea = (long) os.h() * os.w();
        return VectorSupport.ENABLED && lanes == 16 && is.c() == 1 && is.n() >= lanes
                && area >= lanes && outArea >= lanes
                && lanes * area <= PlaneRegions.UNIT_FLOATS && lanes * outArea <= PlaneRegions.UNIT_FLOATS;
    }

    /** Units of work (groups of planes). */
    int units() {
        return (is.n() + group - 1) / group;
    }

    /**
     * Unit {@code u}: planes {@code [u·group, …)}. A last group of fewer planes than a vector is
     * computed with the planes before it, and only its own are written.
     */
    void run(FloatBuffer src, FloatBuffer dst, int u) {
        int first = u * group;
        int end = Math.min(is.n(), first + group);
        int start = Math.min(first, end - VecWidth.floats());
        int c = end - start;
        int ow = os.w();
        int width = ow * c;
        Scratch s = Scratch.get();
        int lanes = VecWidth.floats();
        float[] stage = s.floats(0, c * area + 2 * lanes);
        float[] res = s.floats(2, c * outArea + lanes);
        src.get(Math.toIntExact(is.offset(start, 0, 0, 0)), stage, 0, c * area);
        // SPP-net's max in the planes' own layout where the group holds no NaN and no −0.
        if (rows != null && !VecPlaneMax.minusZeroOrNaN(stage, c * area)) {
            VecPlaneRows.max(stage, c, area, os.h(), ow, rows, res);
            dst.put(Math.toIntExact(os.offset(first, 0, 0, 0)), res, (first - start) * outArea, (end - first) * outArea);
            return;
        }
        // Averages of a group whose inputs are small enough need no running bounds.
        boolean certain = !max && narrow && VecAdaptiveRows.magnitudeBits(stage, 0, c * area) <= limitBits;
        if (certain && flat != null) {
            flat.run(stage, c, s.floats(1, flat.scratch(c)), s.floats(4, flat.scratch(c)), res);
            dst.put(Math.toIntExact(os.offset(first, 0, 0, 0)), res, (first - start) * outArea, (end - first) * outArea);
            return;
        }
        float[] t = s.floats(1, c * area);
        float[] acc = s.floats(3, width);
        float[] results = s.floats(7, c * outArea);
        int[] rowAt = s.ints(3, 1, tallest)[0];
        float[] h = s.floats(4, is.h() * width);
        float[] hb = max ? h : s.floats(5, is.h() * width);
        VecAdaptive.transposePlanes(stage, t, area, c, true);
        across(t, c, h, hb, certain, s);
        for (int oy = 0; oy < os.h(); oy++) {
            int rows = y1[oy] - y0[oy];
            for (int j = 0; j < rows; j++) {
                rowAt[j] = (y0[oy] + j) * width;
            }
            if (max) {
                VecAdaptiveMaxRows.down(h, rowAt, rows, c, ow, acc);
                if (VecAdaptive.mayHoldNaN(acc, 0, width)) {
                    for (int i = 0; i < width; i++) {
                        if (acc[i] != acc[i]) {
                            acc[i] = exactMax(t, c, oy, i / c, i % c);
                        }
                    }
                }
            } else if (certain) {
                VecAdaptiveRows.averages(h, rowAt, rows, c, ow, divisor, oy * ow, acc);
            } else {
                float[] excess = s.floats(6, width);
                if (!VecAdaptiveRows.down(h, hb, rowAt, rows, c, ow, divisor, perB,
                        oy * ow, acc, excess)) {
                    for (int i = 0; i < width; i++) {
                        // Where AvgWindows.certified refuses: b·k − max(1, |avg|) above 0, or NaN.
                        if (!(excess[i] <= 0f)) {
                            acc[i] = exactAverage(t, c, oy, i / c, i % c);
                        }
                    }
                }
            }
            System.arraycopy(acc, 0, results, oy * width, width);
        }
        VecAdaptive.transposePlanes(res, results, outArea, c, false);
        dst.put(Math.toIntExact(os.offset(first, 0, 0, 0)), res, (first - start) * outArea, (end - first) * outArea);
    }

    /**
     * Every staged input row's maxima (into {@code h}), or sums and bounds ({@code h}, {@code hb}),
     * across the regions' columns, input row y's at {@code y·OW·c}: each row reduced once, where
     * output rows whose regions share it reduced it again (VGG-16's 10 rows to 7: 16 reductions).
     * Sums alone where {@code certain} (the inputs' magnitude certifies the averages).
     */
    private void across(float[] t, int c, float[] h, float[] hb, boolean certain, Scratch s) {
        int ow = os.w();
        int width = ow * c;
        int rowLen = is.w() * c;
        float[] tail = s.floats(8, 2 * VecWidth.floats());
        for (int y = 0; y < is.h(); y++) {
            if (max) {
                VecAdaptiveMaxRows.across(t, y * rowLen, c, ow, x0, x1, h, y * width, narrow);
            } else if (certain) {
                VecAdaptiveRows.sums(t, y * rowLen, c, ow, x0, x1, h, y * width);
            } else {
                VecAdaptive.avgAcross(t, y * rowLen, c, ow, x0, x1, h, hb, y * width, true, tail);
            }
        }
    }

    /** The kernels' rule ({@link CpuBackend#max}) over plane {@code p}'s region, in scan order. */
    private float exactMax(float[] t, int c, int oy, int ox, int p) {
        float m = Float.NEGATIVE_INFINITY;
        for (int y = y0[oy]; y < y1[oy]; y++) {
            for (int x = x0[ox]; x < x1[ox]; x++) {
                m = CpuBackend.max(m, t[(y * is.w() + x) * c + p]);
            }
        }
        return m;
    }

    /** Plane {@code p}'s region summed in double in scan order (the general path's sums). */
    private float exactAverage(float[] t, int c, int oy, int ox, int p) {
        double sum = 0;
        for (int y = y0[oy]; y < y1[oy]; y++) {
            for (int x = x0[ox]; x < x1[ox]; x++) {
                sum += t[(y * is.w() + x) * c + p];
            }
        }
        double div = (double) (y1[oy] - y0[oy]) * (x1[ox] - x0[ox]);
        return CpuBackend.canonicalNaN((float) (sum / div));
    }
}
