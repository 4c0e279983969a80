package dev.clpool.cpu;

import dev.clpool.Shape;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Adaptive avg and max pooling of small one-channel planes (channels-first tensors viewed as
 * channels-last with one channel) in the channels-last kernels' vector lanes, where the Vector API
 * runs: a group of whole planes is staged with one bulk copy and turned channels-last (position
 * major, the group's planes as channels) by 16×16 transposes in registers
 * ({@link VecAdaptive#transposePlanes}), reduced by {@link VecAdaptive}'s channels-last kernels with the
 * group as the channels, and the results are transposed back to their planes and written with one
 * bulk copy.
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
        float[] stage = s.floats(0, c * area);
        float[] t = s.floats(1, c * area);
        float[] res = s.floats(2, c * outArea);
        float[] acc = s.floats(3, width);
        float[] results = s.floats(7, c * outArea);
        src.get(Math.toIntExact(is.offset(start, 0, 0, 0)), stage, 0, c * area);
        VecAdaptive.transposePlanes(stage, t, area, c, true);
        int rowLen = is.w() * c;
        for (int oy = 0; oy < os.h(); oy++) {
            if (max) {
                for (int y = y0[oy]; y < y1[oy]; y++) {
                    VecAdaptive.maxAcross(t, y * rowLen, c, ow, x0, x1, acc, y == y0[oy]);
                }
                if (VecAdaptive.mayHoldNaN(acc, 0, width)) {
                    for (int i = 0; i < width; i++) {
                        if (acc[i] != acc[i]) {
                            acc[i] = exactMax(t, c, oy, i / c, i % c);
                        }
                    }
                }
            } else {
                average(t, c, oy, acc, s);
            }
            System.arraycopy(acc, 0, results, oy * width, width);
        }
        VecAdaptive.transposePlanes(res, results, outArea, c, false);
        dst.put(Math.toIntExact(os.offset(first, 0, 0, 0)), res, (first - start) * outArea, (end - first) * outArea);
    }

    /** Output row {@code oy}'s averages of the {@code c} staged planes into {@code as}, as {@link AdaptiveAvgRows} sums them. */
    private void average(float[] t, int c, int oy, float[] as, Scratch s) {
        int ow = os.w();
        int width = ow * c;
        int rowLen = is.w() * c;
        float[] ab = s.floats(4, width);
        float[] worst = s.floats(5, width);
        float[] tail = s.floats(6, 2 * VecWidth.floats());
        for (int y = y0[oy]; y < y1[oy]; y++) {
            VecAdaptive.avgAcross(t, y * rowLen, c, ow, x0, x1, as, ab, y == y0[oy], tail);
        }
        Arrays.fill(worst, 0, width, Float.NEGATIVE_INFINITY);
        for (int ox = 0; ox < ow; ox++) {
            VecAdaptive.avgFinish(as, ab, worst, ox * c, c, divisor[oy * ow + ox], perB[oy * ow + ox]);
        }
        if (VecAdaptive.allAtMostZero(worst, width)) {
            return;
        }
        for (int i = 0; i < width; i++) {
            if (!AvgWindows.certified(ab[i], perB[oy * ow + i / c], as[i])) {
                as[i] = exactAverage(t, c, oy, i / c, i % c);
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
