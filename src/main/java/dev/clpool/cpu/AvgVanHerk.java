package dev.clpool.cpu;

import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.function.IntUnaryOperator;

/**
 * Windowed average pooling at a cost per output that does not grow with the window: the sums
 * counterpart of {@link MaxVanHerk}, prefix and suffix sums within blocks of {@code k} taps, once
 * across each input row and once down the rows. Along one axis (dilation {@code d}: position
 * {@code q} is tap {@code q/d} of residue class {@code q mod d}, and a block is {@code k}
 * consecutive taps of a class), a window's taps inside the input, first {@code a} and last
 * {@code b}, are:
 * <ul>
 *   <li>in two blocks: the suffix sum of {@code a}'s block from {@code a} plus the prefix sum of
 *       {@code b}'s block up to {@code b};</li>
 *   <li>in one block that {@code a} starts (a whole block, or a window clipped by the leading
 *       padding): the prefix sum up to {@code b};</li>
 *   <li>in one block that {@code a} does not start (a window clipped by the trailing padding): the
 *       suffix sum from {@code a}, which stops at the input's last tap of the class.</li>
 * </ul>
 * Only taps inside the input are staged or summed: padding adds nothing, and the divisor is
 * {@link PoolGeometry#divisor}, as on every path.
 *
 * <p>Blocks are anchored at the whole tensor's position 0 on each axis (rows through
 * {@link PoolGeometry#rowOrigin}, which a row band of a larger item carries), never at a band, task
 * or column block, and a window reads only partial sums that start and end inside it. So every
 * result is summed in the same order however the rows are split into tasks or row bands, and the
 * CPU path repeats its averages bit for bit (RowBandsTest).
 *
 * <p>Each result is certified as in {@link AvgWindows}: Wilkinson's running bound B beside every
 * partial sum, u·(1 + γ(r))·B ≤ {@link AvgWindows#TOLERANCE}·max(1, |avg|)·divisor, where B is
 * formed by at most {@link #BOUND_ADDITIONS_PER_TAP} additions per tap. The inputs are exact, so
 * the first pass carries no input bounds. The element-wise worst certificate is kept per band and
 * read once; if any result failed (heavy cancellation, an infinity or NaN, float overflow) the
 * band's results are formed again, checking each, and those that fail are recomputed in double
 * ({@link AvgWindows#exactAverage}).
 *
 * <p>Speed: the loops are long and have one index expression, so C2 vectorises them: the
 * horizontal pass keeps each position's channels in an array of its own; the vertical pass and the
 * divisions run over whole block rows. A band holds every input row its windows read, so bands are
 * tall ({@link #BAND_FLOATS}): the rows two bands share are summed across twice (splitting a
 * 19-row item in two cost a third more), and chunks of channels to fit the L2 cache cost more
 * (loops of 64 or 128 floats run mostly outside the unrolled vector loop) than they saved.
 */
final class AvgVanHerk {
    /** Floats of a band's four arrays per input row (sums, bounds, suffix sums, suffix bounds). */
    private static final int BAND_FLOATS = 1 << 21;
    /** Floats of one staged input row segment (bounds the column block). */
    private static final int SEGMENT_FLOATS = 1 << 15;
    /** Additions per tap that form a result's bound B (see {@link AvgWindows#boundPerB}). */
    private static final int BOUND_ADDITIONS_PER_TAP = 6;
    /** Floats of a band's two arrays of row sums in {@link VecAvgVanHerk} (one group of channel vectors). */
    private static final int VEC_BAND_FLOATS = 1 << 18;

    private final PoolGeometry g;
    private final WindowPlan p;
    private final AvgWindows exact;
    private final int kw;
    private final int kh;
    private final int blockOut;
    private final int origin;
    /** u·(1 + γ(r))/TOLERANCE for the largest window: the certificate per unit of B·divisor. */
    private final double perB;
    /** Whether {@link VecAvgVanHerk} runs this geometry (where the JVM has the Vector API). */
    private final boolean vector;

