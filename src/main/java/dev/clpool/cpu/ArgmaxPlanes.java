package dev.clpool.cpu;

import dev.clpool.PoolGeometry;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;

/**
 * Max pooling with indices of one channel (the channels-first planes that the N-D lowering views
 * as (N·C, H, W, 1)) in one pass per tap ({@link CpuArgmax#take}), over bands of output rows that
 * may span several planes (SegNet's 45×60 planes are a few hundred outputs each).
 *
 * <p>The band's input is staged once, split by phase: input row {@code y} and column {@code x}
 * go to phase plane {@code ((y − y0) mod sh, (x − x0) mod sw)} at row {@code (y − y0) / sh} and
 * column {@code (x − x0) / sw}, where (y0, x0) is a plane's first window's corner (−∞ where that
 * is padding). In a phase plane, tap (jy, jx) of every output of the band sits at one fixed offset
 * from the output's own position, so a tap's values for the whole band are one
 * {@code System.arraycopy}, and the pass runs over the outputs themselves, not every column
 * position. Splitting is the only strided (scalar) loop, once per staged input element. Before,
 * each tap was gathered output row by output row with a strided loop (C2 does not vectorise a
 * strided load), then every output's tap decoded, and a channels-first max with indices cost about
 * twice its channels-last twin; taking every column position with plain copies and keeping every
 * stride-th did as much work again and was no faster.
 *
 * <p>The planes of a band are laid out one after another with {@link #extraRows} rows of slack
 * each, so that a tap's offset stays the same across planes. −∞ has the smallest key, so padding
 * wins only a window whose inputs are all −∞ and that it leads; where the geometry pads, such
 * results (found by a scan for the −∞ key) take the first tap inside the input instead, as the
 * rule says. The instance holds geometry only and is shared by the backend's threads.
 *
 * <p>Where the Vector API is on, output rows fill a vector and the column stride is 1 or 2
 * ({@link #vectors()}), {@link #vectorBand} runs the band's rows in {@link VecArgmaxPlanes}'
 * lanes instead, from the band's input rows staged ({@link #stage}), with the same bits.
 */
final class ArgmaxPlanes {
    /** Output positions per band: the five arrays of a pass stay within the second-level cache. */
    private static final int BAND_POSITIONS = 4096;

    private final WindowPlan p;
    private final IndexForm form;
    private final int[] offsets;
    private final int kh;
    private final int kw;
    private final int sh;
    private final int sw;
    private final int oh;
    /** Columns of a phase plane's row: the band's positions per output row. */
    private final int pitch;
    /** Phase rows a plane needs beyond its output rows (the taps below an output's row). */
    private final int extraRows;
    /** Per tap number: its phase plane, and its offset in positions from its output's. */
    private final int[] tapPhase;
    private final int[] tapShift;
    /** Which phase rows some tap reads. */
    private final boolean[] rowPhaseUsed;
    private final int rowsPerBand;
    private final int rows;
    private final boolean padded;
    private final boolean vectors;
    /** Windows of one even/odd column pair each, all inside the columns: {@link VecArgmaxPlanes#pairs}. */
    private final boolean pairs;
    /** Windows of three consecutive columns at stride 2, none past the row's end: {@link VecArgmaxPlanes#triples}. */
    private final boolean triples;
    /** The output columns whose windows lie inside the input's columns: [oxLo, oxHi). */
    private final int oxLo;
    private final int oxHi;

    ArgmaxPlanes(WindowPlan p, IndexForm form, int[] offsets) {
        this(p, form, offsets, true);
    }

