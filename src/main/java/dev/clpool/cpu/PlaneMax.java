package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Windowed max pooling of channels-first planes, band by band (the separable scheme of
 * {@link PlanePlan}).
 *
 * <p>As in {@link MaxWindows}, the reduction is {@link Math#max(float, float)}, which C2
 * vectorises and whose result is the same value in any order; it can differ in bits from clpool's
 * rule (a later value replaces the maximum only if strictly greater; the first NaN wins) only
 * where the result is zero (the sign of the first zero in scan order) or NaN (the payload of the
 * first NaN). A band with such a result whose input holds a −0 or a NaN (a min(1/x), −∞ for −0
 * and NaN for NaN) has those results recomputed with the rule in scan order (depth,
 * then row, then column). Padding is −∞, which never wins: every window covers an input element.
 *
 * <p>Where the rows fill a float vector ({@link VectorSupport#fitsRow}), the passes run in
 * {@link VecPlaneMax} (the same reduction, so the same bits; the fix-up here).
 */
final class PlaneMax {
    private final PlanePlan p;
    private final boolean vector;

    /** With {@link VecPlaneMax}'s passes where {@code vector} (which needs {@link VectorSupport#fitsRow}). */
    PlaneMax(PlanePlan p, boolean vector) {
        this.p = p;
        this.vector = vector;
    }

    /**
     * Bands {@code [from, to)} ({@link PlanePlan#bands(int, int, PlanePlan.Band)}) of the input
     * {@code src} into {@code dst}, whose bytes (float32, native order, the same storage) are
     * {@code raw} and {@code rawOut} (the fused pair pass stores its maxima straight into it).
     */
    void run(ByteBuffer raw, ByteBuffer rawOut, FloatBuffer src, FloatBuffer dst, int from, int to, Scratch s) {
        if (vector) {
            runVector(raw, rawOut, src, dst, from, to, s);
            return;
        }
        float[] acc = s.floats(0, p.bandRows * p.pitch);
        float[] tap = s.floats(1, p.bandRows * p.pitch);
        p.padColumns(acc, Float.NEGATIVE_INFINITY);
        p.padColumns(tap, Float.NEGATIVE_INFINITY);
        p.bands(from, to, (plane, oz, oy0, oy1) -> band(src, dst, plane, oz, oy0, oy1, acc, tap, s));
    }

    /**
     * {@link #run} in {@link VecPlaneMax}'s lanes: a band's input rows copied from {@code src} in
     * one bulk copy per depth tap ({@link PlanePlan#stageBlocks}); for windows of 2 or 4 adjacent
     * columns and 2 rows inside the input (C3D's 1×2×2, 2×2 s2), read once from {@code raw} in one
     * fused pass ({@link VecPlaneMax#pooled}), which also answers the fix-up's question (a NaN result,
     * or a zero one and a −0 loaded: no second pass over the rows); elsewhere the vertical pass
     * ({@link VecPlaneMax#down}) tells whether it loaded a −0 and {@link VecPlaneMax#keep} which
     * results are zero or NaN; for one-row windows of that kind (M5's 1-D 4
     * s4), read from {@code raw} and reduced by clpool's rule in the lanes ({@link VecPlaneMax#pooledRow}:
     * exact, so no fix-up and no scan, but for NaN results where the Vector API ran its fallback).
     */
    private void runVector(ByteBuffer raw, ByteBuffer rawOut, FloatBuffer src, FloatBuffer dst, int from, int to, Scratch s) {
        int slack = VecPlaneMax.slack(p.w.stride(), p.maxShift);
        int len = p.bandRows * p.pitch + slack;
        float[] acc = s.floats(0, len);
        float[] into = s.floats(2, len);
        float[] out = s.floats(3, p.bandRows * p.w.out() + slack);
        float[] in = s.floats(6, p.stagedFloats() + slack);
        int[] rows = s.ints(0, 1, p.downInts())[0];
        Arrays.fill(acc, 0, len, Float.NEGATIVE_INFINITY);
        int sw = p.w.stride();
        boolean pooled = p.w.window() == sw && (sw == 2 || sw == 4) && p.w.dilation() == 1;
        boolean inside = pooled && p.w.padBegin() == 0 && (long) p.w.out() * sw <= p.w.in() && p.w.out() >= VecPlaneMax.lanes();
        // ResNet's 3×3 s2 stem: each input row's maxima of three columns once, read from the tensor.
        boolean triples = VecPlaneTriples.fits(p);
        // Windows of 2 or 4 columns and 2 rows inside the input: one fused pass reading the tensor.
        boolean straight = inside && p.d.window() == 1 && p.h.window() == 2;
        // One input row per output row (M5's 1-D windows): the rule in lanes, read from the tensor.
        boolean oneRow = inside && p.oneRow();
        // Whether the band's vertical pass loaded a −0 (the fix-up's question, asked as it loads).
        boolean[] minus = new boolean[1];
        PlanePlan.Down down = (r, n, at) -> minus[0] |= VecPlaneMax.down(in, r, n, acc, at, p.w.in());
        PlanePlan.DownBand band = (r, n, step) -> minus[0] |= VecPlaneMax.down(in, r, p.bandRows, n, step, acc, p.pitch,
                p.w.padBegin(), p.w.in());
        p.bands(from, to, (plane, oz, oy0, oy1) -> {
            int n = oy1 - oy0;
            if (triples) {
                int at = p.outputRow(plane, oz, oy0);
                // The staging array and the accumulator, unused by this path, hold rows' maxima.
                if (triples(raw, rawOut, p.rowStarts(plane, oz, oy0, oy1, rows), rows, n, at, in, acc)) {
                    dst.get(at, out, 0, n * p.w.out());
                    exactZeros(src, out, plane, oz, oy0, oy1);
                    dst.put(at, out, 0, n * p.w.out());
                }
                return;
            }
            if (straight) {
                int step = p.rowStarts(plane, oz, oy0, oy1, rows);
                int at = p.outputRow(plane, oz, oy0);
                int outs = n * p.w.out();
                if (VecPlaneMax.pooled(raw, rows, p.bandRows, n, step, p.w.out(), sw, rawOut, at)) {
                    // Rare (a NaN, or a zero result beside a −0): the band back from the output for the fix-up.
                    dst.get(at, out, 0, outs);
                    exactZeros(src, out, plane, oz, oy0, oy1);
                    dst.put(at, out, 0, outs);
                }
                return;
            }
            if (oneRow) {
                boolean nan = false;
                for (int oy = oy0; oy < oy1; oy++) {
                    nan |= VecPlaneMax.pooledRow(raw, p.oneRowInput(plane, oz, oy), p.w.out(), sw, out, (oy - oy0) * p.w.out());
                }
                // The rule in lanes: exact, but for NaN payloads where the shuffles ran in the Vector API's fallback.
                if (nan) {
                    exactZeros(src, out, plane, oz, oy0, oy1);
                }
                dst.put(p.outputRow(plane, oz, oy0), out, 0, n * p.w.out());
                return;
            }
            minus[0] = false;
            if (p.oneRow()) {
                p.copyRows(src, plane, oz, oy0, oy1, acc);
            } else {
                p.down(src, plane, oz, oy0, oy1, in, rows, down, band);
            }
            float[] full = pooled ? acc : VecPlaneMax.across(acc, n * p.pitch, p.w.window(), p.w.dilation(), into);
            int flags = VecPlaneMax.keep(full, p.pitch, n, p.w.out(), sw, pooled, out);
            // One-row windows copied their rows (no vertical pass): the band's accumulator, padding −∞, is scanned.
            boolean fix = (flags & VecPlaneMax.NAN) != 0 || (flags & VecPlaneMax.ZERO) != 0
                    && (p.oneRow() ? VecPlaneMax.minusZeroOrNaN(acc, n * p.pitch) : minus[0]);
            if (fix) {
                exactZeros(src, out, plane, oz, oy0, oy1);
            }
            dst.put(p.outputRow(plane, oz, oy0), out, 0, n * p.w.out());
        });
    }

    /**
     * A band of {@link VecPlaneTriples#fits} windows: band row r's {@code rows[bandRows + r]} input
     * rows from float {@code rows[r]}, {@code step} apart, into the output's bytes from float
     * {@code at}; a row whose first input row is the row before's last reads that row's maxima from
     * {@code prev} ({@code mid} holds a row's middle input row's). Returns whether the fix-up must run (a NaN result, or a zero one and a −0 loaded).
     */
    private boolean triples(ByteBuffer raw, ByteBuffer rawOut, int step, int[] rows, int n, int at, float[] prev,
                            float[] mid) {
        int ow = p.w.out();
        int flags = 0;
        for (int r = 0; r < n; r++) {
            int a = rows[r];
            int last = rows[p.bandRows + r] - 1;
            boolean shared = r > 0 && last > 0 && a == rows[r - 1] + (rows[p.bandRows + r - 1] - 1) * step;
            flags |= VecPlaneTriples.row(raw, a, a + Math.min(1, last) * step, a + last * step, shared, p.w.padBegin(),
                    ow, prev, mid, rawOut, at + r * ow);
        }
        return (flags & VecPlaneTriples.NAN) != 0
                || (flags & (VecPlaneTriples.ZERO | VecPlaneTriples.MINUS)) == (VecPlaneTriples.ZERO | VecPlaneTriples.MINUS);
    }

    /** One band; {@code acc} and {@code tap} hold −∞ in every padding column. */
    private void band(FloatBuffer src, FloatBuffer dst, int plane, int oz, int oy0, int oy1, float[] acc, float[] tap,
                      Scratch s) {
        int rows = oy1 - oy0;
        int n = rows * p.pitch;
        boolean first = true;
        for (int jz = p.d.firstTap(oz); jz < p.d.endTap(oz); jz++) {
            for (int jy = 0; jy < p.h.window(); jy++) {
                if (!p.rowTapUsed(jy, oy0, oy1)) {
                    continue;
                }
                if (first) {
                    p.stage(src, plane, oz, jz, jy, oy0, oy1, acc, Float.NEGATIVE_INFINITY);
                    first = false;
                    continue;
                }
                p.stage(src, plane, oz, jz, jy, oy0, oy1, tap, Float.NEGATIVE_INFINITY);
                for (int i = 0; i < n; i++) {
                    acc[i] = Math.max(acc[i], tap[i]);
                }
            }
        }
        float[] full = across(acc, rows, s);
        int outs = rows * p.w.out();
        float[] out = s.floats(3, outs);
        if (p.keepFlaggingZeros(full, out, rows)) {
            fix(src, out, plane, oz, oy0, oy1, s);
        }
        dst.put(p.outputRow(plane, oz, oy0), out, 0, outs);
    }

    /** Makes the band's zero and NaN results exact, if the band's input holds a −0 or a NaN. */
    private void fix(FloatBuffer src, float[] out, int plane, int oz, int oy0, int oy1, Scratch s) {
        if (risky(src, plane, oz, oy0, oy1, s)) {
            exactZeros(src, out, plane, oz, oy0, oy1);
        }
    }

    /** Recomputes the band's zero and NaN results with the exact rule. */
    private void exactZeros(FloatBuffer src, float[] out, int plane, int oz, int oy0, int oy1) {
        for (int i = 0; i < out.length && i < (oy1 - oy0) * p.w.out(); i++) {
            float m = out[i];
            if (!(m > 0 || m < 0)) {
                out[i] = exact(src, plane, oz, oy0 + i / p.w.out(), i % p.w.out());
            }
        }
    }

    /**
     * The horizontal pass: the window's maximum at every column position of the band's rows, by
     * doubling: the maxima of windows of q taps at every position give those of 2q taps with one
     * shifted fold, and a window of kw taps is the maximum of two overlapping windows of the largest
     * such q (max is idempotent, so the overlap changes no value). ⌈log2 kw⌉ folds instead of
     * kw − 1: two for the common 4-wide window, one pass over the band fewer.
     */
    private float[] across(float[] acc, int rows, Scratch s) {
        int len = rows * p.pitch;
        return windows(acc, len, p.w.window(), p.w.dilation(), s.floats(2, len), s.floats(5, len));
    }

    /**
     * The maximum of {@code k} elements {@code step} apart at every position of {@code from[0, len)}
     * where they all lie: {@code into[i]} for {@code i < len - (k-1)*step}. By doubling (windows of q
     * give windows of 2q in one fold; k is two overlapping windows of the largest q). Returns the
     * array holding the result: {@code from} itself when k is 1, else {@code into}.
     */
    static float[] windows(float[] from, int len, int k, int step, float[] into, float[] tmp) {
        if (k == 1) {
            return from;
        }
        float[] cur = from;
        int q = 1;
        while (2 * q <= k) {
            fold(cur, into, tmp, q * step, len - (2 * q - 1) * step);
            cur = into;
            q *= 2;
        }
        if (q < k) {
            fold(cur, into, tmp, (k - q) * step, len - (k - 1) * step);
        }
        return into;
    }

    /** {@code into[i] = max(from[i], from[i + shift])} for {@code i < n}, through a copy into {@code tmp}. */
    private static void fold(float[] from, float[] into, float[] tmp, int shift, int n) {
        System.arraycopy(from, shift, tmp, 0, n);
        for (int i = 0; i < n; i++) {
            into[i] = Math.max(from[i], tmp[i]);
        }
    }

    /** Whether the input rows the band reads hold a −0 or a NaN. */
    private boolean risky(FloatBuffer src, int plane, int oz, int oy0, int oy1, Scratch s) {
        int y0 = Integer.MAX_VALUE;
        int y1 = 0;
        for (int oy = oy0; oy < oy1; oy++) {
            if (p.h.endTap(oy) > p.h.firstTap(oy)) {
                y0 = Math.min(y0, (int) p.h.start(oy) + p.h.firstTap(oy) * p.h.dilation());
                y1 = Math.max(y1, (int) p.h.start(oy) + (p.h.endTap(oy) - 1) * p.h.dilation() + 1);
            }
        }
        int len = (y1 - y0) * p.w.in();
        float[] buf = s.floats(4, len);
        for (int jz = p.d.firstTap(oz); jz < p.d.endTap(oz); jz++) {
            int z = (int) p.d.start(oz) + jz * p.d.dilation();
            src.get(p.inputRow(plane, z, y0), buf, 0, len);
            if (MaxExact.holdsNegativeZeroOrNaN(buf, len)) {
                return true;
            }
        }
        return false;
    }

    /** clpool's max over one window in scan order: the reference rule, element by element. */
    private float exact(FloatBuffer src, int plane, int oz, int oy, int ox) {
        float m = Float.NEGATIVE_INFINITY;
        for (int jz = p.d.firstTap(oz); jz < p.d.endTap(oz); jz++) {
            int z = (int) p.d.start(oz) + jz * p.d.dilation();
            for (int jy = p.h.firstTap(oy); jy < p.h.endTap(oy); jy++) {
                int y = (int) p.h.start(oy) + jy * p.h.dilation();
                for (int jx = p.w.firstTap(ox); jx < p.w.endTap(ox); jx++) {
                    m = CpuBackend.max(m, src.get(p.element(plane, z, y, (int) p.w.start(ox) + jx * p.w.dilation())));
                }
            }
        }
        return m;
    }
}
