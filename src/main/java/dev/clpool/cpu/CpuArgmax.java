package dev.clpool.cpu;

import dev.clpool.PoolGeometry;
import dev.clpool.Tensor;
import java.nio.IntBuffer;
import java.util.Arrays;

/**
 * The one CPU argmax (max pooling with indices, max backward): for every output element, the tap
 * of its window that clpool's rule picks (a strictly larger value, or the first NaN: the first
 * maximum in scan order, rows then columns), in loops C2 vectorises and whose cost does not depend
 * on the data.
 *
 * <p>Each staged input row is mapped, as raw bits, to a key: −0 becomes +0 and every NaN one
 * canonical NaN (values the rule treats as equal get equal keys), then the bits are turned into an
 * int whose signed order is the floats' order (the canonical NaN above +∞). The window's maximum
 * key is the key of the element the rule picks (the first NaN if there is one, else the largest
 * value, zeros being one value), and the rule picks the first tap in scan order with that key.
 * Both passes are integer maxima and masks over whole output rows, each tap's columns gathered
 * into an array of their own (one index expression per loop); the second pass runs the taps in
 * reverse scan order, so the first match is the one that stays. Out-of-range column taps get
 * {@link Integer#MIN_VALUE}, which no key equals (negative NaNs are canonicalised).
 */
final class CpuArgmax {
    /** Ints of gathered taps kept between the two passes (beyond it they are gathered twice). */
    private static final long KEEP_INTS = 1 << 18;

    private final WindowPlan p;
    private final int kw;
    /** Per tap number: its row within the window, and its column offset in input columns. */
    private final int[] tapJy;
    private final int[] tapDx;

    CpuArgmax(PoolGeometry g) {
        p = new WindowPlan(g);
        kw = p.cols.window();
        int taps = p.rows.window() * kw;
        tapJy = new int[taps];
        tapDx = new int[taps];
        for (int t = 0; t < taps; t++) {
            tapJy[t] = t / kw;
            tapDx[t] = t % kw * p.dw;
        }
    }

    /** A float32 tensor's raw bits (refusing other storage, as {@link Tensor#floats} does). */
    static IntBuffer bits(Tensor t) {
        t.floats();
        return t.buffer().asIntBuffer();
    }

    WindowPlan plan() {
        return p;
    }

    /**
     * Output row (n, oy): its window rows' raw bits staged into {@code raw[jy]} (for callers that
     * want the chosen values), and into {@code tap} the tap number {@code jy*kw + jx} each output
     * element picks.
     */
    void row(IntBuffer bits, int n, int oy, int[][] raw, int[] tap, Scratch s) {
        int c = p.c;
        int rowLen = p.in.w() * c;
        int width = p.out.w() * c;
        int j0 = p.rowFirst[oy];
        int j1 = p.rowEnd[oy];
        int[][] key = s.ints(1, p.rows.window(), rowLen);
        // Each tap's gathered columns are kept for the second pass where they fit.
        boolean keep = (long) p.rows.window() * kw * width <= KEEP_INTS;
        int[][] gathered = s.ints(2, keep ? p.rows.window() * kw : 1, width);
        int[] m = s.ints(3, 1, width)[0];
        for (int jy = j0; jy < j1; jy++) {
            bits.get(Math.toIntExact(p.in.offset(n, p.inputRow(oy, jy), 0, 0)), raw[jy], 0, rowLen);
            keys(raw[jy], key[jy], 0, rowLen);
        }
        Arrays.fill(m, 0, width, Integer.MIN_VALUE);
        for (int jy = j0; jy < j1; jy++) {
            for (int jx = 0; jx < kw; jx++) {
                int[] t = gathered[keep ? jy * kw + jx : 0];
                gather(key[jy], jx, t);
                fold(m, t, width);
            }
        }
        for (int jy = j1 - 1; jy >= j0; jy--) {
            for (int jx = kw - 1; jx >= 0; jx--) {
                int number = jy * kw + jx;
                int[] t = gathered[keep ? number : 0];
                if (!keep) {
                    gather(key[jy], jx, t);
                }
                select(tap, t, m, number, width);
            }
        }
    }

    /** Ints of an output row's chosen-value pass worked on at a time ({@link #chosen}): a column block. */
    private static final int BLOCK_INTS = 2048;