    /** With {@code vectors} false, the scalar band even where the Vector API is on (the tests compare the two). */
    ArgmaxPlanes(WindowPlan p, IndexForm form, int[] offsets, boolean vectors) {
        this.p = p;
        this.form = form;
        this.offsets = offsets;
        kh = p.rows.window();
        kw = p.cols.window();
        sh = p.rows.stride();
        sw = p.sw;
        oh = p.out.h();
        int extentW = (p.out.w() - 1) * sw + (kw - 1) * p.dw + 1;
        pitch = (extentW + sw - 1) / sw;
        extraRows = (kh - 1) * p.dh / sh;
        tapPhase = new int[kh * kw];
        tapShift = new int[kh * kw];
        rowPhaseUsed = new boolean[sh];
        for (int t = 0; t < kh * kw; t++) {
            int dy = t / kw * p.dh;
            int dx = t % kw * p.dw;
            tapPhase[t] = dy % sh * sw + dx % sw;
            tapShift[t] = dy / sh * pitch + dx / sw;
            rowPhaseUsed[dy % sh] = true;
        }
        rows = p.out.n() * oh;
        // Each plane of a band adds extraRows rows of slack: a tall window over short planes must
        // not make a band of thousands of slack rows.
        double perRow = 1 + (double) extraRows / oh;
        rowsPerBand = (int) Math.max(1, Math.min(rows, (BAND_POSITIONS / pitch - extraRows) / perRow));
        boolean pads = false;
        for (int o = 0; o < oh; o++) {
            pads |= p.rowFirst[o] > 0 || p.rowEnd[o] < kh;
        }
        for (int o = 0; o < p.out.w(); o++) {
            pads |= p.colFirst[o] > 0 || p.colEnd[o] < kw;
        }
        padded = pads;
        this.vectors = vectors && VectorSupport.fitsRow(p.out.w()) && VecArgmaxPlanes.handles(sw);
        int lo = p.out.w();
        int hi = 0;
        for (int o = 0; o < p.out.w(); o++) {
            if (p.colFirst[o] == 0 && p.colEnd[o] == kw) {
                lo = Math.min(lo, o);
                hi = o + 1;
            }
        }
        oxLo = Math.min(lo, hi);
        oxHi = hi;
        pairs = this.vectors && sw == 2 && kw == 2 && p.dw == 1 && oxLo == 0 && oxHi == p.out.w();
        triples = this.vectors && sw == 2 && kw == 3 && p.dw == 1 && oxHi == p.out.w()
                && (p.colStart[0] == 0 || p.colStart[0] == -1 && oxLo == 1);
    }

    /**
     * Whether max with indices of this geometry runs here, a channel's planes in flat passes: one
     * channel, and windows that do not overhang their outputs by much ({@link WindowPlan#flatPays});
     * else its rows run output by output ({@link ArgmaxRows}).
     */
    static boolean applies(PoolGeometry g) {
        return g.input().c() == 1 && WindowPlan.flatPays(g);
    }

    /** Whether {@link #vectorBand} runs this geometry. */
    boolean vectors() {
        return vectors;
    }

    /** Whether {@link #vectorBand} runs it as three-column windows read from the tensor ({@link VecArgmaxPlanes#triples}). */
    boolean triples() {
        return triples;
    }

    /** Whether {@link #vectorBand} runs it as even/odd column pairs ({@link VecArgmaxPlanes#pairs}). */
    boolean pairs() {
        return pairs;
    }

    /**
     * Band {@code b} in {@link VecArgmaxPlanes}' lanes, from and into the tensors' bytes: the
     * outputs' values (their own bits) and indices, output row by output row.
     */
    void vectorBand(IntBuffer in, ByteBuffer bytes, ByteBuffer out, ByteBuffer idx, int b, Scratch s) {
        int q0 = b * rowsPerBand;
        int q1 = Math.min(rows, q0 + rowsPerBand);
        if (pairs) {
            pairBand(bytes, out, idx, q0, q1, s);
            return;
        }
        if (triples) {
            tripleBand(bytes, out, idx, q0, q1, s);
            return;
        }
        stagedBand(in, out, idx, q0, q1, s);
    }

