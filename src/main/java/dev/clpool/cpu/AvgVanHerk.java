package dev.clpool.cpu;

import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Windowed average pooling at a cost per output that does not grow with the window: the
 * prefix–suffix scheme of {@link MaxVanHerk} with sums, across each input row and down the rows.
 * A window that starts inside a block is the block's suffix sum from its first tap plus the next
 * block's prefix sum to its last tap (disjoint); one that starts at a block's first tap is that
 * block's prefix sum alone. Padding contributes zeros (exact additions).
 *
 * <p>Sums are plain float, each with the running error bound of {@link AvgWindows} beside it (the
 * sum of the magnitudes of every partial sum formed on the way, carried through the prefix and
 * suffix chains, an addition of zero counting nothing: {@link #EXACT_BELOW}), and every result is certified against the same tolerance; a result that fails
 * (heavy cancellation, an infinity or NaN, float overflow) is recomputed in double in scan order by
 * {@link AvgWindows#exactAverage}. Chosen by the cost model of {@link MaxVanHerk#pays}.
 */
final class AvgVanHerk {
    /**
     * An addition {@code fl(a + x)} errs by at most u·|result| and also by at most |x| (a is a
     * float no farther from a + x than x), so a bound term is min(|result|, |x|/u): zero for the
     * additions of padding (and of zeros in the data), which would otherwise inflate the bounds of
     * border windows until they fail and go to the double path.
     */
    private static final float EXACT_BELOW = 0x1p24f;
    /** Floats of horizontal sums and bounds (and their suffixes) one band may hold. */
    private static final int BAND_FLOATS = 1 << 20;
    /** Floats of one staged input row segment (bounds the column block). */
    private static final int SEGMENT_FLOATS = 1 << 14;

    private final PoolGeometry g;
    private final WindowPlan p;
    private final AvgWindows exact;
    private final int kw;
    private final int kh;
    private final int sh;
    private final int blockOut;
    /** u·(1 + γ(r))/TOLERANCE: the bound per unit of B and of 1/divisor, r covering every addition into B. */
    private final double perB;

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
        long additions = 4L * kh * kw + 4L * kh + 8;
        perB = 0x1p-24 * (1 + CompensatedSum.gamma(additions)) / AvgWindows.TOLERANCE;
    }

    long workPerRow() {
        return (long) p.out.w() * p.c * (6L * p.sw * sh + 6L * sh);
    }

    /** Output rows {@code [from, to)} of all {@code N*OH}, each row index being {@code n*OH + oy}. */
    void run(FloatBuffer src, FloatBuffer dst, int from, int to, Scratch s) {
        p.bands(from, to, blockOut, BAND_FLOATS, 4, (n, oy0, oy1, b0, b1) -> band(src, dst, n, oy0, oy1, b0, b1, s));
    }

    /** Output rows {@code [oy0, oy1)} of batch item n, columns {@code [b0, b1)}. */
    private void band(FloatBuffer src, FloatBuffer dst, int n, int oy0, int oy1, int b0, int b1, Scratch s) {
        int c = p.c;
        int bw = b1 - b0;
        int rows = (oy1 - 1 - oy0) * sh + p.rows.effectiveWindow();
        int yb = p.rowStart[oy0];
        int positions = (bw - 1) * p.sw + p.cols.effectiveWindow();
        Chains across = new Chains(s.ring(2, positions, c), s.ring(3, positions, c), s.ring(6, positions, c),
                s.ring(7, positions, c));
        Chains down = new Chains(s.ring(4, rows * bw, c), s.ring(5, rows * bw, c), s.ring(8, rows * bw, c),
                s.ring(9, rows * bw, c));
        for (int u = 0; u < rows; u++) {
            int y = yb + u;
            if (y < 0 || y >= p.in.h()) {
                for (int o = 0; o < bw; o++) {
                    Arrays.fill(down.sum[u * bw + o], 0, c, 0f);
                    Arrays.fill(down.bound[u * bw + o], 0, c, 0f);
                }
            } else {
                across(src, n, y, b0, bw, positions, across, down, u * bw);
            }
        }
        for (int o = 0; o < bw; o++) {
            down.run(rows, bw, o, kh, p.dh, c);
        }
        int width = bw * c;
        float[] acc = s.floats(2, width);
        float[] t = s.floats(3, c);
        float[] b = s.floats(4, c);
        for (int oy = oy0; oy < oy1; oy++) {
            int u0 = (oy - oy0) * sh;
            int u1 = u0 + (kh - 1) * p.dh;
            boolean aligned = (u0 / p.dh) % kh == 0;
            for (int o = 0; o < bw; o++) {
                down.window(aligned, u0 * bw + o, u1 * bw + o, t, b, c);
                int ox = b0 + o;
                float d = (float) exact.divisor(oy, ox);
                float k = (float) (perB / d);
                float worst = Float.NEGATIVE_INFINITY;
                for (int ch = 0; ch < c; ch++) {
                    float v = t[ch] / d;
                    t[ch] = v;
                    worst = Math.max(worst, b[ch] * k - Math.max(1f, Math.abs(v)));
                }
                if (!(worst <= 0)) {
                    for (int ch = 0; ch < c; ch++) {
                        float size = Math.abs(t[ch]);
                        if (!(b[ch] * k <= Math.max(1f, size) && size <= Float.MAX_VALUE)) {
                            t[ch] = exact.exactAverage(src, n, oy, ox, ch);
                        }
                    }
                }
                System.arraycopy(t, 0, acc, o * c, c);
            }
            dst.put(Math.toIntExact(p.out.offset(n, oy, b0, 0)), acc, 0, width);
        }
    }

    /** Across input row (n, y): the block columns' row sums and bounds into {@code down} at {@code at..at+bw-1}. */
    private void across(FloatBuffer src, int n, int y, int b0, int bw, int positions, Chains a, Chains down, int at) {
        int c = p.c;
        int xb = p.colStart[b0];
        int w = p.in.w();
        for (int q = 0; q < positions; q++) {
            int x = xb + q;
            Arrays.fill(a.bound[q], 0, c, 0f);
            if (x < 0 || x >= w) {
                Arrays.fill(a.sum[q], 0, c, 0f);
            } else {
                src.get(Math.toIntExact(p.in.offset(n, y, x, 0)), a.sum[q], 0, c);
            }
        }
        a.run(positions, 1, 0, kw, p.dw, c);
        for (int o = 0; o < bw; o++) {
            int q0 = o * p.sw;
            a.window((q0 / p.dw) % kw == 0, q0, q0 + (kw - 1) * p.dw, down.sum[at + o], down.bound[at + o], c);
        }
    }

    /**
     * Prefix sums (in place over the staged sums and bounds) and suffix sums along one axis, each
     * with its running bound; entry {@code i*stride + o} is position i of lane o.
     */
    private record Chains(float[][] sum, float[][] bound, float[][] suffix, float[][] suffixBound) {
        /** Forms the chains over positions {@code 0..count-1} of lane o, in blocks of k taps of step d. */
        void run(int count, int stride, int o, int k, int d, int c) {
            for (int i = count - 1; i >= 0; i--) {
                float[] v = sum[i * stride + o];
                float[] vb = bound[i * stride + o];
                float[] to = suffix[i * stride + o];
                float[] tb = suffixBound[i * stride + o];
                if ((i / d) % k == k - 1 || i + d >= count) {
                    System.arraycopy(v, 0, to, 0, c);
                    System.arraycopy(vb, 0, tb, 0, c);
                } else {
                    float[] next = suffix[(i + d) * stride + o];
                    float[] nb = suffixBound[(i + d) * stride + o];
                    for (int ch = 0; ch < c; ch++) {
                        float x = v[ch];
                        float t = next[ch] + x;
                        to[ch] = t;
                        tb[ch] = nb[ch] + vb[ch] + Math.min(Math.abs(t), Math.abs(x) * EXACT_BELOW);
                    }
                }
            }
            for (int i = 0; i < count; i++) {
                float[] v = sum[i * stride + o];
                float[] vb = bound[i * stride + o];
                if ((i / d) % k != 0) {
                    float[] before = sum[(i - d) * stride + o];
                    float[] bb = bound[(i - d) * stride + o];
                    for (int ch = 0; ch < c; ch++) {
                        float x = v[ch];
                        float t = before[ch] + x;
                        v[ch] = t;
                        vb[ch] = bb[ch] + vb[ch] + Math.min(Math.abs(t), Math.abs(x) * EXACT_BELOW);
                    }
                }
            }
        }

        /**
         * The window from entry {@code first} to entry {@code last}: the prefix at {@code last}
         * alone if the window starts a block, else the suffix at {@code first} plus it.
         */
        void window(boolean aligned, int first, int last, float[] t, float[] b, int c) {
            float[] p = sum[last];
            float[] pb = bound[last];
            if (aligned) {
                System.arraycopy(p, 0, t, 0, c);
                System.arraycopy(pb, 0, b, 0, c);
                return;
            }
            float[] q = suffix[first];
            float[] qb = suffixBound[first];
            for (int ch = 0; ch < c; ch++) {
                float x = p[ch];
                float s = q[ch] + x;
                t[ch] = s;
                b[ch] = qb[ch] + pb[ch] + Math.min(Math.abs(s), Math.abs(x) * EXACT_BELOW);
            }
        }
    }
}
