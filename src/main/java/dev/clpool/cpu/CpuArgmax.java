package dev.clpool.cpu;

import dev.clpool.PoolGeometry;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;
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

    /** A float32 tensor's bytes (refusing other storage, as {@link Tensor#floats} does), native order. */
    static ByteBuffer bytes(Tensor t) {
        t.floats();
        return t.buffer();
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

    /**
     * The first pass, one tap: {@code m[i] = max(m[i], g[i])} for i below {@code len}, with
     * {@link #less}'s mask rather than {@code Math.max}, which C2 (JDK 17) compiles to a compare
     * and branch per element (about 5× slower here, more on random data).
     */
    static void fold(int[] m, int[] g, int len) {
        for (int i = 0; i < len; i++) {
            int a = m[i];
            int b = g[i];
            m[i] = a ^ ((a ^ b) & less(a, b));
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

    /** Raw bits of −∞, whose key is the smallest a float has: the filler of staged padding ({@link #take}). */
    static final int NEGATIVE_INFINITY = 0xff800000;
    /** The key of {@link #NEGATIVE_INFINITY}. */
    static final int NEGATIVE_INFINITY_KEY = NEGATIVE_INFINITY ^ 0x7fffffff;

    /**
     * One tap of the one-pass argmax, in scan order, over elements [from, to): where the key of the
     * tap's raw bits {@code g[i]} is strictly above the running maximum key {@code m[i]}, the tap
     * takes the element: {@code m[i]} becomes its key, {@code off[i]} the tap's {@code offset} and
     * {@code val[i]} its raw bits. This is the rule of {@link #fold} and {@link #select} in one pass
     * (a strictly larger key replaces, so of equal keys the first stays), with the chosen value's
     * own bits (its payload, its zero's sign) carried along. Three small loops, each with one
     * index expression: the keys into {@code k}, the new maximum with each element's winning mask
     * (over the key in {@code k}), then the offset and bits by that mask. Fused into one loop the
     * body is too large for C2 (JDK 17) to unroll, so it stays scalar (4–6× slower); as two (the
     * second doing the rest), inlined into {@link ArgmaxPlanes}' band loop, the second was not
     * vectorised either (2.6× slower). {@code m} starts at {@link Integer#MIN_VALUE}, below every
     * key, so a window's first tap always takes.
     */
    static void take(int[] g, int[] k, int[] m, int[] off, int[] val, int offset, int from, int to) {
        keys(g, k, from, to - from);
        for (int i = from; i < to; i++) {
            int was = m[i];
            int key = k[i];
            int wins = less(was, key);
            m[i] = was ^ ((was ^ key) & wins);
            k[i] = wins;
        }
        for (int i = from; i < to; i++) {
            int wins = k[i];
            off[i] = (off[i] & ~wins) | (offset & wins);
            val[i] = (val[i] & ~wins) | (g[i] & wins);
        }
    }

    /**
     * −1 where {@code a < b} (signed), else 0: branch-free, with the overflow of {@code a - b}
     * accounted for (Hacker's Delight 2-12), so that C2 vectorises the loops it is in.
     */
    static int less(int a, int b) {
        int d = a - b;
        return (d ^ ((a ^ b) & (d ^ a))) >> 31;
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