    /** {@link #vectorBand}'s output rows [q0, q1) from their input rows staged ({@link #stage}). */
    private void stagedBand(IntBuffer in, ByteBuffer out, ByteBuffer idx, int q0, int q1, Scratch s) {
        int[][] list = s.ints(0, 6, kh * kw);
        int from = firstStaged(p, q0);
        int len = endStaged(p, q1 - 1) - from;
        int[] stage = stage(p, in, from, len, 1, s);
        int ow = p.out.w();
        // Lists 0-2: the taps of rows whose windows lie inside the input's rows, listed once; 3-5: the others'.
        int whole = -1;
        for (int q = q0; q < q1; q++) {
            int n = q / oh;
            int oy = q % oh;
            int at = wholeRows(p, oy) ? 0 : 3;
            int taps = at == 0 && whole >= 0 ? whole : listTaps(p, oy, list, at, offsets);
            whole = at == 0 ? taps : whole;
            long base = form.base(n) + p.rowStart[oy] * form.dy() + p.colStart[0] * form.dx();
            VecArgmaxPlanes.indices(stage, list[at], list[at + 1], list[at + 2], taps,
                    stagedShift(p, n, oy, from / p.in.w()), sw, p.in.w(), ow, oxLo, oxHi, out, idx, q * ow,
                    base, sw * form.dx());
        }
    }

    /**
     * {@link #vectorBand} where each window is one even/odd column pair ({@link #pairs}): each output
     * row's window rows inside the input listed, and {@link VecArgmaxPlanes#pairs} reading them from
     * the tensor's bytes {@code in} and splitting the columns in registers. SegNet's 2×2 s2 on 45×60
     * planes spent a third of its time splitting staged rows into stores it then loaded.
     */
    private void pairBand(ByteBuffer in, ByteBuffer out, ByteBuffer idx, int q0, int q1, Scratch s) {
        int ow = p.out.w();
        int[][] list = s.ints(0, 6, kh * kw);
        for (int q = q0; q < q1; q++) {
            int count = listRows(q, 2, list);
            long base = form.base(q / oh) + p.rowStart[q % oh] * form.dy() + p.colStart[0] * form.dx();
            VecArgmaxPlanes.pairs(in, list[0], list[1], count, ow, out, idx, q * ow, base, sw * form.dx());
        }
    }

    /**
     * Output row {@code q}'s window rows inside the input, for {@link #pairBand} and {@link #tripleBand}:
     * each row's first element into {@code list[0]}, the index offsets of its first {@code taps}
     * column taps into {@code list[1]}. Returns how many rows.
     */
    private int listRows(int q, int taps, int[][] list) {
        int iw = p.in.w();
        int n = q / oh;
        int oy = q % oh;
        int count = 0;
        for (int jy = p.rowFirst[oy]; jy < p.rowEnd[oy]; jy++, count++) {
            list[0][count] = (n * p.in.h() + p.rowStart[oy] + jy * p.dh) * iw;
            for (int jx = 0; jx < taps; jx++) {
                list[1][taps * count + jx] = offsets[jy * kw + jx];
            }
        }
        return count;
    }

    /**
     * {@link #vectorBand} where each window is three consecutive columns at stride 2 ({@link #triples}):
     * each output row's window rows inside the input listed, and {@link VecArgmaxPlanes#triples}
     * reading them from the tensor's bytes.
     */
    private void tripleBand(ByteBuffer in, ByteBuffer out, ByteBuffer idx, int q0, int q1, Scratch s) {
        int ow = p.out.w();
        int c0 = p.colStart[0];
        int[][] list = s.ints(0, 6, kh * kw);
        for (int q = q0; q < q1; q++) {
            int count = listRows(q, 3, list);
            long base = form.base(q / oh) + p.rowStart[q % oh] * form.dy() + c0 * form.dx();
            VecArgmaxPlanes.triples(in, list[0], list[1], count, c0, ow, out, idx, q * ow, base, sw * form.dx());
        }
    }

    /**
     * The first input element the windows of output row {@code q} (of all planes' rows, {@code n·oh + oy})
     * read: {@link VecArgmaxPlanes} reads a band's input rows, from it to {@link #endStaged} of the
     * band's last output row, from a heap array ({@link #stage}; one bulk copy a band at column
     * stride 1: one copy per window row was no faster on SegNet's 60-wide rows; loads straight from
     * the direct buffer, each with its checks, made the stem's indices about 15% slower).
     */
    static int firstStaged(WindowPlan p, int q) {
        int oy = q % p.out.h();
        return Math.toIntExact(p.in.offset(q / p.out.h(), p.inputRow(oy, p.rowFirst[oy]), 0, 0));
    }