    /** A window joins the prefix sum at its last tap only (it starts a block). */
    static final int PREFIX = 0;
    /** A window is the suffix sum from its first tap (it ends where the input does, inside a block). */
    static final int SUFFIX = 1;
    /** A window joins the suffix sum from its first tap and the prefix sum to its last. */
    static final int BOTH = 2;

    /**
     * The windows along one axis of a band, for {@link VecAvgVanHerk}: positions are counted from
     * the band's first input position; {@code first[i]}/{@code last[i]} are output i's first and
     * last taps inside the input ({@code last} non-decreasing), {@code kind[i]} how its sum is joined, and blocks of
     * {@code k} start where {@code (lo + position) mod k == 0} ({@code lo} the absolute position).
     */
    record Windows(int[] first, int[] last, int[] kind, int count, int lo, int positions, int k) {
    }

    AvgVanHerk(PoolGeometry g) {
        if (g.mode() != PoolMode.AVG) {
            throw new IllegalArgumentException("avg van Herk runs avg, not " + g.mode().word());
        }
        this.g = g;
        p = new WindowPlan(g);
        exact = new AvgWindows(g, false);
        kw = p.cols.window();
        kh = p.rows.window();
        blockOut = p.blockOut(SEGMENT_FLOATS);
        origin = g.rowOrigin();
        perB = 0x1p-24 * (1 + CompensatedSum.gamma((long) BOUND_ADDITIONS_PER_TAP * kh * kw)) / AvgWindows.TOLERANCE;
        vector = VectorSupport.fits(p.c) && p.dw == 1 && p.dh == 1;
    }

    /** The cost model of {@link MaxVanHerk#pays}, for averages (which cost twice as much on both paths). */
    static boolean pays(PoolGeometry g) {
        return g.mode() == PoolMode.AVG && WindowPlan.prefixSuffixPays(g);
    }

    long workPerRow() {
        return (long) p.out.w() * p.c * (6L * p.sw * p.rows.stride() + 6L * p.rows.stride());
    }

    /** Output rows {@code [from, to)} of all {@code N*OH}, each row index being {@code n*OH + oy}. */
    void run(FloatBuffer src, FloatBuffer dst, int from, int to, Scratch s) {
        p.bands(from, to, blockOut, BAND_FLOATS, 4, (n, oy0, oy1, b0, b1) -> band(src, dst, n, oy0, oy1, b0, b1, s));
    }

    /**
     * Output rows {@code [from, to)} of all {@code N*OH} from float32 tensor {@code in} into
     * {@code out}: in Vector API lanes ({@link VecAvgVanHerk}, with the same bits) where this JVM
     * runs them, the channels fill a vector and the window is not dilated; else as
     * {@link #run(FloatBuffer, FloatBuffer, int, int, Scratch)}.
     */
    void run(Tensor in, Tensor out, int from, int to, Scratch s) {
        if (!(VectorSupport.ENABLED && vector)) {
            run(in.floats(), out.floats(), from, to, s);
            return;
        }
        int lanes = VecAvgVanHerk.lanes();
        // The band's arrays hold one group of vectors, not all p.c channels.
        long bandFloats = (long) VEC_BAND_FLOATS * p.c / (VecAvgVanHerk.GROUP * lanes);
        p.bands(from, to, blockOut, (int) Math.min(Integer.MAX_VALUE, bandFloats), 2,
                (n, oy0, oy1, b0, b1) -> vecBand(in, out, n, oy0, oy1, b0, b1, s));
    }

