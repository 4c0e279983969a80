package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;

/**
 * Max pooling with indices of channels-last rows (C above 1) in one fused pass per tap
 * ({@link CpuArgmax#take}): each tap's columns are gathered from the staged raw rows into an
 * array of their own, and the pass keeps, per output element, the running maximum key, the index
 * offset of the tap holding it and that element's raw bits. The values are then written as they
 * are (raw bits, no decoding) and each index is its output column's base plus the kept offset.
 *
 * <p>Before, {@link CpuArgmax#row} found tap numbers in two integer passes, and a scalar loop
 * decoded every output's tap into its row, column, staged value and index (about half of the
 * time, by JFR samples). Taps outside the input are never visited: a column tap runs over the
 * output columns whose window holds it ({@code lo}..{@code hi}, contiguous), a row tap only where
 * it is inside the input, so padding cannot win and the running maximum starts below every key.
 * Output columns are worked in blocks of about {@link #BLOCK_INTS} elements, so that the five
 * arrays of a block's pass stay in the first-level cache across the window's taps.
 *
 * <p>The instance holds geometry only and is shared by the backend's threads.
 */
final class ArgmaxRows {
    /** Elements of one block of output columns. */
    private static final int BLOCK_INTS = 2048;
    /** Channels from which a strided gather copies column by column (below it, element by element). */
    private static final int COPY_MIN_CHANNELS = 16;

    private final WindowPlan p;
    private final IndexForm form;
    private final int kw;
    private final int c;
    private final int blockOut;
    /** Per column tap: the output columns [lo, hi) whose window holds it inside the input. */
    private final int[] lo;
    private final int[] hi;
    /** Per tap number: its index offset from its window's tap 0. */
    private final int[] offsets;

    private ArgmaxRows(WindowPlan p, IndexForm form, int[] offsets) {
        this.p = p;
        this.form = form;
        this.offsets = offsets;
        kw = p.cols.window();
        c = p.c;
        blockOut = Math.max(1, Math.min(p.out.w(), BLOCK_INTS / c));
        lo = new int[kw];
        hi = new int[kw];
        for (int jx = 0; jx < kw; jx++) {
            int first = -1;
            int last = -1;
            for (int ox = 0; ox < p.out.w(); ox++) {
                int x = p.inputColumn(ox, jx);
                if (x >= 0 && x < p.in.w()) {
                    first = first < 0 ? ox : first;
                    last = ox;
                }
            }
            lo[jx] = Math.max(first, 0);
            hi[jx] = last + 1;
        }
    }

    /** The fused rows of a plan with indices in {@code form}, or null where a tap's offset overflows an int. */
    static ArgmaxRows of(WindowPlan p, IndexForm form) {
        int[] offsets = form.tapOffsets(p.rows.window(), p.cols.window(), p.dh, p.dw);
        return offsets == null ? null : new ArgmaxRows(p, form, offsets);
    }

    /** Whether {@link #vectorRow} runs this plan: the Vector API is on and C fills a vector. */
    boolean vectors() {
        return VectorSupport.fits(c);
    }

    /**
     * {@link #row} in the Vector API ({@link VecArgmax#indices}, straight from the input's bytes),
     * where {@link #vectors} says so: the same values and indices, bit for bit.
     */
    void vectorRow(ByteBuffer in, ByteBuffer dst, ByteBuffer idx, int n, int oy, Scratch s) {
        int[] rowAt = s.ints(0, 1, p.rows.window())[0];
        for (int jy = p.rowFirst[oy]; jy < p.rowEnd[oy]; jy++) {
            rowAt[jy] = Math.toIntExact(p.in.offset(n, p.inputRow(oy, jy), 0, 0));
        }
        VecArgmax.indices(in, rowAt, p.rowFirst[oy], p.rowEnd[oy], kw, offsets, p.colStart, p.colFirst, p.colEnd,
                p.dw, c, dst, idx, Math.toIntExact(p.out.offset(n, oy, 0, 0)),
                form.base(n) + p.rowStart[oy] * form.dy(), form.dx(), form.dc(), s.ints(1, 1, c)[0]);
    }

    /** Output row (n, oy): values (as raw bits) into {@code dst}, indices into {@code idx}. */
    void row(IntBuffer bits, IntBuffer dst, LongBuffer idx, int n, int oy, Scratch s) {
        int rowLen = p.in.w() * c;
        int width = p.out.w() * c;
        int j0 = p.rowFirst[oy];
        int j1 = p.rowEnd[oy];
        int[][] raw = s.ints(0, p.rows.window(), rowLen);
        int[][] a = s.ints(2, 5, width);
        int[] g = a[0];
        int[] m = a[1];
        int[] off = a[2];
        int[] val = a[3];
        int[] k = a[4];
        for (int jy = j0; jy < j1; jy++) {
            bits.get(Math.toIntExact(p.in.offset(n, p.inputRow(oy, jy), 0, 0)), raw[jy], 0, rowLen);
        }
        for (int b0 = 0; b0 < p.out.w(); b0 += blockOut) {
            int b1 = Math.min(p.out.w(), b0 + blockOut);
            Arrays.fill(m, b0 * c, b1 * c, Integer.MIN_VALUE);
            for (int jy = j0; jy < j1; jy++) {
                for (int jx = 0; jx < kw; jx++) {
                    int from = Math.max(lo[jx], b0);
                    int to = Math.min(hi[jx], b1);
                    if (from < to) {
                        gather(raw[jy], jx, g, from, to);
                        CpuArgmax.take(g, k, m, off, val, offsets[jy * kw + jx], from * c, to * c);
                    }
                }
            }
        }
        int o = Math.toIntExact(p.out.offset(n, oy, 0, 0));
        dst.put(o, val, 0, width);
        long[] ix = s.longs(width);
        long rowBase = form.base(n) + p.rowStart[oy] * form.dy();
        long dc = form.dc();
        for (int ox = 0, i = 0; ox < p.out.w(); ox++) {
            long b = rowBase + p.colStart[ox] * form.dx();
            for (int ch = 0; ch < c; ch++, i++, b += dc) {
                ix[i] = b + off[i];
            }
        }
        idx.put(o, ix, 0, width);
    }

    /** Column tap {@code jx} of output columns [from, to) from a staged row, at their output positions in {@code g}. */
    private void gather(int[] raw, int jx, int[] g, int from, int to) {
        int x0 = p.inputColumn(from, jx) * c;
        int step = p.sw * c;
        if (p.sw == 1) {
            System.arraycopy(raw, x0, g, from * c, (to - from) * c);
        } else if (c >= COPY_MIN_CHANNELS) {
            for (int ox = from, at = x0; ox < to; ox++, at += step) {
                System.arraycopy(raw, at, g, ox * c, c);
            }
        } else {
            for (int ox = from, at = x0; ox < to; ox++, at += step) {
                for (int ch = 0; ch < c; ch++) {
                    g[ox * c + ch] = raw[at + ch];
                }
            }
        }
    }
}