    /** One past the last input element the windows of output row {@code q} read ({@link #firstStaged}). */
    static int endStaged(WindowPlan p, int q) {
        int oy = q % p.out.h();
        return Math.toIntExact(p.in.offset(q / p.out.h(), p.inputRow(oy, p.rowEnd[oy] - 1), 0, 0)) + p.in.w();
    }

    /**
     * −∞ slots a staged input row ({@link VecArgmaxPlanes#stage}) keeps before its columns, between
     * its two phases at column stride 2, and after them: as many as the windows reach past the
     * input's columns on either side (at stride 2, half as many, rounded up), so that every tap of
     * every output column is a staged element and output rows run in vectors to their ends.
     */
    static int padSlots(WindowPlan p) {
        int ow = p.out.w();
        int left = Math.max(0, -p.colStart[0]);
        int right = Math.max(0, p.colStart[ow - 1] + (p.cols.window() - 1) * p.dw - (p.in.w() - 1));
        int reach = Math.max(left, right);
        return p.sw == 2 ? (reach + 1) / 2 : reach;
    }

    /**
     * Ints a staged input row takes ({@link VecArgmaxPlanes#stage}): the row between {@link #padSlots}
     * −∞ each side, or at column stride 2 its even columns, then its odd ones, each phase
     * {@code (iw + 1) / 2} ints and the −∞ slots before, between and after them, so that output
     * column ox's tap reads staged element {@code tapAt + ox} at either stride ({@link #stagedColumn}).
     */
    static int stagedPitch(WindowPlan p) {
        int pad = padSlots(p);
        return p.sw == 2 ? 2 * ((p.in.w() + 1) / 2) + 3 * pad : p.in.w() + 2 * pad;
    }

    /**
     * Where input column {@code c} (negative or past the row in the padding) lies in a staged row
     * with {@code pad} {@link #padSlots}.
     */
    static int stagedColumn(WindowPlan p, int pad, int c) {
        int odd = p.sw - 1;
        return pad + (c & odd) * ((p.in.w() + 1) / 2 + pad) + (c >> odd);
    }

    /** Ints of the input elements [from, from + len) (whole rows) staged ({@link #stage}). */
    static int stagedLength(WindowPlan p, int len) {
        return len / p.in.w() * stagedPitch(p);
    }

    /**
     * The input elements [from, from + len) (whole rows, {@link #firstStaged} to {@link #endStaged})
     * staged by {@link VecArgmaxPlanes#stage} in scratch int array {@code slot} (int array 4 holds a row on the way).
     */
    static int[] stage(WindowPlan p, IntBuffer in, int from, int len, int slot, Scratch s) {
        int[] stage = s.ints(slot, 1, Math.max(1, stagedLength(p, len)))[0];
        int[] row = s.ints(4, 1, p.in.w())[0];
        VecArgmaxPlanes.stage(in, from, len / p.in.w(), p.in.w(), p.sw, padSlots(p), stagedPitch(p), row, stage);
        return stage;
    }

    /**
     * Output row oy's taps inside the input, in scan order, for {@link VecArgmaxPlanes} over input
     * staged by {@link #stage}, into {@code list[at..at + 3]}: the staged element of output column 0's
     * tap less {@link #stagedShift} ({@code list[at]}), its input column ({@code list[at + 1]}) and
     * {@code values[jy·kw + jx]} ({@code list[at + 2]}). Returns how many. Every output row whose
     * window rows all lie inside the input ({@link #wholeRows}) lists the same taps.
     */
    static int listTaps(WindowPlan p, int oy, int[][] list, int at, int[] values) {
        int kw = p.cols.window();
        int pitch = stagedPitch(p);
        int pad = padSlots(p);
        int k = 0;
        for (int jy = p.rowFirst[oy]; jy < p.rowEnd[oy]; jy++) {
            int row = jy * p.dh * pitch;
            for (int jx = 0; jx < kw; jx++, k++) {
                int c = p.colStart[0] + jx * p.dw;
                list[at + 1][k] = c;
                list[at][k] = row + stagedColumn(p, pad, c);
                list[at + 2][k] = values[jy * kw + jx];
            }
        }
        return k;
    }