    /**
     * {@link #band} in Vector API lanes, {@link VecAvgVanHerk#GROUP} vectors of channels at a time,
     * then one (the last may overlap the one before); the lanes that fail their certificate are
     * recomputed in double.
     */
    private void vecBand(Tensor in, Tensor out, int n, int oy0, int oy1, int b0, int b1, Scratch s) {
        int lanes = VecAvgVanHerk.lanes();
        int bw = b1 - b0;
        int outRows = oy1 - oy0;
        int ylo = Integer.MAX_VALUE;
        int yhi = 0;
        for (int oy = oy0; oy < oy1; oy++) {
            ylo = Math.min(ylo, p.inputRow(oy, p.rowFirst[oy]));
            yhi = Math.max(yhi, p.inputRow(oy, p.rowEnd[oy] - 1) + 1);
        }
        int xlo = p.firstColumn(b0, b1);
        int[][] ints = s.ints(4, 7, Math.max(outRows * bw * VecAvgVanHerk.GROUP, Math.max(outRows, bw)));
        Windows rows = windows(ints, 0, outRows, ylo, yhi - ylo, origin, kh,
                r -> p.inputRow(oy0 + r, p.rowFirst[oy0 + r]), r -> p.inputRow(oy0 + r, p.rowEnd[oy0 + r] - 1));
        Windows cols = windows(ints, 3, bw, xlo, p.endColumn(b0, b1) - xlo, 0, kw,
                i -> p.inputColumn(b0 + i, p.colFirst[b0 + i]), i -> p.inputColumn(b0 + i, p.colEnd[b0 + i] - 1));
        int[] fails = ints[6];
        float[] div = s.floats(9, outRows * bw);
        float[] k = s.floats(10, outRows * bw);
        int[][] offsets = s.ints(3, 2, Math.max(outRows, kh * kw));
        int[] outAt = offsets[0];
        int[] taps = offsets[1];
        for (int r = 0; r < outRows; r++) {
            outAt[r] = Math.toIntExact(p.out.offset(n, oy0 + r, b0, 0) * Float.BYTES);
            for (int i = 0; i < bw; i++) {
                double divisor = g.divisor(oy0 + r, b0 + i);
                div[r * bw + i] = (float) divisor;
                k[r * bw + i] = (float) (perB / divisor);
            }
        }
        float[] worst = s.floats(11, outRows * bw * VecAvgVanHerk.GROUP * lanes);
        int pixBytes = p.c * Float.BYTES;
        ByteBuffer dst = out.buffer();
        FloatBuffer x = in.floats();
        FloatBuffer y = out.floats();
        // The band's input rows, copied once (one bulk copy per row): the sums read each group of
        // channels from this array, not from the tensor (see VecAvgVanHerk).
        int line = cols.positions() * p.c;
        float[] staged = s.floats(6, rows.positions() * line);
        for (int u = 0; u < rows.positions(); u++) {
            x.get(Math.toIntExact(p.in.offset(n, ylo + u, xlo, 0)), staged, u * line, line);
        }
        for (int ch = 0; ch < p.c; ) {
            int vectors = p.c - ch >= VecAvgVanHerk.GROUP * lanes ? VecAvgVanHerk.GROUP : 1;
            int c0 = Math.min(ch, p.c - lanes);
            int failed = VecAvgVanHerk.band(staged, c0, line, p.c, dst, origin, rows, cols, outAt, pixBytes,
                    c0 * Float.BYTES, vectors, div, k, fails, worst, s);
            for (int f = 0; f < failed; f++) {
                int e = fails[f] / vectors;
                int oy = oy0 + e / bw;
                int ox = b0 + e % bw;
                int at = c0 + fails[f] % vectors * lanes;
                int count = exact.taps(n, oy, ox, taps);
                for (int l = 0; l < lanes; l++) {
                    if (!(worst[f * lanes + l] <= 0)) {
                        y.put(Math.toIntExact(p.out.offset(n, oy, ox, at + l)),
                                exact.exactAverage(x, taps, count, oy, ox, at + l));
                    }
                }
            }
            ch += vectors * lanes;
        }
    }

    /**
     * The windows of {@code count} outputs along one axis for {@link VecAvgVanHerk}, in
     * {@code ints[at..at+3)}: first and last taps inside the input counted from position {@code lo}
     * ({@code span} positions), and how each is joined, blocks of {@code k} anchored at absolute
     * position {@code origin + lo}.
     */
    private static Windows windows(int[][] ints, int at, int count, int lo, int span, int origin, int k,
                                   IntUnaryOperator first, IntUnaryOperator last) {
        int[] f = ints[at];
        int[] l = ints[at + 1];
        int[] kind = ints[at + 2];
        for (int i = 0; i < count; i++) {
            int a = first.applyAsInt(i);
            int b = last.applyAsInt(i);
            f[i] = a - lo;
            l[i] = b - lo;
            kind[i] = !sameBlock(origin + a, origin + b, 1, k) ? BOTH
                    : startsBlock(origin + a, 1, k) ? PREFIX : SUFFIX;
        }
        return new Windows(f, l, kind, count, lo, span, k);
    }

