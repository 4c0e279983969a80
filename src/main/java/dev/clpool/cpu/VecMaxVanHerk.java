package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Max windows wider than {@link VecMaxDoubling} takes (SPP's 9×9 and 13×13), stride and dilation
 * 1 (strided windows ran slower here than the scalar path and stay there), in Vector API lanes by
 * van Herk and Gil–Werman's prefix and suffix maxima, exact with no fix-up (loaded only where
 * {@link VectorSupport#ENABLED}; {@link MaxVanHerk} chooses it).
 *
 * <p>Along one axis, the input's positions (padding is never staged) are cut into blocks of
 * {@code k} from the first (the row's first column; the band's first row); suffixes are formed in
 * descending order, {@code S[q] = rule(x[q], S[q + 1])} (the last block ending at the last
 * position), prefixes in ascending order, {@code P[q] = rule(P[q - 1], x[q])}. A window
 * {@code [lo, hi]} clamped to the input (at most {@code k} positions) that spans two blocks is
 * {@code rule(S[lo], P[hi])}; one within a block starts at the block's start (an interior window,
 * or one clamped at the first position: {@code P[hi]}) or ends at the last position (clamped
 * there: {@code S[lo]}). Every step combines an earlier part of the scan with the part that
 * follows it. Each input row is reduced across, then the rows' results down, the same way.
 *
 * <p>The reduction is clpool's rule (a later value replaces the maximum only if strictly greater;
 * the first NaN wins), which picks the first greatest value of a scan (NaN above everything,
 * zeros of either sign equal) and so gives the same bits however the scan is cut into consecutive
 * parts (each input row's columns, then the rows in order); the two parts here are consecutive
 * and disjoint. So the result is the reference's bit for bit, with no zero-or-NaN fix-up: {@link MaxExact} redid most windows of data with NaNs or signed
 * zeros one value at a time, 150–290× the time of random data (docs/performance.md, branch
 * {@code nanvh}). Where a staged row holds no NaN the rule is two lane operations
 * ({@link VecMaxWindows#greater}), else its five ({@link VecMaxWindows#rule}); down the rows, five where any
 * row of the band held one.
 *
 * <p>Everything is in the tensor's own layout (channels innermost) and every loop is flat over
 * consecutive floats, as in {@link VecMaxDoubling}; each loop is its own small method, the NaN and
 * the NaN-free loop written out separately (JDK 17's C2 boxes the vectors otherwise). Needs the
 * channels to be a multiple of the lanes.
 */
final class VecMaxVanHerk {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VecMaxVanHerk() {
    }

    /** The first input row (clamped to the input) that output rows from {@code oy0} read. */
    static int firstRow(WindowPlan p, int oy0) {
        return p.rowStart[oy0] + p.rowFirst[oy0];
    }

    /** Input rows (clamped to the input) that output rows {@code [oy0, oy1)} read. */
    static int rows(WindowPlan p, int oy0, int oy1) {
        return p.rowStart[oy1 - 1] + p.rowEnd[oy1 - 1] - firstRow(p, oy0);
    }

    /**
     * Output rows {@code [oy0, oy1)} of batch item n from {@code src} into {@code dst} (whose
     * buffer is {@code out}). {@code a} and {@code sa} hold W·C floats, {@code h} and {@code v}
     * {@link #rows} times OW·C.
     */
    static void band(FloatBuffer src, ByteBuffer out, WindowPlan p, int n, int oy0, int oy1, float[] a, float[] sa,
                     float[] h, float[] v) {
        int line = p.out.w() * p.c;
        int r0 = firstRow(p, oy0);
        int rows = rows(p, oy0, oy1);
        boolean nan = false;
        for (int u = 0; u < rows; u++) {
            nan |= across(src, p, n, r0 + u, a, sa, h, u * line);
        }
        down(h, v, out, p, n, oy0, oy1, r0, rows, nan);
    }

    /**
     * Input row (n, y) staged into {@code a}, its suffix maxima into {@code sa}, its prefix maxima
     * in place, and each output column's window into {@code h} from float {@code at}. Returns
     * whether the row holds a NaN.
     */
    private static boolean across(FloatBuffer src, WindowPlan p, int n, int y, float[] a, float[] sa, float[] h,
                                  int at) {
        int c = p.c;
        int all = p.in.w() * c;
        int k = p.cols.window();
        src.get(Math.toIntExact(p.in.offset(n, y, 0, 0)), a, 0, all);
        boolean nan = VecMaxDoubling.holdsNaN(a, all);
        if (k > 1) {
            blocks(a, sa, all, k * c, c, nan);
        }
        for (int ox = 0; ox < p.out.w(); ox++) {
            int lo = p.colStart[ox] + p.colFirst[ox];
            int hi = p.colStart[ox] + p.colEnd[ox] - 1;
            int o = at + ox * c;
            if (lo / k != hi / k) {
                VecMaxWindows.pair(sa, lo * c, a, hi * c, h, o, c, nan);
            } else if (lo % k == 0) {
                System.arraycopy(a, hi * c, h, o, c);
            } else {
                System.arraycopy(sa, lo * c, h, o, c);
            }
        }
        return nan;
    }

    /**
     * Down the rows' results in {@code h} (input rows from {@code r0}): suffixes into {@code v},
     * prefixes in place, each output row into {@code out}.
     */
    private static void down(float[] h, float[] v, ByteBuffer out, WindowPlan p, int n, int oy0, int oy1, int r0,
                             int rows, boolean nan) {
        int line = p.out.w() * p.c;
        int k = p.rows.window();
        if (k > 1) {
            blocks(h, v, rows * line, k * line, line, nan);
        }
        for (int oy = oy0; oy < oy1; oy++) {
            int lo = p.rowStart[oy] + p.rowFirst[oy] - r0;
            int hi = p.rowStart[oy] + p.rowEnd[oy] - 1 - r0;
            int o = Math.toIntExact(p.out.offset(n, oy, 0, 0) * Float.BYTES);
            if (lo / k != hi / k) {
                VecMaxWindows.pairOut(v, lo * line, h, hi * line, out, o, line, nan);
            } else if (lo % k == 0) {
                VecMaxWindows.pairOut(h, hi * line, h, hi * line, out, o, line, nan);
            } else {
                VecMaxWindows.pairOut(v, lo * line, v, lo * line, out, o, line, nan);
            }
        }
    }

    /**
     * Suffix maxima of {@code x[0, all)} into {@code s} and prefix maxima in place, within blocks
     * of {@code block} floats, positions {@code step} floats apart.
     */
    private static void blocks(float[] x, float[] s, int all, int block, int step, boolean nan) {
        for (int b = 0; b < all; b += block) {
            int e = Math.min(all, b + block);
            System.arraycopy(x, e - step, s, e - step, step);
            if (nan) {
                suffixRule(x, s, b, e - step, step);
                prefixRule(x, b + step, e, step);
            } else {
                suffixGreater(x, s, b, e - step, step);
                prefixGreater(x, b + step, e, step);
            }
        }
    }

    /** {@code s[j] = rule(x[j], s[j + step])} for {@code j} in {@code [b, e)}, descending. */
    private static void suffixRule(float[] x, float[] s, int b, int e, int step) {
        int lanes = S.length();
        for (int j = e - lanes; j >= b; j -= lanes) {
            VecMaxWindows.rule(FloatVector.fromArray(S, x, j), FloatVector.fromArray(S, s, j + step)).intoArray(s, j);
        }
    }

    /** {@link #suffixRule} where no value is NaN. */
    private static void suffixGreater(float[] x, float[] s, int b, int e, int step) {
        int lanes = S.length();
        for (int j = e - lanes; j >= b; j -= lanes) {
            VecMaxWindows.greater(FloatVector.fromArray(S, x, j), FloatVector.fromArray(S, s, j + step)).intoArray(s, j);
        }
    }

    /** {@code x[j] = rule(x[j - step], x[j])} for {@code j} in {@code [b, e)}, ascending. */
    private static void prefixRule(float[] x, int b, int e, int step) {
        int lanes = S.length();
        for (int j = b; j < e; j += lanes) {
            VecMaxWindows.rule(FloatVector.fromArray(S, x, j - step), FloatVector.fromArray(S, x, j)).intoArray(x, j);
        }
    }

    /** {@link #prefixRule} where no value is NaN. */
    private static void prefixGreater(float[] x, int b, int e, int step) {
        int lanes = S.length();
        for (int j = b; j < e; j += lanes) {
            VecMaxWindows.greater(FloatVector.fromArray(S, x, j - step), FloatVector.fromArray(S, x, j)).intoArray(x, j);
        }
    }
}
