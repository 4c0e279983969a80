package dev.clpool.cpu;

import java.nio.IntBuffer;
import java.util.Arrays;

/**
 * {@link CpuArgmax} for one channel (C == 1: the channels-first planes that the N-D lowering hands
 * the channels-last routines as batch {@code N*C}), over a band of output rows of one plane at a
 * time. The rule and its keys are {@link CpuArgmax}'s, so the chosen taps are the same, bit for
 * bit; what changes is the loop shape. With one channel, {@link CpuArgmax} copies one element per
 * output column and tap and runs its vector loops over one output row (tens of elements), so a
 * channels-first max with indices cost four times its channels-last twin. Here the band's input
 * rows are keyed once into rows of a fixed pitch with {@link Integer#MIN_VALUE} (which no key
 * equals) in the padding columns and rows, so every tap of every window is in range; each tap's
 * keys for the whole band are gathered into an array of their own (a plain strided loop) and the
 * two integer passes (maximum, then first match in scan order) run over the band, thousands of
 * elements long.
 *
 * <p>Tap numbers are {@link CpuArgmax}'s ({@code jy*kw + jx}, padding taps included), so callers
 * decode them as before. The instance holds geometry only and is shared by the backend's threads.
 */
final class PlaneArgmax {
    /** Output elements per band: bounds the kept taps (taps × band ints) and the staged rows. */
    private static final int BAND_OUTPUTS = 4096;
    /** Ints of staged input a band may take (beyond one output row's window rows). */
    private static final long STAGED_INTS = 1 << 16;
    /** Ints of gathered taps kept between the two passes (beyond it they are gathered twice). */
    private static final long KEEP_INTS = 1 << 18;

    private final WindowPlan p;
    private final int kh;
    private final int kw;
    private final int taps;
    private final int sw;
    /** Length of a staged row: the leading padding, the input row, and whatever the last window overhangs. */
    private final int pitch;
    private final int padLeft;
    private final int bandRows;
    private final int bands;
    /** Per tap number: its offset in staged rows from its window's tap 0, and its row and column offsets in the input. */
    private final int[] tapStaged;
    private final int[] tapDy;
    private final int[] tapDx;

    PlaneArgmax(CpuArgmax argmax) {
        p = argmax.plan();
        kh = p.rows.window();
        kw = p.cols.window();
        taps = kh * kw;
        sw = p.sw;
        int ow = p.out.w();
        padLeft = -p.colStart[0];
        pitch = Math.max(padLeft + p.in.w(), (ow - 1) * sw + (kw - 1) * p.dw + 1);
        // Few outputs per row (a window as wide as the input) must not stage thousands of input rows.
        long perRow = (long) pitch * p.rows.stride();
        bandRows = (int) Math.max(1, Math.min(p.out.h(), Math.min(BAND_OUTPUTS / ow, STAGED_INTS / perRow)));
        bands = (p.out.h() + bandRows - 1) / bandRows;
        tapStaged = new int[taps];
        tapDy = new int[taps];
        tapDx = new int[taps];
        for (int t = 0; t < taps; t++) {
            tapDy[t] = t / kw * p.dh;
            tapDx[t] = argmax.tapOffset(t);
            tapStaged[t] = tapDy[t] * pitch + tapDx[t];
        }
    }

    /** Bands of output rows per plane. */
    int bands() {
        return bands;
    }

    /** First output row of band {@code b}. */
    int bandStart(int b) {
        return b * bandRows;
    }

    /** One past the last output row of band {@code b}. */
    int bandEnd(int b) {
        return Math.min(p.out.h(), (b + 1) * bandRows);
    }

    /** Output elements of the largest band. */
    int maxBand() {
        return bandRows * p.out.w();
    }

    /**
     * The staged input of a band and, per output element {@code i = (oy - from)*ow + ox}, its
     * chosen tap number.
     *
     * @param raw   staged raw bits, {@code pitch} per row, row 0 being input row {@code yBase}
     * @param tap   chosen tap numbers
     * @param yBase input row of staged row 0 (negative in the leading padding)
     */
    record Band(int[] raw, int[] tap, int yBase) {
    }

    /** Finds the chosen taps of output rows [from, to) of plane {@code n}. */
    Band run(IntBuffer bits, int n, int from, int to, Scratch s) {
        int ow = p.out.w();
        int w = p.in.w();
        int yBase = p.rowStart[from];
        int rows = p.rowStart[to - 1] + (kh - 1) * p.dh + 1 - yBase;
        int[] raw = s.ints(0, 1, rows * pitch)[0];
        int[] key = s.ints(1, 1, rows * pitch)[0];
        for (int r = 0; r < rows; r++) {
            int y = yBase + r;
            int at = r * pitch;
            if (y < 0 || y >= p.in.h()) {
                Arrays.fill(key, at, at + pitch, Integer.MIN_VALUE);
                continue;
            }
            Arrays.fill(key, at, at + padLeft, Integer.MIN_VALUE);
            Arrays.fill(key, at + padLeft + w, at + pitch, Integer.MIN_VALUE);
            bits.get(Math.toIntExact(p.in.offset(n, y, 0, 0)), raw, at + padLeft, w);
            CpuArgmax.keys(raw, key, at + padLeft, w);
        }
        int len = (to - from) * ow;
        boolean keep = (long) taps * len <= KEEP_INTS;
        int[][] gathered = s.ints(2, keep ? taps : 1, len);
        int[] m = s.ints(3, 1, len)[0];
        int[] tap = s.ints(4, 1, len)[0];
        Arrays.fill(m, 0, len, Integer.MIN_VALUE);
        for (int t = 0; t < taps; t++) {
            int[] g = gathered[keep ? t : 0];
            gather(key, from, to, yBase, t, g);
            CpuArgmax.fold(m, g, len);
        }
        for (int t = taps - 1; t >= 0; t--) {
            int[] g = gathered[keep ? t : 0];
            if (!keep) {
                gather(key, from, to, yBase, t, g);
            }
            CpuArgmax.select(tap, g, m, t, len);
        }
        return new Band(raw, tap, yBase);
    }

    /** Position in a band's staged rows of tap {@code t} of output (oy, ox). */
    int staged(Band b, int oy, int ox, int t) {
        return (p.rowStart[oy] - b.yBase()) * pitch + ox * sw + tapStaged[t];
    }

    /** Input row of tap {@code t} of output row {@code oy}. */
    int tapRow(int oy, int t) {
        return p.rowStart[oy] + tapDy[t];
    }

    /** Input column of tap {@code t} of output column {@code ox}. */
    int tapColumn(int ox, int t) {
        return p.colStart[ox] + tapDx[t];
    }

    /** Tap {@code t}'s keys for every output of rows [from, to), in output order. */
    private void gather(int[] key, int from, int to, int yBase, int t, int[] g) {
        int ow = p.out.w();
        for (int oy = from, i = 0; oy < to; oy++, i += ow) {
            int at = (p.rowStart[oy] - yBase) * pitch + tapStaged[t];
            if (sw == 1) {
                System.arraycopy(key, at, g, i, ow);
            } else {
                for (int ox = 0; ox < ow; ox++) {
                    g[i + ox] = key[at + ox * sw];
                }
            }
        }
    }
}