    /** Whether absolute position {@code q} is the first tap of its block (k taps, dilation d). */
    static boolean startsBlock(int q, int d, int k) {
        return Math.floorMod(Math.floorDiv(q, d), k) == 0;
    }

    /** Whether absolute position {@code q} is the last tap of its block. */
    static boolean endsBlock(int q, int d, int k) {
        return Math.floorMod(Math.floorDiv(q, d), k) == k - 1;
    }

    /** Whether absolute positions {@code a} and {@code b} (one class) lie in the same block. */
    static boolean sameBlock(int a, int b, int d, int k) {
        return Math.floorDiv(Math.floorDiv(a, d), k) == Math.floorDiv(Math.floorDiv(b, d), k);
    }

    /** Output rows {@code [oy0, oy1)} of batch item n, columns {@code [b0, b1)}. */
    private void band(FloatBuffer src, FloatBuffer dst, int n, int oy0, int oy1, int b0, int b1, Scratch s) {
        int ylo = Integer.MAX_VALUE;
        int yhi = 0;
        for (int oy = oy0; oy < oy1; oy++) {
            ylo = Math.min(ylo, p.inputRow(oy, p.rowFirst[oy]));
            yhi = Math.max(yhi, p.inputRow(oy, p.rowEnd[oy] - 1) + 1);
        }
        Band b = new Band(n, oy0, oy1, b0, b1, ylo, yhi, s);
        for (int y = ylo; y < yhi; y++) {
            across(src, b, y);
        }
        down(b);
        if (!finish(dst, b, null)) {
            finish(dst, b, src);
        }
    }

    /**
     * One band, its rows {@code [ylo, ylo+rows)} being every input row its windows read: per input row {@code u} (row
     * {@code ylo + u}), {@code hs[u]}/{@code hb[u]} hold the row's window sums and bounds for every
     * block column (block column o at {@code o*w}), then its prefix sums down the rows in place;
     * {@code vs}/{@code vb} the suffix sums down the rows.
     */
    private final class Band {
        final int n;
        final int oy0;
        final int oy1;
        final int b0;
        final int bw;
        final int ylo;
        final int rows;
        final int w;
        final int xlo;
        final int positions;
        final float[][] hs;
        final float[][] hb;
        final float[][] vs;
        final float[][] vb;
        final Scratch s;

        Band(int n, int oy0, int oy1, int b0, int b1, int ylo, int yhi, Scratch s) {
            this.n = n;
            this.oy0 = oy0;
            this.oy1 = oy1;
            this.b0 = b0;
            this.bw = b1 - b0;
            this.ylo = ylo;
            this.rows = yhi - ylo;
            this.w = p.c;
            this.s = s;
            xlo = p.firstColumn(b0, b1);
            positions = p.endColumn(b0, b1) - xlo;
            int width = bw * w;
            hs = s.ring(6, rows, width);
            hb = s.ring(7, rows, width);
            vs = s.ring(8, rows, width);
            vb = s.ring(9, rows, width);
        }
    }