    /** Whether every window row of output row {@code oy} lies inside the input (its taps are the first such row's). */
    static boolean wholeRows(WindowPlan p, int oy) {
        return p.rowFirst[oy] == 0 && p.rowEnd[oy] == p.rows.window();
    }

    /**
     * Where output row (n, oy)'s taps listed by {@link #listTaps} lie in input staged from row
     * {@code fromRow} of the planes' rows (one channel, planes one after another: input row (n, y)
     * is row n·H + y).
     */
    static int stagedShift(WindowPlan p, int n, int oy, int fromRow) {
        return (n * p.in.h() + p.rowStart[oy] - fromRow) * stagedPitch(p);
    }

    /** Bands of output rows, all planes together. */
    int bands() {
        return (rows + rowsPerBand - 1) / rowsPerBand;
    }

    /** Band {@code b}: values (as raw bits) into {@code dst}, indices into {@code idx}. */
    void band(IntBuffer bits, IntBuffer dst, LongBuffer idx, int b, Scratch s) {
        int q0 = b * rowsPerBand;
        int q1 = Math.min(rows, q0 + rowsPerBand);
        int planes = (q1 - 1) / oh - q0 / oh + 1;
        int len = ((q1 - q0) + planes * extraRows) * pitch;
        int[][] phases = s.ints(0, sh * sw, len);
        stage(bits, q0, q1, phases, s.ints(1, 1, pitch * sw)[0]);
        int[][] a = s.ints(2, 5, len);
        int[] g = a[0];
        int[] m = a[1];
        int[] off = a[2];
        int[] val = a[3];
        int[] k = a[4];
        Arrays.fill(m, 0, len, Integer.MIN_VALUE);
        for (int t = 0; t < kh * kw; t++) {
            int shift = tapShift[t];
            // The last positions of g keep an earlier tap's values: no output's position reads them.
            System.arraycopy(phases[tapPhase[t]], shift, g, 0, len - shift);
            CpuArgmax.take(g, k, m, off, val, offsets[t], 0, len);
        }
        if (padded && holdsNegativeInfinityKey(m, len)) {
            firstInsideWhereNegativeInfinity(m, off, q0, q1);
        }
        write(dst, idx, q0, q1, off, val, s);
    }

    /** Position of output row {@code q}'s first output in a band starting at row {@code q0}. */
    private int at(int q0, int q) {
        return ((q - q0) + (q / oh - q0 / oh) * extraRows) * pitch;
    }

    /** The band's input, split into phase planes, −∞ outside the input. */
    private void stage(IntBuffer bits, int q0, int q1, int[][] phases, int[] row) {
        int w = p.in.w();
        int x0 = p.colStart[0];
        int lo = Math.max(0, -x0);
        int hi = Math.min(pitch * sw, w - x0);
        for (int n = q0 / oh, last = (q1 - 1) / oh; n <= last; n++) {
            int first = Math.max(q0, n * oh);
            int end = Math.min(q1, (n + 1) * oh);
            int base = at(q0, first);
            for (int r = 0, count = end - first + extraRows; r < count; r++) {
                for (int rp = 0; rp < sh; rp++) {
                    if (!rowPhaseUsed[rp]) {
                        continue;
                    }
                    int y = p.rowStart[first - n * oh] + r * sh + rp;
                    int at = base + r * pitch;
                    if (y < 0 || y >= p.in.h() || hi <= lo) {
                        for (int ph = 0; ph < sw; ph++) {
                            Arrays.fill(phases[rp * sw + ph], at, at + pitch, CpuArgmax.NEGATIVE_INFINITY);
                        }
                        continue;
                    }
                    int from = Math.toIntExact(p.in.offset(n, y, x0 + lo, 0));
                    if (sw == 1) {
                        int[] to = phases[rp];
                        Arrays.fill(to, at, at + lo, CpuArgmax.NEGATIVE_INFINITY);
                        Arrays.fill(to, at + hi, at + pitch, CpuArgmax.NEGATIVE_INFINITY);
                        bits.get(from, to, at + lo, hi - lo);
                        continue;
                    }
                    Arrays.fill(row, 0, lo, CpuArgmax.NEGATIVE_INFINITY);
                    Arrays.fill(row, hi, pitch * sw, CpuArgmax.NEGATIVE_INFINITY);
                    bits.get(from, row, lo, hi - lo);
                    split(row, phases, rp * sw, at);
                }
            }
        }
    }

