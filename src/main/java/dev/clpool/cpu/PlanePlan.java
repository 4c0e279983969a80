package dev.clpool.cpu;

import dev.clpool.Axis;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The geometry shared by the channels-first windowed paths ({@link PlaneMax}, {@link PlaneAvg}):
 * spatial rank 1–3 normalised to three axes (depth, height, width; a missing axis is one position
 * with a one-tap window), and the bands of output rows a task computes together.
 *
 * <p>A channels-first tensor is {@code planes} contiguous planes (or volumes), each row of W floats
 * contiguous, so the paths reduce along W with unit-stride loops, the opposite of the channels-last
 * path, whose loops run over C. A band is up to {@link #BAND_FLOATS} floats of output rows of one
 * plane and one output depth. It is computed in two separable passes, each a few long flat loops
 * over the whole band rather than many short ones per row (rows of a 56-wide plane are seven
 * AVX2 vectors, too short to amortise a loop's set-up):
 * <ol>
 * <li>vertical: for each (depth, row) tap of the window, the band's input rows are staged into a
 * heap array, one row per {@link #pitch} floats at column offset {@code padBegin}, and folded into
 * the band's accumulator element by element; the columns outside the input, and rows outside it,
 * hold the reduction's neutral value (−∞ for max, 0 for sums), so padding never changes a result;
 * </li>
 * <li>horizontal: for each column tap, the accumulator shifted by the tap's offset is copied into
 * an array of its own (C2 vectorises a loop only when every array has the same index expression)
 * and folded, giving the window at every column position; output column {@code ox} is then
 * position {@code ox*stride}, gathered into the band's output.</li>
 * </ol>
 */
final class PlanePlan {
    /** Floats of one band's accumulator (bounds the rows of a band). */
    static final int BAND_FLOATS = 1 << 12;

    final int planes;
    final Axis d;
    final Axis h;
    final Axis w;
    /** Floats of one input plane (D*H*W) and one output plane. */
    final long inPlane;
    final long outPlane;
    /** Floats per staged row: the padded input row, long enough for every column tap of every output. */
    final int pitch;
    /** Output rows per band. */
    final int bandRows;
    /** The last column tap's offset into a staged row from its output's first tap, {@code (kw-1)*dw}. */
    final int maxShift;
    /** Per output row: the first input row its window reads inside the input, and how many it reads. */
    private final int[] yFirst;
    private final int[] yTaps;

    PlanePlan(int planes, Axis[] axes) {
        if (axes.length < 1 || axes.length > 3) {
            throw new IllegalArgumentException("spatial rank must be 1, 2 or 3, got " + axes.length);
        }
        if (planes < 1) {
            throw new IllegalArgumentException("planes must be >= 1, got " + planes);
        }
        Axis one = new Axis(1, 1, 1, 1, 1, 0, 0);
        this.planes = planes;
        d = axes.length == 3 ? axes[0] : one;
        h = axes.length >= 2 ? axes[axes.length - 2] : one;
        w = axes[axes.length - 1];
        for (Axis a : new Axis[] {d, h, w}) {
            if (a.out() < 1 || a.in() < 1 || a.window() < 1 || a.stride() < 1 || a.dilation() < 1) {
                throw new IllegalArgumentException("not a valid pooling axis: " + a);
            }
        }
        inPlane = (long) d.in() * h.in() * w.in();
        outPlane = (long) d.out() * h.out() * w.out();
        maxShift = (w.window() - 1) * w.dilation();
        long need = Math.max((long) w.padBegin() + w.in(), (long) (w.out() - 1) * w.stride() + maxShift + 1);
        pitch = Math.toIntExact(need);
        bandRows = Math.max(1, Math.min(h.out(), BAND_FLOATS / pitch));
        yFirst = new int[h.out()];
        yTaps = new int[h.out()];
        for (int oy = 0; oy < h.out(); oy++) {
            yFirst[oy] = (int) h.start(oy) + h.firstTap(oy) * h.dilation();
            yTaps[oy] = h.endTap(oy) - h.firstTap(oy);
        }
    }

    /** Bands of one plane's output depth. */
    private int bandsPerSlab() {
        return (h.out() + bandRows - 1) / bandRows;
    }

    /** The units of work: bands of all planes, {@code planes * OD * ceil(OH / bandRows)}. */
    int bands() {
        return Math.toIntExact((long) planes * d.out() * bandsPerSlab());
    }

    /** Band slots of one plane: {@code OD * ceil(OH / bandRows)}, the same for every plane. */
    int slots() {
        return d.out() * bandsPerSlab();
    }

    /** The slot of the band that starts at output row {@code oy0} of depth {@code oz}. */
    int slot(int oz, int oy0) {
        return oz * bandsPerSlab() + oy0 / bandRows;
    }

    /** Work units of one band, for the decision to run small problems on one thread. */
    long workPerBand() {
        return (long) bandRows * pitch * (d.window() * h.window() + w.window());
    }

    /** Output rows {@code [oy0, oy1)} of plane {@code plane} at output depth {@code oz}. */
    @FunctionalInterface
    interface Band {
        void run(int plane, int oz, int oy0, int oy1);
    }

    /**
     * Runs bands {@code [from, to)}. Band {@code b} is output rows {@code [k*bandRows, (k+1)*bandRows)}
     * (clipped) of slab {@code b / bandsPerSlab} (plane × output depth), {@code k = b % bandsPerSlab}:
     * the same rows however the bands are split among threads, so a result never depends on the
     * split (an average's certificate, and so whether it falls back to double, depends on the
     * padding rows its band adds).
     */
    void bands(int from, int to, Band body) {
        int per = bandsPerSlab();
        for (int b = from; b < to; b++) {
            int slab = b / per;
            int oy0 = (b % per) * bandRows;
            body.run(slab / d.out(), slab % d.out(), oy0, Math.min(h.out(), oy0 + bandRows));
        }
    }

    /** Offset of input row (z, y) of plane {@code plane}. */
    int inputRow(int plane, int z, int y) {
        return Math.toIntExact(plane * inPlane + ((long) z * h.in() + y) * w.in());
    }

    /** Offset of output row (oz, oy) of plane {@code plane}. */
    int outputRow(int plane, int oz, int oy) {
        return Math.toIntExact(plane * outPlane + ((long) oz * h.out() + oy) * w.out());
    }

    /**
     * Fills a band-sized staging array with {@code pad}. Staging writes only the input columns (and
     * whole rows of {@code pad} for rows outside the input), so every padding column keeps it for
     * all the bands a task runs: one fill per task, where two per row cost more than the stores
     * (a band's rows are short).
     */
    void padColumns(float[] a, float pad) {
        Arrays.fill(a, 0, bandRows * pitch, pad);
    }

    /**
     * Stages the input rows of tap (jz, jy) of output rows {@code [oy0, oy1)} into {@code to}
     * (padding columns already filled); a row outside the input is filled with {@code pad}.
     */
    void stage(FloatBuffer src, int plane, int oz, int jz, int jy, int oy0, int oy1, float[] to, float pad) {
        int z = (int) d.start(oz) + jz * d.dilation();
        for (int oy = oy0; oy < oy1; oy++) {
            int y = (int) h.start(oy) + jy * h.dilation();
            int at = (oy - oy0) * pitch;
            if (y < 0 || y >= h.in()) {
                Arrays.fill(to, at, at + pitch, pad);
            } else {
                src.get(inputRow(plane, z, y), to, at + w.padBegin(), w.in());
            }
        }
    }

    /**
     * The first input row that output rows {@code [oy0, oy1)} read (inside the input): with
     * dilation, a later row's first tap inside the input can lie above an earlier row's.
     */
    int firstRow(int oy0, int oy1) {
        int y = Integer.MAX_VALUE;
        for (int oy = oy0; oy < oy1; oy++) {
            y = Math.min(y, yFirst[oy]);
        }
        return y;
    }

    /** Input rows from {@link #firstRow} to the last row that output rows {@code [oy0, oy1)} read. */
    int blockRows(int oy0, int oy1) {
        int last = 0;
        for (int oy = oy0; oy < oy1; oy++) {
            last = Math.max(last, yFirst[oy] + (yTaps[oy] - 1) * h.dilation());
        }
        return last + 1 - firstRow(oy0, oy1);
    }

    /** Floats that {@link #stageBlocks} writes for output rows {@code [oy0, oy1)} at depth {@code oz}. */
    int stagedLength(int oz, int oy0, int oy1) {
        return (d.endTap(oz) - d.firstTap(oz)) * blockRows(oy0, oy1) * w.in();
    }

    /** Floats that {@link #stageBlocks} writes at most for a band. */
    int stagedFloats() {
        long rows = Math.min(h.in(), (long) (bandRows - 1) * h.stride() + (long) (h.window() - 1) * h.dilation() + 1);
        return Math.toIntExact(d.window() * rows * w.in());
    }

    /** One band row's vertical pass: the {@code n} input rows at {@code in[rows[k]]} into a band row at {@code at}. */
    @FunctionalInterface
    interface Down {
        void row(int[] rows, int n, int at);
    }

    /**
     * The vertical pass of a band of {@code n} rows in one call where there is one depth tap: band
     * row r's input rows start at {@code in[rows[r]]}, {@code rows[bandRows + r]} of them,
     * {@code step} floats apart.
     */
    @FunctionalInterface
    interface DownBand {
        void rows(int[] rows, int n, int step);
    }

    /** Ints that {@link #down} needs in {@code rows}. */
    int downInts() {
        return Math.max(d.window() * h.window(), 2 * bandRows);
    }

    /**
     * The vertical pass of output rows {@code [oy0, oy1)} at depth {@code oz} of plane
     * {@code plane}: their input rows staged into {@code in} ({@link #stageBlocks}), then
     * {@code down} for each, its band row at {@code (oy - oy0) * pitch + padBegin} ({@code rows}
     * holds a window's rows), or, with one depth tap and {@code band} given, {@code band} once
     * ({@code rows} holds {@link #downInts}).
     */
    void down(FloatBuffer src, int plane, int oz, int oy0, int oy1, float[] in, int[] rows, Down down, DownBand band) {
        int block = stageBlocks(src, plane, oz, oy0, oy1, in);
        int zTaps = d.endTap(oz) - d.firstTap(oz);
        int y0 = firstRow(oy0, oy1);
        if (zTaps == 1 && band != null) {
            for (int oy = oy0; oy < oy1; oy++) {
                rows[oy - oy0] = (yFirst[oy] - y0) * w.in();
                rows[bandRows + oy - oy0] = yTaps[oy];
            }
            band.rows(rows, oy1 - oy0, h.dilation() * w.in());
            return;
        }
        for (int oy = oy0; oy < oy1; oy++) {
            down.row(rows, rowTaps(zTaps, y0, oy, block, rows), (oy - oy0) * pitch + w.padBegin());
        }
    }

    /**
     * {@link #down} reading the tensor itself, nothing staged: {@code rows} receive float offsets of
     * input rows in the tensor ({@code band} runs where there is one depth tap, {@link #rowStarts}).
     */
    void downInTensor(int plane, int oz, int oy0, int oy1, int[] rows, Down down, DownBand band) {
        int zTaps = d.endTap(oz) - d.firstTap(oz);
        if (zTaps == 1) {
            band.rows(rows, oy1 - oy0, rowStarts(plane, oz, oy0, oy1, rows));
            return;
        }
        for (int oy = oy0; oy < oy1; oy++) {
            int k = 0;
            for (int jz = d.firstTap(oz); jz < d.endTap(oz); jz++) {
                int z = (int) d.start(oz) + jz * d.dilation();
                for (int j = 0, y = yFirst[oy]; j < yTaps[oy]; j++, y += h.dilation()) {
                    rows[k++] = inputRow(plane, z, y);
                }
            }
            down.row(rows, k, (oy - oy0) * pitch + w.padBegin());
        }
    }

    /**
     * For windows of one depth tap, where output rows {@code [oy0, oy1)} at depth {@code oz} of
     * plane {@code plane} read in the tensor itself: band row r's first input row inside the input
     * (a float offset) into {@code rows[r]}, how many rows it reads into {@code rows[bandRows + r]};
     * returns the floats from one of its rows to the next.
     */
    int rowStarts(int plane, int oz, int oy0, int oy1, int[] rows) {
        int z = (int) d.start(oz) + d.firstTap(oz) * d.dilation();
        for (int oy = oy0; oy < oy1; oy++) {
            rows[oy - oy0] = inputRow(plane, z, yFirst[oy]);
            rows[bandRows + oy - oy0] = yTaps[oy];
        }
        return h.dilation() * w.in();
    }

    /** Whether every window reads one input row (a window of one tap in depth and height). */
    boolean oneRow() {
        return d.window() == 1 && h.window() == 1;
    }

    /**
     * For {@link #oneRow} windows, the vertical pass itself: the input row of each output row of
     * {@code [oy0, oy1)} at depth {@code oz} copied into its band row of {@code to}, at
     * {@code (oy - oy0) * pitch + padBegin}.
     */
    void copyRows(FloatBuffer src, int plane, int oz, int oy0, int oy1, float[] to) {
        for (int oy = oy0; oy < oy1; oy++) {
            src.get(oneRowInput(plane, oz, oy), to, (oy - oy0) * pitch + w.padBegin(), w.in());
        }
    }

    /** For {@link #oneRow} windows, the offset of the input row that output row (oz, oy) of {@code plane} reads. */
    int oneRowInput(int plane, int oz, int oy) {
        return inputRow(plane, (int) d.start(oz), yFirst[oy]);
    }

    /**
     * Copies the input rows that output rows {@code [oy0, oy1)} at depth {@code oz} of plane
     * {@code plane} read into {@code to} with bulk copies: per depth tap inside the input, the
     * {@link #blockRows} rows from {@link #firstRow} (contiguous in a plane), one block after the
     * other. Returns the floats of one block.
     */
    int stageBlocks(FloatBuffer src, int plane, int oz, int oy0, int oy1, float[] to) {
        int y0 = firstRow(oy0, oy1);
        int block = blockRows(oy0, oy1) * w.in();
        for (int jz = d.firstTap(oz); jz < d.endTap(oz); jz++) {
            int z = (int) d.start(oz) + jz * d.dilation();
            src.get(inputRow(plane, z, y0), to, (jz - d.firstTap(oz)) * block, block);
        }
        return block;
    }

    /**
     * Where in {@link #stageBlocks}' copy ({@code zTaps} blocks of {@code block} floats from input
     * row {@code y0}) the input rows of output row oy lie that are inside the input,
     * depth taps outer, into {@code to}; returns their count (at least one: every window covers an
     * input element).
     */
    private int rowTaps(int zTaps, int y0, int oy, int block, int[] to) {
        int k = 0;
        int first = (yFirst[oy] - y0) * w.in();
        int step = h.dilation() * w.in();
        for (int z = 0; z < zTaps; z++) {
            for (int j = 0, at = z * block + first; j < yTaps[oy]; j++, at += step) {
                to[k++] = at;
            }
        }
        return k;
    }

    /** Whether any output row of {@code [oy0, oy1)} has row tap {@code jy} inside the input. */
    boolean rowTapUsed(int jy, int oy0, int oy1) {
        for (int oy = oy0; oy < oy1; oy++) {
            if (jy >= h.firstTap(oy) && jy < h.endTap(oy)) {
                return true;
            }
        }
        return false;
    }

    /** Floats of the column-position results of {@code rows} staged rows (the last row's tail excluded). */
    int positions(int rows) {
        return rows * pitch - maxShift;
    }

    /** Copies output columns (every stride-th position) of {@code rows} rows of {@code full} into {@code out}. */
    void keep(float[] full, float[] out, int rows) {
        int ow = w.out();
        int sw = w.stride();
        for (int r = 0; r < rows; r++) {
            int from = r * pitch;
            int to = r * ow;
            if (sw == 1) {
                System.arraycopy(full, from, out, to, ow);
            } else {
                for (int ox = 0; ox < ow; ox++) {
                    out[to + ox] = full[from + ox * sw];
                }
            }
        }
    }

    /**
     * {@link #keep}, for max: also says whether any kept result is zero or NaN (those the exact
     * rule may give other bits for), with {@link #zeroOrNaN}'s integer test in the copy's own loop.
     * A min(|x|) reduced into a scalar, as the channels-last path checks, is a chain of dependent
     * minima here (one per output, not one per C outputs) and cost more than the pooling itself; the
     * float test {@code !(m > 0 || m < 0)} compiles to branches that follow the sign of the data
     * and, on random data, cost more than the copy (M5 and C3D rows: a quarter of their time).
     */
    boolean keepFlaggingZeros(float[] full, float[] out, int rows) {
        int ow = w.out();
        int sw = w.stride();
        int zeros = 0;
        for (int r = 0; r < rows; r++) {
            for (int ox = 0, from = r * pitch, to = r * ow; ox < ow; ox++, from += sw) {
                float m = full[from];
                out[to + ox] = m;
                zeros |= zeroOrNaN(m);
            }
        }
        return zeros != 0;
    }

    /**
     * 1 if {@code m} is ±0 or a NaN, else 0, without a branch: {@code a} = |m|'s bits is 0 for ±0
     * ({@code a - 1} negative) and above {@code 0x7f800000} (∞) for a NaN ({@code 0x7f800000 - a}
     * negative).
     */
    static int zeroOrNaN(float m) {
        int a = Float.floatToRawIntBits(m) & 0x7fffffff;
        return ((a - 1) | (0x7f800000 - a)) >>> 31;
    }

    /** Offset of column tap {@code jx} into a staged row, relative to its output's first position. */
    int shift(int jx) {
        return jx * w.dilation();
    }

    /** Input offset of element (z, y, x) of plane {@code plane}. */
    int element(int plane, int z, int y, int x) {
        return inputRow(plane, z, y) + x;
    }
}