    /**
     * Across input row y of band b: its in-input columns are staged one position per array,
     * suffix sums formed into {@code ss} (bounds {@code sb}), prefix sums in place (bounds
     * {@code pb}), and each block column's window sum written to the band's row. The inputs are
     * exact: a sum that is one input has bound zero (a shared array of zeros).
     */
    private void across(FloatBuffer src, Band b, int y) {
        int w = b.w;
        int positions = b.positions;
        int dw = p.dw;
        float[][] xs = b.s.ring(2, positions, w);
        float[][] ss = b.s.ring(3, positions, w);
        float[][] sbOwn = b.s.ring(4, positions, w);
        float[][] pbOwn = b.s.ring(5, positions, w);
        float[][] sb = new float[positions][];
        float[][] pb = new float[positions][];
        float[] zero = b.s.floats(12, w);
        Arrays.fill(zero, 0, w, 0f);
        for (int q = 0; q < positions; q++) {
            src.get(Math.toIntExact(p.in.offset(b.n, y, b.xlo + q, 0)), xs[q], 0, w);
        }
        for (int q = positions - 1; q >= 0; q--) {
            float[] v = xs[q];
            float[] to = ss[q];
            if (endsBlock(b.xlo + q, dw, kw) || q + dw >= positions) {
                System.arraycopy(v, 0, to, 0, w);
                sb[q] = zero;
            } else {
                addExact(ss[q + dw], sb[q + dw], v, to, sbOwn[q], w);
                sb[q] = sbOwn[q];
            }
        }
        for (int q = 0; q < positions; q++) {
            if (startsBlock(b.xlo + q, dw, kw) || q < dw) {
                pb[q] = zero;
            } else {
                addExact(xs[q - dw], pb[q - dw], xs[q], xs[q], pbOwn[q], w);
                pb[q] = pbOwn[q];
            }
        }
        float[] rowS = b.hs[y - b.ylo];
        float[] rowB = b.hb[y - b.ylo];
        float[] tmp = b.s.floats(13, w);
        float[] tmpB = b.s.floats(14, w);
        for (int o = 0; o < b.bw; o++) {
            int ox = b.b0 + o;
            int first = p.inputColumn(ox, p.colFirst[ox]);
            int last = p.inputColumn(ox, p.colEnd[ox] - 1);
            int qa = first - b.xlo;
            int qb = last - b.xlo;
            if (sameBlock(first, last, dw, kw)) {
                boolean prefix = startsBlock(first, dw, kw);
                System.arraycopy(prefix ? xs[qb] : ss[qa], 0, rowS, o * w, w);
                System.arraycopy(prefix ? pb[qb] : sb[qa], 0, rowB, o * w, w);
            } else {
                add(ss[qa], sb[qa], xs[qb], pb[qb], tmp, tmpB, w);
                System.arraycopy(tmp, 0, rowS, o * w, w);
                System.arraycopy(tmpB, 0, rowB, o * w, w);
            }
        }
    }

    /**
     * Down the rows of band b, whole block rows at a time: suffix sums (and bounds) into
     * {@code vs}/{@code vb}, then prefix sums in place in {@code hs}/{@code hb}; rows are anchored
     * at the tensor's rows ({@code origin}).
     */
    private void down(Band b) {
        int width = b.bw * b.w;
        int dh = p.dh;
        int rows = b.rows;
        for (int u = rows - 1; u >= 0; u--) {
            float[] v = b.hs[u];
            float[] vb = b.hb[u];
            float[] to = b.vs[u];
            float[] tb = b.vb[u];
            if (endsBlock(origin + b.ylo + u, dh, kh) || u + dh >= rows) {
                System.arraycopy(v, 0, to, 0, width);
                System.arraycopy(vb, 0, tb, 0, width);
            } else {
                add(b.vs[u + dh], b.vb[u + dh], v, vb, to, tb, width);
            }
        }
        for (int u = dh; u < rows; u++) {
            if (!startsBlock(origin + b.ylo + u, dh, kh)) {
                add(b.hs[u - dh], b.hb[u - dh], b.hs[u], b.hb[u], b.hs[u], b.hb[u], width);
            }
        }
    }