    /** A staged row's columns into the phase planes from {@code first}, at {@code at} (a stride of 2 unrolled). */
    private void split(int[] row, int[][] phases, int first, int at) {
        if (sw == 2) {
            int[] even = phases[first];
            int[] odd = phases[first + 1];
            for (int x = 0; x < pitch; x++) {
                even[at + x] = row[2 * x];
                odd[at + x] = row[2 * x + 1];
            }
            return;
        }
        for (int ph = 0; ph < sw; ph++) {
            int[] to = phases[first + ph];
            for (int x = 0, i = ph; x < pitch; x++, i += sw) {
                to[at + x] = row[i];
            }
        }
    }

    /** The outputs' values and indices, into rows [q0, q1) of the outputs. */
    private void write(IntBuffer dst, LongBuffer idx, int q0, int q1, int[] off, int[] val, Scratch s) {
        int ow = p.out.w();
        int count = (q1 - q0) * ow;
        long[] ix = s.longs(rowsPerBand * ow);
        // Where a band's positions are its outputs (no slack columns or rows), values go out as they are.
        boolean packed = pitch == ow && extraRows == 0;
        int[] v = packed ? val : s.ints(4, 1, rowsPerBand * ow)[0];
        long stepX = sw * form.dx();
        for (int q = q0, i = 0; q < q1; q++) {
            int oy = q % oh;
            long base = form.base(q / oh) + p.rowStart[oy] * form.dy() + p.colStart[0] * form.dx();
            int j = at(q0, q);
            if (!packed) {
                System.arraycopy(val, j, v, i, ow);
            }
            for (int ox = 0; ox < ow; ox++) {
                ix[i + ox] = base + ox * stepX + off[j + ox];
            }
            i += ow;
        }
        int o = Math.toIntExact((long) q0 * ow);
        dst.put(o, v, 0, count);
        idx.put(o, ix, 0, count);
    }

    /** Whether some {@code m[i]} is the key of −∞ (an or-reduction, no branch per element). */
    private static boolean holdsNegativeInfinityKey(int[] m, int len) {
        int any = 0;
        for (int i = 0; i < len; i++) {
            int d = m[i] ^ CpuArgmax.NEGATIVE_INFINITY_KEY;
            any |= ~((d | -d) >> 31);
        }
        return any != 0;
    }

    /** Windows whose maximum is −∞ (every input −∞): the offset of their first tap inside the input. */
    private void firstInsideWhereNegativeInfinity(int[] m, int[] off, int q0, int q1) {
        for (int q = q0; q < q1; q++) {
            int oy = q % oh;
            for (int ox = 0, j = at(q0, q); ox < p.out.w(); ox++, j++) {
                if (m[j] != CpuArgmax.NEGATIVE_INFINITY_KEY) {
                    continue;
                }
                for (int t = 0; t < kh * kw; t++) {
                    int y = p.inputRow(oy, t / kw);
                    int x = p.inputColumn(ox, t % kw);
                    if (y >= 0 && y < p.in.h() && x >= 0 && x < p.in.w()) {
                        off[j] = offsets[t];
                        break;
                    }
                }
            }
        }
    }
}