    /**
     * Output row (n, oy) as max with indices wants it, without a tap number per element: into
     * {@code val} the raw bits of each output element's chosen input element, into {@code off}
     * {@code tapOffsets[t]} of its chosen tap t. The same taps as {@link #row}: the second pass
     * carries the tap's raw bits and offset where {@link #row} carries its number, so no output
     * element needs a lookup of its own afterwards (a scalar gather per element through the tap's
     * row and column cost more than both passes). Works in column blocks of about
     * {@link #BLOCK_INTS} ints, so that a block's gathered taps stay in the first-level cache (a
     * SegNet stage-4 row, 30×512, is 15360 ints per tap).
     */
    void chosen(IntBuffer bits, int n, int oy, int[] val, int[] off, int[] tapOffsets, Scratch s) {
        int c = p.c;
        int rowLen = p.in.w() * c;
        int j0 = p.rowFirst[oy];
        int j1 = p.rowEnd[oy];
        int[][] raw = s.ints(0, p.rows.window(), rowLen);
        int[][] key = s.ints(1, p.rows.window(), rowLen);
        for (int jy = j0; jy < j1; jy++) {
            bits.get(Math.toIntExact(p.in.offset(n, p.inputRow(oy, jy), 0, 0)), raw[jy], 0, rowLen);
            keys(raw[jy], key[jy], 0, rowLen);
        }
        int perBlock = Math.max(1, BLOCK_INTS / c);
        int[][] gathered = s.ints(2, p.rows.window() * kw, perBlock * c);
        int[][] work = s.ints(3, 4, perBlock * c);
        int[] m = work[0];
        int[] rv = work[1];
        int[] vb = work[2];
        int[] ob = work[3];
        for (int b0 = 0; b0 < p.out.w(); b0 += perBlock) {
            int b1 = Math.min(p.out.w(), b0 + perBlock);
            int len = (b1 - b0) * c;
            Arrays.fill(m, 0, len, Integer.MIN_VALUE);
            for (int jy = j0; jy < j1; jy++) {
                for (int jx = 0; jx < kw; jx++) {
                    int[] g = gathered[jy * kw + jx];
                    gather(key[jy], jx, g, b0, b1, Integer.MIN_VALUE);
                    fold(m, g, len);
                }
            }
            for (int jy = j1 - 1; jy >= j0; jy--) {
                for (int jx = kw - 1; jx >= 0; jx--) {
                    int number = jy * kw + jx;
                    gather(raw[jy], jx, rv, b0, b1, 0);
                    choose(vb, ob, gathered[number], m, rv, tapOffsets[number], len);
                }
            }
            System.arraycopy(vb, 0, val, b0 * c, len);
            System.arraycopy(ob, 0, off, b0 * c, len);
        }
    }

    /**
     * The second pass of {@link #chosen}, one tap: where the tap's key {@code g[i]} is the maximum
     * {@code m[i]}, {@code val[i]} takes its raw bits {@code rv[i]} and {@code off[i]} its offset,
     * branch-free.
     */
    private static void choose(int[] val, int[] off, int[] g, int[] m, int[] rv, int offset, int len) {
        for (int i = 0; i < len; i++) {
            int d = g[i] ^ m[i];
            int differs = (d | -d) >> 31;
            val[i] = (val[i] & differs) | (rv[i] & ~differs);
            off[i] = (off[i] & differs) | (offset & ~differs);
        }
    }

    /** The first pass, one tap: {@code m[i] = max(m[i], g[i])} for i below {@code len}. */
    static void fold(int[] m, int[] g, int len) {
        for (int i = 0; i < len; i++) {
            m[i] = Math.max(m[i], g[i]);
        }
    }

    /**
     * The second pass, one tap (taps visited in reverse scan order): {@code tap[i] = number} where
     * the tap's key {@code g[i]} is the maximum {@code m[i]}, branch-free.
     */
    static void select(int[] tap, int[] g, int[] m, int number, int len) {
        for (int i = 0; i < len; i++) {
            int d = g[i] ^ m[i];
            int differs = (d | -d) >> 31;
            tap[i] = (tap[i] & differs) | (number & ~differs);
        }
    }

    /** Window row (index into the staged rows) of tap number {@code t}. */
    int tapJy(int t) {
        return tapJy[t];
    }

    /** Input row of tap number {@code t} of output row {@code oy}. */
    int tapRow(int oy, int t) {
        return p.rowStart[oy] + tapJy[t] * p.dh;
    }

    /** Input columns from an output column's window start to tap number {@code t}. */
    int tapOffset(int t) {
        return tapDx[t];
    }

    /** Input column of tap number {@code t} of output column {@code ox}. */
    int tapColumn(int ox, int t) {
        return p.colStart[ox] + tapDx[t];
    }

    /** Column tap {@code jx} of every output column of the row, from a staged row of keys. */
    private void gather(int[] key, int jx, int[] t) {
        int c = p.c;
        for (int ox = 0; ox < p.out.w(); ox++) {
            if (jx >= p.colFirst[ox] && jx < p.colEnd[ox]) {
                System.arraycopy(key, p.inputColumn(ox, jx) * c, t, ox * c, c);
            } else {
                Arrays.fill(t, ox * c, ox * c + c, Integer.MIN_VALUE);
            }
        }
    }

    /**
     * Column tap {@code jx} of output columns {@code [b0, b1)} from a staged row, into {@code t}
     * from 0; {@code outside} where the tap falls in the padding.
     */
    private void gather(int[] row, int jx, int[] t, int b0, int b1, int outside) {
        int c = p.c;
        for (int ox = b0; ox < b1; ox++) {
            int at = (ox - b0) * c;
            if (jx >= p.colFirst[ox] && jx < p.colEnd[ox]) {
                System.arraycopy(row, p.inputColumn(ox, jx) * c, t, at, c);
            } else {
                Arrays.fill(t, at, at + c, outside);
            }
        }
    }

    /**
     * Order-preserving keys of raw float bits {@code raw[from, from+len)} into the same positions of
     * {@code key}, equal for values the max rule treats as equal.
     */
    static void keys(int[] raw, int[] key, int from, int len) {
        for (int i = from, end = from + len; i < end; i++) {
            int b = raw[i];
            int z = b ^ 0x80000000;
            b &= (z | -z) >> 31;
            int nan = (0x7f800000 - (b & 0x7fffffff)) >> 31;
            b = (b & ~nan) | (0x7fc00000 & nan);
            key[i] = b ^ ((b >> 31) & 0x7fffffff);
        }
    }
}