    /**
     * Forms, divides and writes band b's results. Without {@code src} it keeps the element-wise
     * worst certificate (bound·k − max(1, |avg|), > 0 or NaN where it fails) and returns whether
     * all passed; with {@code src} it checks each result and recomputes those that fail in double.
     */
    private boolean finish(FloatBuffer dst, Band b, FloatBuffer src) {
        int w = b.w;
        int width = b.bw * w;
        int dh = p.dh;
        float[] avg = b.s.floats(15, width);
        float[] sum = b.s.floats(20, width);
        float[] bound = b.s.floats(16, width);
        float[] div = b.s.floats(17, width);
        float[] k = b.s.floats(18, width);
        float[] worst = b.s.floats(19, width);
        Arrays.fill(worst, 0, width, Float.NEGATIVE_INFINITY);
        long rowDivisor = -1;
        for (int oy = b.oy0; oy < b.oy1; oy++) {
            long rd = g.spec().countIncludePad() ? p.rows.extentIncludingPad(oy) : p.rows.count(oy);
            if (rd != rowDivisor) {
                rowDivisor = rd;
                divisors(b, oy, div, k);
            }
            int first = p.inputRow(oy, p.rowFirst[oy]);
            int last = p.inputRow(oy, p.rowEnd[oy] - 1);
            int ua = first - b.ylo;
            int ub = last - b.ylo;
            float[] ts;
            float[] tb;
            if (sameBlock(origin + first, origin + last, dh, kh)) {
                boolean prefix = startsBlock(origin + first, dh, kh);
                ts = prefix ? b.hs[ub] : b.vs[ua];
                tb = prefix ? b.hb[ub] : b.vb[ua];
            } else {
                add(b.vs[ua], b.vb[ua], b.hs[ub], b.hb[ub], sum, bound, width);
                ts = sum;
                tb = bound;
            }
            for (int i = 0; i < width; i++) {
                float v = ts[i] / div[i];
                avg[i] = v;
                worst[i] = Math.max(worst[i], tb[i] * k[i] - Math.max(1f, Math.abs(v)));
            }
            if (src != null) {
                recheck(src, b, oy, avg, tb, k);
            }
            dst.put(Math.toIntExact(p.out.offset(b.n, oy, b.b0, 0)), avg, 0, width);
        }
        if (src != null) {
            return true;
        }
        float most = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < width; i++) {
            most = Math.max(most, worst[i]);
        }
        return most <= 0;
    }

    /**
     * {@code to = a + v} with its bound {@code tb = ab + |to|}, element-wise over {@code n}: the
     * first pass, whose inputs {@code v} are exact ({@code to} may be {@code v}).
     */
    private static void addExact(float[] a, float[] ab, float[] v, float[] to, float[] tb, int n) {
        for (int i = 0; i < n; i++) {
            float t = a[i] + v[i];
            to[i] = t;
            tb[i] = ab[i] + Math.abs(t);
        }
    }

    /**
     * {@code to = a + v} with its bound {@code tb = ab + vb + |to|}, element-wise over {@code n}
     * ({@code to}/{@code tb} may be {@code v}/{@code vb}).
     */
    private static void add(float[] a, float[] ab, float[] v, float[] vb, float[] to, float[] tb, int n) {
        for (int i = 0; i < n; i++) {
            float t = a[i] + v[i];
            to[i] = t;
            tb[i] = ab[i] + vb[i] + Math.abs(t);
        }
    }

    /** Output row oy's divisors (as floats) and certificate factors per unit of B, per element of the band row. */
    private void divisors(Band b, int oy, float[] div, float[] k) {
        for (int o = 0; o < b.bw; o++) {
            double divisor = g.divisor(oy, b.b0 + o);
            Arrays.fill(div, o * b.w, (o + 1) * b.w, (float) divisor);
            Arrays.fill(k, o * b.w, (o + 1) * b.w, (float) (perB / divisor));
        }
    }

    /** Recomputes in double the averages of output row oy whose bound fails or that are not finite. */
    private void recheck(FloatBuffer src, Band b, int oy, float[] avg, float[] bound, float[] k) {
        int[] taps = b.s.ints(3, 2, kh * kw)[1];
        int tapsOf = -1;
        int count = 0;
        for (int i = 0; i < b.bw * b.w; i++) {
            if (!AvgWindows.certified(bound[i], k[i], avg[i])) {
                int ox = b.b0 + i / b.w;
                if (ox != tapsOf) {
                    count = exact.taps(b.n, oy, ox, taps);
                    tapsOf = ox;
                }
                avg[i] = exact.exactAverage(src, taps, count, oy, ox, i % b.w);
            }
        }
    }
}
