package dev.clpool.cpu;

import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Tensor;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Windowed max pooling at a cost per output that does not grow with the window: van Herk and
 * Gil–Werman's prefix–suffix maxima, once across each input row and once down the rows.
 *
 * <p>Along one axis, positions are cut into blocks of {@code k} taps (with dilation {@code d},
 * position {@code q} is tap {@code q/d} of its residue class {@code q mod d}, and blocks are
 * {@code k} consecutive taps of a class). A window of {@code k} taps then spans at most two blocks:
 * its maximum is that of the suffix maximum of the first block from its first tap and the prefix
 * maximum of the next block up to its last tap. Padding (and any ceil-mode overhang) is −∞,
 * which never wins. Every position costs two maxima and every output one, whatever {@code k}.
 *
 * <p>The reduction is {@link Math#max(float, float)}, whose result is the same value in any order,
 * made exact by {@link MaxExact} exactly as in {@link MaxWindows}. Where the JVM runs the Vector
 * API (stride and dilation 1, channels whole vectors) the same scheme runs in lanes with clpool's
 * rule instead, exact with no fix-up ({@link VecMaxVanHerk}; {@link VecMaxDoubling} for windows
 * up to 7), so data with NaNs or signed zeros costs about what random data does. Each position's
 * channels are an array of their own, so that every loop has one index expression and C2
 * vectorises it.
 * {@link #pays} is the cost model that chooses between this path and {@link MaxWindows}.
 *
 * <p>Average has the same scheme in {@link AvgVanHerk}, with its blocks anchored to the tensor
 * rather than to the band (a prefix–suffix sum rounds differently depending on where a window
 * falls among the blocks, and the CPU path's averages must repeat bit for bit however the work is
 * split); max needs no anchoring, its result being the same value in any order.
 */
final class MaxVanHerk {
    /** Floats of horizontal results (and their suffix maxima) one band may hold. */
    private static final int BAND_FLOATS = 1 << 20;
    /** Floats of one staged input row segment (bounds the column block). */
    private static final int SEGMENT_FLOATS = 1 << 15;

    private final WindowPlan p;
    private final int kw;
    private final int kh;
    private final int sh;
    private final int blockOut;
    /**
     * Whether {@link VecMaxDoubling} runs this geometry (where the JVM has the Vector API): stride
     * and dilation 1, channels a whole number of vectors, windows of at most
     * {@link #DOUBLING_MAX_WINDOW} on each axis (three lane maxima per output and axis, as here;
     * wider windows take a fourth level and were slower than this class: docs/performance.md,
     * branch {@code spp5}).
     */
    private final boolean vector;
    /** The widest window {@link VecMaxDoubling} runs. */
    static final int DOUBLING_MAX_WINDOW = 7;
    /**
     * Whether {@link VecMaxVanHerk} runs this geometry (where the JVM has the Vector API and
     * {@link VecMaxDoubling} does not): stride and dilation 1, channels a whole number of vectors.
     * Exact in lanes, so no {@link MaxExact} fix-up, whose cost on data with NaNs or signed zeros
     * was up to 290× that of random data. At stride 2 it ran 30% slower than this class on random
     * data (9×9 on 28×28 and 56×56 planes of 512 channels), so strided windows stay here.
     */
    private final boolean lanes;

    MaxVanHerk(PoolGeometry g) {
        if (g.mode() != PoolMode.MAX) {
            throw new IllegalArgumentException("van Herk runs max, not " + g.mode().word());
        }
        p = new WindowPlan(g);
        kw = p.cols.window();
        kh = p.rows.window();
        sh = p.rows.stride();
        blockOut = p.blockOut(SEGMENT_FLOATS);
        vector = VectorSupport.fits(p.c) && VecMaxDoubling.fits(p.c) && p.sw == 1 && sh == 1 && p.dw == 1 && p.dh == 1
                && kw <= DOUBLING_MAX_WINDOW && kh <= DOUBLING_MAX_WINDOW;
        lanes = !vector && VectorSupport.fits(p.c) && VecMaxDoubling.fits(p.c) && p.dw == 1 && p.dh == 1
                && p.sw == 1 && sh == 1
                && (long) LANES_MIN_WINDOWS * kh * p.out.w() * p.c <= LANES_MAX_FLOATS;
    }

    /** The cost model ({@link WindowPlan#prefixSuffixPays}): whether this path beats {@link MaxWindows}. */
    static boolean pays(PoolGeometry g) {
        return g.mode() == PoolMode.MAX && WindowPlan.prefixSuffixPays(g);
    }

    long workPerRow() {
        return (long) p.out.w() * p.c * (3L * p.sw * sh + 3L * sh);
    }

    /** Whether {@link #run(Tensor, Tensor, int, int, Scratch)} runs {@link VecMaxDoubling} (this JVM and geometry). */
    boolean doubles() {
        return VectorSupport.ENABLED && vector;
    }

    /** Whether {@link #run(Tensor, Tensor, int, int, Scratch)} runs {@link VecMaxVanHerk} (this JVM and geometry). */
    boolean inLanes() {
        return VectorSupport.ENABLED && lanes;
    }

    /**
     * Output rows {@code [from, to)} of all {@code N*OH} (row index {@code n*OH + oy}) from float32
     * tensor {@code in} into {@code out}: in Vector API lanes where this JVM runs them, the
     * stride and dilation are 1 and the channels are whole vectors, by doubling
     * ({@link VecMaxDoubling}) for windows up to {@link #DOUBLING_MAX_WINDOW}, else by prefix and
     * suffix maxima ({@link VecMaxVanHerk}); otherwise as
     * {@link #run(FloatBuffer, FloatBuffer, int, int, Scratch)}.
     */
    void run(Tensor in, Tensor out, int from, int to, Scratch s) {
        if (doubles()) {
            doubling(in, out, from, to, s);
        } else if (inLanes()) {
            vanHerkInLanes(in, out, from, to, s);
        } else {
            run(in.floats(), out.floats(), from, to, s);
        }
    }

    /**
     * Floats of horizontal results a band of {@link VecMaxVanHerk} keeps (beyond it, a band's rows
     * are split): a whole 19×19×512 plane. At 2^20, 9×9 on 56×56×512 (two bands instead of six)
     * ran 7.1 ms against 5.5 (the bands' two arrays no longer in the caches).
     */
    static final int LANES_FLOATS = 1 << 19;
    /**
     * Windows' heights of input rows a band of {@link VecMaxVanHerk} holds at least, however wide
     * the rows: each band reduces {@code kh - sh} rows across that the band before it reduced too.
     */
    static final int LANES_MIN_WINDOWS = 4;
    /** Rows too wide for {@link #LANES_MIN_WINDOWS} windows' heights in this many floats take the scalar path (column blocks). */
    static final int LANES_MAX_FLOATS = 1 << 21;

    private void vanHerkInLanes(Tensor in, Tensor out, int from, int to, Scratch s) {
        int oh = p.out.h();
        int line = p.out.w() * p.c;
        int perBand = Math.max(1, (Math.max(LANES_FLOATS, LANES_MIN_WINDOWS * kh * line) / line - kh) / sh + 1);
        int staged = p.in.w() * p.c;
        float[] a = s.floats(5, staged);
        float[] sa = s.floats(7, staged);
        for (int r = from; r < to; ) {
            int n = r / oh;
            int oy0 = r % oh;
            int oy1 = Math.min(oh, oy0 + (to - r));
            for (int b = oy0; b < oy1; b += perBand) {
                int e = Math.min(oy1, b + perBand);
                int rows = VecMaxVanHerk.rows(p, b, e) * line;
                VecMaxVanHerk.band(in.floats(), out.buffer(), p, n, b, e, a, sa, s.floats(6, rows), s.floats(8, rows));
            }
            r += oy1 - oy0;
        }
    }

    /** Floats of horizontal results a band of {@link VecMaxDoubling} keeps (beyond it, a band's rows are split). */
    static final int DOUBLING_FLOATS = 1 << 18;

    private void doubling(Tensor in, Tensor out, int from, int to, Scratch s) {
        int oh = p.out.h();
        int line = p.out.w() * p.c;
        int perBand = Math.max(1, DOUBLING_FLOATS / line - kh + 1);
        float[] xs = s.floats(5, p.in.w() * p.c);
        for (int r = from; r < to; ) {
            int n = r / oh;
            int oy0 = r % oh;
            int oy1 = Math.min(oh, oy0 + (to - r));
            for (int a = oy0; a < oy1; a += perBand) {
                int e = Math.min(oy1, a + perBand);
                int r0 = Math.max(0, p.rowStart[a]);
                int r1 = Math.min(p.in.h(), p.rowStart[e - 1] + kh);
                float[] hs = s.floats(6, (r1 - r0) * line);
                VecMaxDoubling.band(in.floats(), out.buffer(), p, n, a, e, r0, r1, xs, hs);
            }
            r += oy1 - oy0;
        }
    }

    /** Output rows {@code [from, to)} of all {@code N*OH}, each row index being {@code n*OH + oy}. */
    void run(FloatBuffer src, FloatBuffer dst, int from, int to, Scratch s) {
        MaxExact[] exact = new MaxExact[1];
        p.bands(from, to, blockOut, BAND_FLOATS, 2, (n, oy0, oy1, b0, b1) -> {
            if (exact[0] == null || exact[0].from() != b0) {
                exact[0] = new MaxExact(p, b0, b1);
            }
            band(src, dst, n, oy0, oy1, b0, b1, exact[0], s);
        });
    }

    /** Output rows {@code [oy0, oy1)} of batch item n, columns {@code [b0, b1)}. */
    private void band(FloatBuffer src, FloatBuffer dst, int n, int oy0, int oy1, int b0, int b1, MaxExact exact,
                      Scratch s) {
        int c = p.c;
        int bw = b1 - b0;
        int rows = (oy1 - 1 - oy0) * sh + p.rows.effectiveWindow();
        int yb = p.rowStart[oy0];
        int positions = (bw - 1) * p.sw + p.cols.effectiveWindow();
        float[][] xs = s.ring(2, positions, c);
        float[][] suffix = s.ring(3, positions, c);
        float[][] h = s.ring(4, rows * bw, c);
        float[][] vs = s.ring(5, rows * bw, c);
        for (int u = 0; u < rows; u++) {
            int y = yb + u;
            if (y < 0 || y >= p.in.h()) {
                for (int o = 0; o < bw; o++) {
                    Arrays.fill(h[u * bw + o], 0, c, Float.NEGATIVE_INFINITY);
                }
            } else {
                across(src, n, y, b0, bw, positions, xs, suffix, h, u * bw);
            }
        }
        // Down the rows: suffix maxima into vs, prefix maxima in place in h.
        int dh = p.dh;
        for (int u = rows - 1; u >= 0; u--) {
            boolean ends = (u / dh) % kh == kh - 1 || u + dh >= rows;
            for (int o = 0; o < bw; o++) {
                float[] to = vs[u * bw + o];
                float[] at = h[u * bw + o];
                if (ends) {
                    System.arraycopy(at, 0, to, 0, c);
                } else {
                    float[] next = vs[(u + dh) * bw + o];
                    for (int ch = 0; ch < c; ch++) {
                        to[ch] = Math.max(next[ch], at[ch]);
                    }
                }
            }
        }
        for (int u = 0; u < rows; u++) {
            if ((u / dh) % kh != 0) {
                for (int o = 0; o < bw; o++) {
                    float[] at = h[u * bw + o];
                    float[] before = h[(u - dh) * bw + o];
                    for (int ch = 0; ch < c; ch++) {
                        at[ch] = Math.max(before[ch], at[ch]);
                    }
                }
            }
        }
        int width = bw * c;
        float[] acc = s.floats(2, width);
        float[] check = s.floats(4, exact.scratch());
        float[] tmp = s.floats(3, c);
        for (int oy = oy0; oy < oy1; oy++) {
            int u0 = (oy - oy0) * sh;
            int u1 = u0 + (kh - 1) * dh;
            float least = Float.POSITIVE_INFINITY;
            for (int o = 0; o < bw; o++) {
                float[] first = vs[u0 * bw + o];
                float[] last = h[u1 * bw + o];
                for (int ch = 0; ch < c; ch++) {
                    float m = Math.max(first[ch], last[ch]);
                    tmp[ch] = m;
                    least = Math.min(least, Math.abs(m));
                }
                System.arraycopy(tmp, 0, acc, o * c, c);
            }
            exact.fix(src, acc, least, n, oy, width, check);
            dst.put(Math.toIntExact(p.out.offset(n, oy, b0, 0)), acc, 0, width);
        }
    }

    /**
     * Across input row (n, y): the maxima of block columns {@code [b0, b0+bw)} into
     * {@code h[at] .. h[at+bw-1]}, from the row's positions staged into {@code xs} (prefix maxima
     * are then formed in place) and their suffix maxima in {@code suffix}.
     */
    private void across(FloatBuffer src, int n, int y, int b0, int bw, int positions, float[][] xs, float[][] suffix,
                        float[][] h, int at) {
        int c = p.c;
        int dw = p.dw;
        int xb = p.colStart[b0];
        int w = p.in.w();
        for (int q = 0; q < positions; q++) {
            int x = xb + q;
            if (x < 0 || x >= w) {
                Arrays.fill(xs[q], 0, c, Float.NEGATIVE_INFINITY);
            } else {
                src.get(Math.toIntExact(p.in.offset(n, y, x, 0)), xs[q], 0, c);
            }
        }
        for (int q = positions - 1; q >= 0; q--) {
            float[] to = suffix[q];
            float[] v = xs[q];
            if ((q / dw) % kw == kw - 1 || q + dw >= positions) {
                System.arraycopy(v, 0, to, 0, c);
            } else {
                float[] next = suffix[q + dw];
                for (int ch = 0; ch < c; ch++) {
                    to[ch] = Math.max(next[ch], v[ch]);
                }
            }
        }
        for (int q = 0; q < positions; q++) {
            if ((q / dw) % kw != 0) {
                float[] v = xs[q];
                float[] before = xs[q - dw];
                for (int ch = 0; ch < c; ch++) {
                    v[ch] = Math.max(before[ch], v[ch]);
                }
            }
        }
        for (int o = 0; o < bw; o++) {
            int q0 = o * p.sw;
            float[] first = suffix[q0];
            float[] last = xs[q0 + (kw - 1) * dw];
            float[] to = h[at + o];
            for (int ch = 0; ch < c; ch++) {
                to[ch] = Math.max(first[ch], last[ch]);
            }
        }
    }
}
