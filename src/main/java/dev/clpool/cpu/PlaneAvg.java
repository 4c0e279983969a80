package dev.clpool.cpu;

import dev.clpool.Axis;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * Windowed average pooling of channels-first planes, band by band (the separable scheme of
 * {@link PlanePlan}), summed in plain float with a running error bound beside each sum, certified
 * per result exactly as {@link AvgWindows} does: every rounded addition {@code t = fl(a + b)} errs
 * by at most u·|t|, so a sum is within u·B of the true sum, B the sum of the magnitudes of the
 * partial sums formed on the way (vertical, then horizontal). Padding is 0, which adds nothing to a
 * sum and only makes B larger; the divisor is the product of the axes' counts (or, with
 * {@code count_include_pad}, of their taps inside the padded input, {@link Axis#extentIncludingPad}).
 * A result whose bound exceeds {@link AvgWindows#TOLERANCE}·max(1, |avg|), or that is not finite,
 * is recomputed in double in scan order.
 *
 * <p>Where the rows fill a float vector ({@link VectorSupport#fitsRow}), the two passes run in
 * {@link VecPlaneAvg} (the same additions and bound; the certificate and fallback here).
 */
final class PlaneAvg {
    private final PlanePlan p;
    private final boolean includePad;
    private final boolean vector;
    /** Per output column: its factor of the divisor. */
    private final int[] colDivisor;
    /** The bound's factor per unit of B and of 1/divisor, in units of TOLERANCE. */
    private final double perB;
    /**
     * Per band slot ({@link PlanePlan#slot}): the divisors and the bound's factors laid out as
     * the band's outputs, computed once for all planes; null when there are too few planes for
     * that to pay, or too many outputs per plane.
     */
    private final float[][][] layouts;
    /**
     * For a 3×3 window of stride 1 and padding 1 over planes of one band ({@link #runFlat}): at
     * {@code k < w +} a vector's lanes, −1 where column {@code k % w} has a left (right) neighbour
     * column, 0 at a row's first (last) column ({@link VecPlaneAvg#flat} loads them from a vector's
     * first column); null for other windows.
     */
    private final int[][] edges;

    /** With {@link VecPlaneAvg}'s passes where {@code vector} (which needs {@link VectorSupport#fitsRow}). */
    PlaneAvg(PlanePlan p, boolean includePad, boolean vector) {
        this(p, includePad, vector, true);
    }

    /** As above, with {@link #runFlat} for the windows it takes only where {@code flat} (tests compare). */
    PlaneAvg(PlanePlan p, boolean includePad, boolean vector, boolean flat) {
        this.p = p;
        this.includePad = includePad;
        this.vector = vector;
        colDivisor = new int[p.w.out()];
        for (int ox = 0; ox < colDivisor.length; ox++) {
            colDivisor[ox] = factor(p.w, ox);
        }
        // B is a float sum of at most three terms per tap of the whole window (padding included).
        long taps = (long) p.d.window() * p.h.window() * p.w.window();
        perB = 0x1p-24 * (1 + CompensatedSum.gamma(3 * taps)) / AvgWindows.TOLERANCE;
        if (p.planes >= LAYOUT_MIN_PLANES && p.outPlane <= LAYOUT_MAX_FLOATS) {
            layouts = new float[p.slots()][][];
            p.bands(0, p.slots(), (plane, oz, oy0, oy1) -> {
                int outs = (oy1 - oy0) * p.w.out();
                float[][] l = {new float[outs], new float[outs]};
                layout(oz, oy0, oy1, l);
                layouts[p.slot(oz, oy0)] = l;
            });
        } else {
            layouts = null;
        }
        edges = vector && flat && flat(p) ? edges(p.w.in(), VecPlaneAvg.lanes()) : null;
    }

    /** Whether {@link #runFlat} runs {@code p} (with the vector passes): 3×3 s1 p1 (out = in), a plane one band, rows a vector wide. */
    static boolean flat(PlanePlan p) {
        return p.d.in() == 1 && p.d.out() == 1 && p.d.window() == 1 && threeSame(p.h) && threeSame(p.w)
                && p.h.in() >= 3 && p.bandRows == p.h.out() && p.w.in() >= VecPlaneAvg.lanes();
    }

    private static boolean threeSame(Axis a) {
        return a.window() == 3 && a.stride() == 1 && a.dilation() == 1 && a.padBegin() == 1 && a.out() == a.in();
    }

    static int[][] edges(int w, int lanes) {
        int[][] e = new int[2][w + lanes];
        for (int k = 0; k < w + lanes; k++) {
            e[0][k] = k % w == 0 ? 0 : -1;
            e[1][k] = k % w == w - 1 ? 0 : -1;
        }
        return e;
    }

    /** Planes from which the divisor layouts are computed once per operation rather than per band. */
    private static final int LAYOUT_MIN_PLANES = 4;
    /** Outputs per plane up to which they are. */
    private static final long LAYOUT_MAX_FLOATS = 1 << 20;

    private int factor(Axis a, int o) {
        return includePad ? a.extentIncludingPad(o) : a.count(o);
    }

    /**
     * Bands {@code [from, to)} ({@link PlanePlan#bands(int, int, PlanePlan.Band)}) of {@code src}
     * into {@code dst}; {@code raw} and {@code rawOut} are their bytes (float32, native order), which
     * the vector passes read and write.
     */
    void run(ByteBuffer raw, ByteBuffer rawOut, FloatBuffer src, FloatBuffer dst, int from, int to, Scratch s) {
        if (vector) {
            runVector(raw, rawOut, src, dst, from, to, s);
            return;
        }
        float[] acc = s.floats(0, p.bandRows * p.pitch);
        float[] tap = s.floats(2, p.bandRows * p.pitch);
        p.padColumns(acc, 0f);
        p.padColumns(tap, 0f);
        p.bands(from, to, (plane, oz, oy0, oy1) -> band(src, dst, plane, oz, oy0, oy1, acc, tap, s));
    }

    /**
     * One band ({@code acc} and {@code tap} hold 0 in every padding column): the certificate of every result is written element-wise by {@link #finish} (a loop
     * C2 vectorises; reduced into a scalar it would be a chain of dependent maxima, one per output)
     * and then scanned with a branch that is almost never taken; a band with a failing result has
     * those results recomputed in double (rare: heavy cancellation, an infinity or NaN, float
     * overflow; and a few corners, where the padding's zero additions make the bound looser).
     */
    private void band(FloatBuffer src, FloatBuffer dst, int plane, int oz, int oy0, int oy1, float[] acc, float[] tap,
                      Scratch s) {
        int rows = oy1 - oy0;
        int n = rows * p.pitch;
        float[] accB = s.floats(1, n);
        int folded = 0;
        for (int jz = p.d.firstTap(oz); jz < p.d.endTap(oz); jz++) {
            for (int jy = 0; jy < p.h.window(); jy++) {
                if (!p.rowTapUsed(jy, oy0, oy1)) {
                    continue;
                }
                if (folded++ == 0) {
                    p.stage(src, plane, oz, jz, jy, oy0, oy1, acc, 0f);
                    continue;
                }
                p.stage(src, plane, oz, jz, jy, oy0, oy1, tap, 0f);
                if (folded == 2) {
                    for (int i = 0; i < n; i++) {
                        float t = acc[i] + tap[i];
                        acc[i] = t;
                        accB[i] = Math.abs(t);
                    }
                } else {
                    for (int i = 0; i < n; i++) {
                        float t = acc[i] + tap[i];
                        acc[i] = t;
                        accB[i] += Math.abs(t);
                    }
                }
            }
        }
        if (folded == 1) {
            java.util.Arrays.fill(accB, 0, n, 0f);
        }
        int outs = rows * p.w.out();
        float[] sums = s.floats(5, outs);
        float[] bounds = s.floats(6, outs);
        across(acc, accB, rows, sums, bounds, s);
        finishBand(src, dst, plane, oz, oy0, oy1, sums, bounds, s);
    }

    /**
     * {@link #run} with {@link VecPlaneAvg}'s passes: a band's input rows read from {@code raw},
     * the tensor's bytes ({@link PlanePlan#downInTensor}), rows outside the input skipped (the
     * accumulators' padding columns hold 0); the fused pass writes its averages into
     * {@code rawOut}, and only a band with a result that fails its certificate is written again
     * from {@code sums} after {@link #recheck}.
     */
    private void runVector(ByteBuffer raw, ByteBuffer rawOut, FloatBuffer src, FloatBuffer dst, int from, int to,
                           Scratch s) {
        if (edges != null) {
            runFlat(raw, rawOut, src, dst, from, to, s);
            return;
        }
        int slack = VecPlaneMax.slack(p.w.stride(), p.maxShift);
        int len = p.bandRows * p.pitch + slack;
        float[] acc = s.floats(0, len);
        float[] accB = s.floats(1, len);
        float[] fs = s.floats(3, len);
        float[] fb = s.floats(4, len);
        int[] rows = s.ints(0, 1, p.downInts())[0];
        boolean fused = p.w.stride() == 1 && p.w.window() <= 3 && p.w.out() >= VecPlaneAvg.lanes();
        java.util.Arrays.fill(acc, 0, len, 0f);
        java.util.Arrays.fill(accB, 0, len, 0f);
        PlanePlan.Down down = (r, n, at) -> VecPlaneAvg.down(raw, r, n, acc, accB, at, p.w.in());
        PlanePlan.DownBand band = (r, n, step) -> VecPlaneAvg.down(raw, r, p.bandRows, n, step, acc, accB, p.pitch,
                p.w.padBegin(), p.w.in());
        p.bands(from, to, (plane, oz, oy0, oy1) -> {
            int n = oy1 - oy0;
            p.downInTensor(plane, oz, oy0, oy1, rows, down, band);
            int outs = n * p.w.out();
            float[] sums = s.floats(5, outs + slack);
            float[] bounds = s.floats(6, outs + slack);
            if (fused) {
                float[][] l = layout(oz, oy0, oy1, s);
                int at = p.outputRow(plane, oz, oy0);
                if (VecPlaneAvg.fused(acc, accB, n, p.pitch, p.w.window(), p.w.dilation(), l[0], l[1], null, null,
                        p.w.out(), rawOut, at)) {
                    VecPlaneAvg.fused(acc, accB, n, p.pitch, p.w.window(), p.w.dilation(), l[0], l[1], sums, bounds,
                            p.w.out(), null, 0);
                    recheck(src, sums, bounds, l[1], plane, oz, oy0, oy1);
                    dst.put(at, sums, 0, outs);
                }
                return;
            }
            boolean one = p.w.window() == 1;
            if (!one) {
                VecPlaneAvg.across(acc, accB, p.positions(n), p.w.window(), p.w.dilation(), fs, fb);
            }
            VecPlaneMax.keep(one ? acc : fs, p.pitch, n, p.w.out(), p.w.stride(), false, sums);
            VecPlaneMax.keep(one ? accB : fb, p.pitch, n, p.w.out(), p.w.stride(), false, bounds);
            finishBand(src, dst, plane, oz, oy0, oy1, sums, bounds, s);
        });
    }

    /**
     * {@link #runVector} for a 3×3 s1 p1 window over planes of one band each: the vertical pass of
     * the whole plane flat ({@link VecPlaneAvg#plane}), then the columns, division and certificate
     * flat over the plane's outputs ({@link VecPlaneAvg#flat}): the same additions in the same
     * order as the band rows' passes, so the same sums, bounds and results, with no lane idle at a
     * row's end (Inception's 35-wide rows: 3 vectors for 35 outputs there).
     */
    private void runFlat(ByteBuffer raw, ByteBuffer rawOut, FloatBuffer src, FloatBuffer dst, int from, int to,
                         Scratch s) {
        int lanes = VecPlaneAvg.lanes();
        int n = Math.toIntExact(p.inPlane);
        float[] acc = s.floats(0, n + 2 * lanes);
        float[] accB = s.floats(1, n + 2 * lanes);
        p.bands(from, to, (plane, oz, oy0, oy1) -> {
            VecPlaneAvg.plane(raw, p.inputRow(plane, 0, 0), p.h.in(), p.w.in(), acc, accB, lanes);
            float[][] l = layout(oz, oy0, oy1, s);
            int at = p.outputRow(plane, oz, oy0);
            if (VecPlaneAvg.flat(acc, accB, lanes, n, p.w.in(), edges[0], edges[1], l[0], l[1], null, null, rawOut, at)) {
                float[] sums = s.floats(5, n);
                float[] bounds = s.floats(6, n);
                VecPlaneAvg.flat(acc, accB, lanes, n, p.w.in(), edges[0], edges[1], l[0], l[1], sums, bounds, null, 0);
                recheck(src, sums, bounds, l[1], plane, oz, oy0, oy1);
                dst.put(at, sums, 0, n);
            }
        });
    }

    /** Divides and certifies a band's sums ({@link #finish}), rechecks failures, writes the band. */
    private void finishBand(FloatBuffer src, FloatBuffer dst, int plane, int oz, int oy0, int oy1, float[] sums,
                            float[] bounds, Scratch s) {
        int outs = (oy1 - oy0) * p.w.out();
        float[] excess = s.floats(11, outs);
        float[][] l = layout(oz, oy0, oy1, s);
        finish(sums, bounds, excess, l[0], l[1], outs);
        for (int i = 0; i < outs; i++) {
            if (!(excess[i] <= 0)) {
                recheck(src, sums, bounds, l[1], plane, oz, oy0, oy1);
                break;
            }
        }
        dst.put(p.outputRow(plane, oz, oy0), sums, 0, outs);
    }

    /** The divisors and the bound's factors of a band laid out as its outputs ({@link #layout}). */
    private float[][] layout(int oz, int oy0, int oy1, Scratch s) {
        int outs = (oy1 - oy0) * p.w.out();
        return layouts != null ? layouts[p.slot(oz, oy0)]
                : layout(oz, oy0, oy1, new float[][] {s.floats(8, outs), s.floats(9, outs)});
    }

    /**
     * The horizontal pass: the window's sum and bound at every column position of the band's rows,
     * the output columns kept into {@code sums} and {@code bounds}.
     */
    private void across(float[] acc, float[] accB, int rows, float[] sums, float[] bounds, Scratch s) {
        int kw = p.w.window();
        if (kw == 1) {
            p.keep(acc, sums, rows);
            p.keep(accB, bounds, rows);
            return;
        }
        int m = p.positions(rows);
        float[] fs = s.floats(3, m);
        float[] fb = s.floats(4, m);
        float[] tapB = s.floats(7, m);
        float[] tap = s.floats(10, m);
        for (int jx = 1; jx < kw; jx++) {
            System.arraycopy(acc, p.shift(jx), tap, 0, m);
            System.arraycopy(accB, p.shift(jx), tapB, 0, m);
            if (jx == 1) {
                for (int i = 0; i < m; i++) {
                    float t = acc[i] + tap[i];
                    fs[i] = t;
                    fb[i] = accB[i] + tapB[i] + Math.abs(t);
                }
            } else {
                for (int i = 0; i < m; i++) {
                    float t = fs[i] + tap[i];
                    fs[i] = t;
                    fb[i] += tapB[i] + Math.abs(t);
                }
            }
        }
        p.keep(fs, sums, rows);
        p.keep(fb, bounds, rows);
    }

    /**
     * Divides each sum by its divisor in place (a float division, as {@link AvgWindows#finish}
     * explains); {@code bounds} keep the bounds, and {@code excess} receives bound·k − max(1, |avg|):
     * > 0 (or NaN) where a bound exceeds the tolerance or a sum is not finite. The divisors and the
     * bound's factors come laid out as the band's outputs ({@link #layout}), so that the loop has one
     * index expression.
     */
    private static void finish(float[] sums, float[] bounds, float[] excess, float[] div, float[] perUnit, int outs) {
        for (int i = 0; i < outs; i++) {
            float v = sums[i] / div[i];
            sums[i] = v;
            excess[i] = bounds[i] * perUnit[i] - Math.max(1f, Math.abs(v));
        }
    }

    /**
     * Lays out the divisors ({@code l[0]}) and the bound's factors ({@code l[1]}) of output rows
     * {@code [oy0, oy1)} at depth {@code oz} as the band's outputs; returns {@code l}.
     */
    private float[][] layout(int oz, int oy0, int oy1, float[][] l) {
        int ow = p.w.out();
        float[] div = l[0];
        float[] perUnit = l[1];
        long last = -1;
        for (int oy = oy0; oy < oy1; oy++) {
            long rowDivisor = (long) factor(p.d, oz) * factor(p.h, oy);
            int at = (oy - oy0) * ow;
            if (rowDivisor == last) {
                System.arraycopy(div, at - ow, div, at, ow);
                System.arraycopy(perUnit, at - ow, perUnit, at, ow);
            } else {
                divisors(rowDivisor, div, perUnit, at);
                last = rowDivisor;
            }
        }
        return l;
    }

    /**
     * Per output column of a row with row factor {@code rowDivisor}: the divisor and the bound's
     * factor, from index {@code at}.
     */
    private void divisors(long rowDivisor, float[] div, float[] perUnit, int at) {
        for (int ox = 0; ox < colDivisor.length; ox++) {
            double divisor = (double) rowDivisor * colDivisor[ox];
            div[at + ox] = (float) divisor;
            perUnit[at + ox] = (float) (perB / divisor);
        }
    }

    /**
     * Recomputes in double the averages of the band whose bound fails or that are not finite
     * ({@code perUnit} as {@link #finish} used it).
     */
    private void recheck(FloatBuffer src, float[] avgs, float[] bounds, float[] perUnit, int plane, int oz, int oy0,
                         int oy1) {
        int ow = p.w.out();
        for (int oy = oy0; oy < oy1; oy++) {
            long rowDivisor = (long) factor(p.d, oz) * factor(p.h, oy);
            int at = (oy - oy0) * ow;
            for (int ox = 0; ox < ow; ox++) {
                if (!AvgWindows.certified(bounds[at + ox], perUnit[at + ox], avgs[at + ox])) {
                    avgs[at + ox] = exact(src, plane, oz, oy, ox, (double) rowDivisor * colDivisor[ox]);
                }
            }
        }
    }

    /** The average of one window summed in double in scan order. */
    private float exact(FloatBuffer src, int plane, int oz, int oy, int ox, double divisor) {
        double sum = 0;
        for (int jz = p.d.firstTap(oz); jz < p.d.endTap(oz); jz++) {
            int z = (int) p.d.start(oz) + jz * p.d.dilation();
            for (int jy = p.h.firstTap(oy); jy < p.h.endTap(oy); jy++) {
                int y = (int) p.h.start(oy) + jy * p.h.dilation();
                for (int jx = p.w.firstTap(ox); jx < p.w.endTap(ox); jx++) {
                    sum += src.get(p.element(plane, z, y, (int) p.w.start(ox) + jx * p.w.dilation()));
                }
            }
        }
        return CpuBackend.canonicalNaN((float) (sum / divisor));
    }
}
