package dev.clpool.cpu;

import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Windowed average pooling at a cost per output that does not grow with the window: the sums
 * counterpart of {@link MaxVanHerk}, prefix and suffix sums within blocks of {@code k} taps, once
 * across each input row and once down the rows. A window that starts a block is that block's
 * suffix sum; any other spans two blocks and is the suffix sum of the first from its first tap
 * plus the prefix sum of the second up to its last tap. Padding (and ceil-mode overhang) adds
 * zero and the divisor is {@link PoolGeometry#divisor}, as on every path.
 *
 * <p>Blocks are anchored at the first window's first tap of the whole tensor (tap 0 of output 0 on
 * each axis), never at the start of a row band or column block, and a window reads only partial
 * sums that start and end inside it. So every result is summed in the same order whatever range
 * of rows a task or band starts at, and the CPU path repeats its averages bit for bit however the
 * work is split.
 *
 * <p>Each result is certified as in {@link AvgWindows} (Wilkinson's running bound B beside every
 * partial sum, u·(1 + γ(r))·B ≤ {@link AvgWindows#TOLERANCE}·max(1, |avg|)·divisor); each partial
 * sum here holds at most {@code k} taps of an axis and B is formed by at most six additions per
 * tap. The element-wise worst certificate is kept per band and read once; if any result failed
 * (heavy cancellation, an infinity or NaN, float overflow) the band's outputs are formed again,
 * one by one, and those that fail are recomputed in double ({@link AvgWindows#exactAverage}).
 */
final class AvgVanHerk {
    /** Floats of horizontal results and their bounds one band may hold. */
    private static final int BAND_FLOATS = 1 << 20;
    /** Floats of one staged input row segment (bounds the column block). */
    private static final int SEGMENT_FLOATS = 1 << 15;
    /** Additions per tap that form a result's bound B (see {@link AvgWindows#boundPerB}). */
    private static final int BOUND_ADDITIONS_PER_TAP = 6;

    private final PoolGeometry g;
    private final WindowPlan p;
    private final AvgWindows exact;
    private final int kw;
    private final int kh;
    private final int sh;
    private final int blockOut;

    AvgVanHerk(PoolGeometry g) {
        if (g.mode() != PoolMode.AVG) {
            throw new IllegalArgumentException("avg van Herk runs avg, not " + g.mode().word());
        }
        this.g = g;
        p = new WindowPlan(g);
        exact = new AvgWindows(g);
        kw = p.cols.window();
        kh = p.rows.window();
        sh = p.rows.stride();
        blockOut = p.blockOut(SEGMENT_FLOATS);
    }

    /** The cost model of {@link MaxVanHerk#pays}, for averages (which cost twice as much on both paths). */
    static boolean pays(PoolGeometry g) {
        return g.mode() == PoolMode.AVG && WindowPlan.prefixSuffixPays(g);
    }

    long workPerRow() {
        return (long) p.out.w() * p.c * (6L * p.sw * sh + 6L * sh);
    }

    /** Output rows {@code [from, to)} of all {@code N*OH}, each row index being {@code n*OH + oy}. */
    void run(FloatBuffer src, FloatBuffer dst, int from, int to, Scratch s) {
        p.bands(from, to, blockOut, BAND_FLOATS, 2, (n, oy0, oy1, b0, b1) -> band(src, dst, n, oy0, oy1, b0, b1, s));
    }

    /**
     * Whether position {@code q} (counted from tap 0 of output 0, so anchored to the tensor, not to
     * the band) is the first tap of its block, along an axis of {@code k} taps and dilation {@code d}.
     */
    private static boolean startsBlock(int q, int d, int k) {
        return (q / d) % k == 0;
    }

    /** Whether position {@code q} (anchored as in {@link #startsBlock}) is the last tap of its block. */
    private static boolean endsBlock(int q, int d, int k) {
        return (q / d) % k == k - 1;
    }

    /**
     * Prefix and suffix sums, with their bounds, along one axis of {@code count} positions
     * {@code d} apart: {@code xs}/{@code xb} hold the values and their bounds and become the
     * prefix sums and bounds in place; {@code ss}/{@code sb} receive the suffix sums and bounds.
     * {@code anchor} is the first position's place counted from the tensor's tap 0. Partial sums
     * cut off by either end of the range are formed but never read (a window's partial sums start
     * and end inside it, and so inside the range).
     */
    private static void prefixSuffix(float[][] xs, float[][] xb, float[][] ss, float[][] sb, int count, int d, int k,
                                     int anchor, int c) {
        for (int q = count - 1; q >= 0; q--) {
            float[] v = xs[q];
            float[] vb = xb[q];
            float[] to = ss[q];
            float[] tb = sb[q];
            if (endsBlock(anchor + q, d, k) || q + d >= count) {
                System.arraycopy(v, 0, to, 0, c);
                System.arraycopy(vb, 0, tb, 0, c);
            } else {
                float[] next = ss[q + d];
                float[] nb = sb[q + d];
                for (int ch = 0; ch < c; ch++) {
                    float t = next[ch] + v[ch];
                    to[ch] = t;
                    tb[ch] = nb[ch] + vb[ch] + Math.abs(t);
                }
            }
        }
        for (int q = d; q < count; q++) {
            if (!startsBlock(anchor + q, d, k)) {
                float[] v = xs[q];
                float[] vb = xb[q];
                float[] before = xs[q - d];
                float[] bb = xb[q - d];
                for (int ch = 0; ch < c; ch++) {
                    float t = before[ch] + v[ch];
                    v[ch] = t;
                    vb[ch] = bb[ch] + vb[ch] + Math.abs(t);
                }
            }
        }
    }

    /**
     * The window sum (and bound) that starts at position {@code q0} and ends at {@code q1}, into
     * {@code to}/{@code tb}: the suffix sum alone if {@code q0} starts a block, else suffix plus
     * prefix.
     */
    private static void window(float[][] ps, float[][] pb, float[][] ss, float[][] sb, int q0, int q1, boolean starts,
                               float[] to, float[] tb, int c) {
        float[] first = ss[q0];
        float[] firstB = sb[q0];
        if (starts) {
            System.arraycopy(first, 0, to, 0, c);
            System.arraycopy(firstB, 0, tb, 0, c);
            return;
        }
        float[] last = ps[q1];
        float[] lastB = pb[q1];
        for (int ch = 0; ch < c; ch++) {
            float t = first[ch] + last[ch];
            to[ch] = t;
            tb[ch] = firstB[ch] + lastB[ch] + Math.abs(t);
        }
    }

    /** Output rows {@code [oy0, oy1)} of batch item n, columns {@code [b0, b1)}. */
    private void band(FloatBuffer src, FloatBuffer dst, int n, int oy0, int oy1, int b0, int b1, Scratch s) {
        int c = p.c;
        int bw = b1 - b0;
        int rows = (oy1 - 1 - oy0) * sh + p.rows.effectiveWindow();
        int yb = p.rowStart[oy0];
        int rowAnchor = yb - p.rowStart[0];
        int positions = (bw - 1) * p.sw + p.cols.effectiveWindow();
        float[][] xs = s.ring(2, positions, c);
        float[][] xb = s.ring(3, positions, c);
        float[][] ss = s.ring(6, positions, c);
        float[][] sb = s.ring(7, positions, c);
        float[][] h = s.ring(4, rows * bw, c);
        float[][] hb = s.ring(5, rows * bw, c);
        for (int u = 0; u < rows; u++) {
            int y = yb + u;
            if (y < 0 || y >= p.in.h()) {
                for (int o = 0; o < bw; o++) {
                    Arrays.fill(h[u * bw + o], 0, c, 0f);
                    Arrays.fill(hb[u * bw + o], 0, c, 0f);
                }
            } else {
                across(src, n, y, b0, bw, positions, xs, xb, ss, sb, h, hb, u * bw);
            }
        }
        // Down the rows, one block column at a time (its suffix sums in small arrays that stay in
        // cache, where a band-sized second pair of arrays made the pass memory-bound): the same
        // prefix-suffix pass, its positions being the band's rows; then that column's outputs.
        float[][] ph = new float[rows][];
        float[][] phb = new float[rows][];
        float[][] vs = s.ring(6, rows, c);
        float[][] vb = s.ring(7, rows, c);
        float[][] out = s.ring(8, oy1 - oy0, bw * c);
        for (int o = 0; o < bw; o++) {
            for (int u = 0; u < rows; u++) {
                ph[u] = h[u * bw + o];
                phb[u] = hb[u * bw + o];
            }
            prefixSuffix(ph, phb, vs, vb, rows, p.dh, kh, rowAnchor, c);
            column(src, n, oy0, oy1, b0 + o, o * c, ph, phb, vs, vb, out, s);
        }
        for (int oy = oy0; oy < oy1; oy++) {
            dst.put(Math.toIntExact(p.out.offset(n, oy, b0, 0)), out[oy - oy0], 0, bw * c);
        }
    }

    /**
     * Forms and divides output column {@code ox}'s results for output rows {@code [oy0, oy1)} into
     * {@code out[oy - oy0]} at {@code at}, keeping the element-wise worst certificate; if any failed,
     * forms them again and sends each failing result to the double path. Each result is formed in
     * arrays of its own and then copied (a loop at an offset into the row array does not vectorise).
     */
    private void column(FloatBuffer src, int n, int oy0, int oy1, int ox, int at, float[][] ph, float[][] phb,
                        float[][] vs, float[][] vb, float[][] out, Scratch s) {
        int c = p.c;
        float[] worst = s.floats(4, c);
        float[] sum = s.floats(5, c);
        float[] sumB = s.floats(6, c);
        Arrays.fill(worst, 0, c, Float.NEGATIVE_INFINITY);
        for (int pass = 0; pass < 2; pass++) {
            for (int oy = oy0; oy < oy1; oy++) {
                int u0 = (oy - oy0) * sh;
                boolean starts = startsBlock(p.rowStart[oy] - p.rowStart[0], p.dh, kh);
                window(ph, phb, vs, vb, u0, u0 + (kh - 1) * p.dh, starts, sum, sumB, c);
                divide(sum, sumB, worst, oy, ox);
                if (pass == 1) {
                    recheck(src, sum, sumB, n, oy, ox);
                }
                System.arraycopy(sum, 0, out[oy - oy0], at, c);
            }
            boolean allPass = true;
            for (int ch = 0; ch < c; ch++) {
                allPass &= worst[ch] <= 0;
            }
            if (allPass) {
                return;
            }
        }
    }

    /**
     * Divides output (oy, ox)'s channel sums in place and folds their certificates
     * (bound·k − max(1, |avg|), > 0 or NaN where the bound fails) into {@code worst}.
     */
    private void divide(float[] sum, float[] bound, float[] worst, int oy, int ox) {
        double divisor = g.divisor(oy, ox);
        float d = (float) divisor;
        float k = exact.boundPerB(oy, ox, divisor, BOUND_ADDITIONS_PER_TAP);
        for (int ch = 0; ch < p.c; ch++) {
            float v = sum[ch] / d;
            sum[ch] = v;
            worst[ch] = Math.max(worst[ch], bound[ch] * k - Math.max(1f, Math.abs(v)));
        }
    }

    /** Recomputes in double the averages of output (oy, ox) whose bound fails or that are not finite. */
    private void recheck(FloatBuffer src, float[] avg, float[] bound, int n, int oy, int ox) {
        float k = exact.boundPerB(oy, ox, g.divisor(oy, ox), BOUND_ADDITIONS_PER_TAP);
        for (int ch = 0; ch < p.c; ch++) {
            float size = Math.abs(avg[ch]);
            if (!(bound[ch] * k <= Math.max(1f, size) && size <= Float.MAX_VALUE)) {
                avg[ch] = exact.exactAverage(src, n, oy, ox, ch);
            }
        }
    }

    /**
     * Across input row (n, y): the window sums and bounds of block columns {@code [b0, b0+bw)}
     * into {@code h[at] .. h[at+bw-1]} and {@code hb[...]}, from the row's positions staged into
     * {@code xs} (zero outside the input; bounds zero, the inputs being exact).
     */
    private void across(FloatBuffer src, int n, int y, int b0, int bw, int positions, float[][] xs, float[][] xb,
                        float[][] ss, float[][] sb, float[][] h, float[][] hb, int at) {
        int c = p.c;
        int dw = p.dw;
        int xb0 = p.colStart[b0];
        int w = p.in.w();
        for (int q = 0; q < positions; q++) {
            int x = xb0 + q;
            if (x < 0 || x >= w) {
                Arrays.fill(xs[q], 0, c, 0f);
            } else {
                src.get(Math.toIntExact(p.in.offset(n, y, x, 0)), xs[q], 0, c);
            }
            Arrays.fill(xb[q], 0, c, 0f);
        }
        int anchor = xb0 - p.colStart[0];
        prefixSuffix(xs, xb, ss, sb, positions, dw, kw, anchor, c);
        for (int o = 0; o < bw; o++) {
            int q0 = o * p.sw;
            window(xs, xb, ss, sb, q0, q0 + (kw - 1) * dw, startsBlock(anchor + q0, dw, kw), h[at + o], hb[at + o], c);
        }
    }
}
