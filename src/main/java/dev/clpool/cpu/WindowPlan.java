package dev.clpool.cpu;

import dev.clpool.Axis;
import dev.clpool.PoolGeometry;
import dev.clpool.Shape;
import java.nio.FloatBuffer;

/**
 * The geometry shared by the windowed fast paths ({@link MaxWindows}, {@link AvgWindows}): per-axis
 * tap ranges, the interior columns, and the column blocks that bound scratch memory. It holds no
 * loops over data, so that each reduction's loops live in a class of their own and the JIT compiles
 * them for that reduction's profile alone (when max and average shared their loops, averages ran
 * 1.3–2.5× slower after max pooling had run in the same JVM).
 *
 * <p>Both paths are separable: each input row is first reduced across the column taps of every
 * output column of a block (the "horizontal" pass), the result kept in a small ring so that output
 * rows sharing an input row reduce it once; each output row then folds its window's rows. Input is
 * staged from the direct buffer into heap arrays with bulk copies, because C2 (JDK 17) vectorises
 * heap-array loops only, and only when every array in the loop has the same index expression: each
 * column tap is therefore copied into an array of its own, and ring slots are separate arrays.
 * Interior columns, whose window lies inside the input, are reduced with flat loops at every column
 * position (every stride-th one kept); border columns use the per-column tap ranges.
 */
final class WindowPlan {
    /** Floats of one staged input segment (bounds the column block). */
    private static final int SEGMENT_FLOATS = 1 << 15;
    /** Floats the ring of horizontal results may hold (beyond it, rows of a window are reduced again). */
    private static final int RING_FLOATS = 1 << 17;

    final Shape in;
    final Shape out;
    final int c;
    final Axis rows;
    final Axis cols;
    final int sw;
    final int dw;
    final int dh;
    final int[] rowStart;
    final int[] rowFirst;
    final int[] rowEnd;
    final int[] colStart;
    final int[] colFirst;
    final int[] colEnd;
    /** Output columns [interiorLo, interiorHi) have every tap inside the input. */
    private final int interiorLo;
    private final int interiorHi;
    /** Output columns per block. */
    final int blockOut;

    WindowPlan(PoolGeometry g) {
        in = g.input();
        out = g.output();
        c = in.c();
        rows = g.rows();
        cols = g.cols();
        sw = cols.stride();
        dw = cols.dilation();
        dh = rows.dilation();
        rowStart = starts(rows);
        rowFirst = new int[out.h()];
        rowEnd = new int[out.h()];
        for (int o = 0; o < out.h(); o++) {
            rowFirst[o] = rows.firstTap(o);
            rowEnd[o] = rows.endTap(o);
        }
        colStart = starts(cols);
        colFirst = new int[out.w()];
        colEnd = new int[out.w()];
        int lo = out.w();
        int hi = 0;
        for (int o = 0; o < out.w(); o++) {
            colFirst[o] = cols.firstTap(o);
            colEnd[o] = cols.endTap(o);
            if (colFirst[o] == 0 && colEnd[o] == cols.window()) {
                lo = Math.min(lo, o);
                hi = o + 1;
            }
        }
        interiorLo = lo;
        interiorHi = Math.max(lo, hi);
        blockOut = blockOut(SEGMENT_FLOATS);
    }

    /** Output columns per block such that a staged segment ((block-1)*stride + extent columns) fits in {@code floats}. */
    int blockOut(int floats) {
        long perOut = (long) sw * c;
        long fixed = (long) cols.effectiveWindow() * c;
        return (int) Math.max(1, Math.min(out.w(), (floats - fixed) / Math.max(1, perOut) + 1));
    }

    /** One band of output rows {@code [oy0, oy1)} of batch item n, columns {@code [b0, b1)}. */
    @FunctionalInterface
    interface Band {
        void run(int n, int oy0, int oy1, int b0, int b1);
    }

    /**
     * Splits output rows {@code [from, to)} of all {@code N*OH} into bands within one batch item
     * and blocks of {@code block} output columns, so that {@code arrays} arrays of a band's input
     * rows (block-wide) fit in {@code bandFloats} (for the prefix–suffix paths, which keep a
     * band's rows).
     */
    void bands(int from, int to, int block, int bandFloats, int arrays, Band body) {
        int oh = out.h();
        int sh = rows.stride();
        for (int r = from; r < to; ) {
            int n = r / oh;
            int oy0 = r % oh;
            int oy1 = Math.min(oh, oy0 + (to - r));
            for (int b0 = 0; b0 < out.w(); b0 += block) {
                int b1 = Math.min(out.w(), b0 + block);
                int width = (b1 - b0) * c;
                int perBand = Math.max(1, (bandFloats / (arrays * width) - rows.effectiveWindow()) / sh + 1);
                for (int a = oy0; a < oy1; a += perBand) {
                    body.run(n, a, Math.min(oy1, a + perBand), b0, b1);
                }
            }
            r += oy1 - oy0;
        }
    }

    private static int[] starts(Axis a) {
        int[] s = new int[a.out()];
        for (int o = 0; o < s.length; o++) {
            s[o] = (int) a.start(o);
        }
        return s;
    }

    /** Work units of one output row, for the decision to run small problems on one thread. */
    long workPerRow() {
        return (long) out.w() * c * rows.window() * cols.window();
    }

    /** First input column the windows of block {@code [b0, b1)} touch. */
    int firstColumn(int b0, int b1) {
        int xs = Integer.MAX_VALUE;
        for (int o = b0; o < b1; o++) {
            if (colEnd[o] > colFirst[o]) {
                xs = Math.min(xs, colStart[o] + colFirst[o] * dw);
            }
        }
        return xs;
    }

    /** One past the last input column the windows of block {@code [b0, b1)} touch. */
    int endColumn(int b0, int b1) {
        int xe = 0;
        for (int o = b0; o < b1; o++) {
            if (colEnd[o] > colFirst[o]) {
                xe = Math.max(xe, colStart[o] + (colEnd[o] - 1) * dw + 1);
            }
        }
        return xe;
    }

    /** First interior output column of block {@code [b0, b1)}. */
    int interiorFrom(int b0, int b1) {
        return Math.max(b0, Math.min(interiorLo, b1));
    }

    /** One past the last interior output column of block {@code [b0, b1)} (equal to from if none). */
    int interiorTo(int b0, int b1) {
        return Math.max(interiorFrom(b0, b1), Math.min(interiorHi, b1));
    }

    /** {@code ox} if it is a border column, else the first column after the interior [lo, hi). */
    int border(int ox, int lo, int hi) {
        return ox == lo && hi > lo ? hi : ox;
    }

    /** Floats of the interior's horizontal results at every column position, before striding. */
    int span(int lo, int hi) {
        return hi > lo ? ((hi - 1 - lo) * sw + 1) * c : 0;
    }

    /** Ring slots for horizontal results of {@code width} floats per row. */
    int slots(int width) {
        return Math.max(1, Math.min(rows.effectiveWindow(), RING_FLOATS / Math.max(1, width)));
    }

    /** Input row of tap {@code jy} of output row {@code oy}. */
    int inputRow(int oy, int jy) {
        return rowStart[oy] + jy * dh;
    }

    /** Input column of tap {@code jx} of output column {@code ox}. */
    int inputColumn(int ox, int jx) {
        return colStart[ox] + jx * dw;
    }

    /**
     * The offsets of output (n, oy, ox)'s taps inside the input (channel 0), in scan order, into
     * {@code at}, in units of {@code elementBytes} bytes (1: elements); returns their count.
     */
    int taps(int n, int oy, int ox, int elementBytes, int[] at) {
        int k = 0;
        for (int jy = rowFirst[oy]; jy < rowEnd[oy]; jy++) {
            long row = in.offset(n, inputRow(oy, jy), 0, 0);
            for (int jx = colFirst[ox]; jx < colEnd[ox]; jx++) {
                at[k++] = Math.toIntExact((row + (long) inputColumn(ox, jx) * c) * elementBytes);
            }
        }
        return k;
    }

    /**
     * The ring slot of input row (n, y), and whether it must be (re)computed: returns the slot, or
     * {@code -1 - slot} when the slot held another row (its tag is then updated).
     */
    int claim(long[] tags, int slots, int n, int y) {
        long tag = (long) n * in.h() + y;
        int slot = y % slots;
        if (tags[slot] == tag) {
            return slot;
        }
        tags[slot] = tag;
        return -1 - slot;
    }

    /** The most staged positions per output for which a flat pass over whole rows pays ({@link #flatPays}). */
    static final double FLAT_MAX_POSITIONS = 16;

    /**
     * Positions per output that a pass over whole staged rows of one channel visits for every tap
     * ({@link ArgmaxPlanes}, {@link PlaneMaxGather}): such a pass runs each tap over every column
     * position of the band's phase rows, including the columns and rows its windows overhang the
     * outputs by. About 1 where windows tile the input or are small against it; the input's width
     * where one window spans a row (a 1-D max over the whole sequence), the plane's size where one
     * window spans a plane.
     */
    static double flatPositionsPerOutput(Axis rows, Axis cols) {
        double across = 1 + (double) (cols.window() - 1) * cols.dilation() / cols.stride() / cols.out();
        double down = 1 + (double) (rows.window() - 1) * rows.dilation() / rows.stride() / rows.out();
        return across * down;
    }

    /**
     * Whether max with indices of one channel runs as flat passes over whole staged rows
     * ({@link ArgmaxPlanes}) rather than output by output ({@link ArgmaxRows}): up to
     * {@link #FLAT_MAX_POSITIONS} positions per output. One thread on the quiet machine, the flat
     * passes were 2–10× faster at every geometry measured up to 7.4 positions (3×3 s2 p1 1.3
     * against 13.6 ms, SPP's 13×13 on 19×19 without padding 15.5 against 20.9) and level near 64
     * (a 1-D window of 64 over 64 columns). Beyond, their cost grows as the square of the
     * input's width: a 3×3000 window over rows of 3000 (one output a row) took 22 s for 2×60 rows.
     */
    static boolean flatPays(PoolGeometry g) {
        return flatPositionsPerOutput(g.rows(), g.cols()) <= FLAT_MAX_POSITIONS;
    }

    /** The most taps × positions per output for which the flat max backward pays ({@link #flatBackwardPays}). */
    static final double FLAT_BACKWARD_MAX_TAP_POSITIONS = 30;

    /**
     * Whether the max backward of one channel runs as flat passes ({@link PlaneMaxGather}: each
     * input position gathers every tap's candidate, a choice and a sum per tap and position) rather
     * than output by output ({@link PlaneArgmax}'s taps, then a scatter): while taps × positions per
     * output is at most {@link #FLAT_BACKWARD_MAX_TAP_POSITIONS}. One thread on the quiet machine,
     * each geometry in its own JVM, flat against output by output: 2×2 s2 0.54 against 1.34 ms,
     * 3×3 s2 p1 3.66 against 7.61, 4×4 windows (16 taps, 20–23 tap positions) 1.2–1.5× faster flat;
     * from 5×5 s1 p2 on 19×19 (37) output by output is faster: 3.54 against 3.18, 9×9 14.1 against
     * 7.8, 13×13 s1 p6 37.5 against 17.2, a 1-D window of 50 over 200 columns 11.6 against 9.2.
     */
    static boolean flatBackwardPays(PoolGeometry g) {
        double taps = (double) g.rows().window() * g.cols().window();
        return taps * flatPositionsPerOutput(g.rows(), g.cols()) <= FLAT_BACKWARD_MAX_TAP_POSITIONS;
    }

    /** Fewer channels than this make the prefix–suffix paths' per-position copies too costly. */
    private static final int PREFIX_SUFFIX_MIN_CHANNELS = 8;
    /** How much cheaper by the model a prefix–suffix path must be to be chosen. */
    private static final double PREFIX_SUFFIX_MARGIN = 1.25;

    /**
     * The cost model of the prefix–suffix paths ({@link MaxVanHerk}, {@link AvgVanHerk}) against the
     * direct separable ones ({@link MaxWindows}, {@link AvgWindows}): element operations per
     * output of the direct path (a row's horizontal reduction costs {@code kw} per output column,
     * once per input row if the ring holds a window's rows, else for every row of every window;
     * folding the rows {@code kh}) against the prefix–suffix path's (two per position and one per
     * output, on each axis, positions being {@code stride} per output). The ratio is the same for
     * max and for sums with their bounds, which cost twice as much on both paths.
     */
    static boolean prefixSuffixPays(PoolGeometry g) {
        if (g.input().c() < PREFIX_SUFFIX_MIN_CHANNELS) {
            return false;
        }
        int kw = g.cols().window();
        int kh = g.rows().window();
        int sw = g.cols().stride();
        int sh = g.rows().stride();
        WindowPlan plan = new WindowPlan(g);
        boolean ringHolds = plan.slots(Math.min(g.output().w(), plan.blockOut) * g.input().c()) >= g.rows().effectiveWindow();
        double direct = (double) kw * (ringHolds ? Math.min(sh, kh) : kh) + kh;
        double prefixSuffix = (2.0 * sw + 1) * sh + 2.0 * sh + 1;
        return prefixSuffix * PREFIX_SUFFIX_MARGIN < direct;
    }

    /** Channels from which a strided interior is gathered column by column instead of reduced at every position. */
    private static final int GATHER_MIN_CHANNELS = 32;

    /**
     * Whether the interior is reduced by gathering each tap's columns ({@link #gather}): with a
     * column stride above 1 (reducing at every column position and keeping every stride-th
     * result would do stride× the work) and enough channels per column for the copies to be cheap.
     */
    boolean gathers() {
        return sw > 1 && c >= GATHER_MIN_CHANNELS;
    }

    /** Floats from the first to the last input column that interior columns {@code [lo, hi)} touch. */
    int interiorExtent(int lo, int hi) {
        return hi > lo ? ((hi - 1 - lo) * sw + (cols.window() - 1) * dw + 1) * c : 0;
    }

    /** Stages input row (n, y)'s {@link #interiorExtent} from interior column {@code lo} into {@code raw}. */
    void stageInterior(FloatBuffer src, int n, int y, int lo, int hi, float[] raw) {
        src.get(Math.toIntExact(in.offset(n, y, colStart[lo], 0)), raw, 0, interiorExtent(lo, hi));
    }

    /** Copies tap {@code jx} of {@code count} consecutive interior columns from a staged row into {@code to}. */
    void gather(float[] raw, int jx, float[] to, int count) {
        gather(raw, 0, jx, to, count);
    }

    /** {@link #gather(float[], int, float[], int)} from a row staged with the interior's first column at {@code base}. */
    void gather(float[] raw, int base, int jx, float[] to, int count) {
        int step = sw * c;
        for (int o = 0, from = base + jx * dw * c; o < count; o++, from += step) {
            System.arraycopy(raw, from, to, o * c, c);
        }
    }

    /** Copies the interior's results at every stride-th column position into their block columns. */
    void keepStrided(float[] full, float[] h, int lo, int hi, int b0, int span) {
        if (sw == 1) {
            System.arraycopy(full, 0, h, (lo - b0) * c, span);
            return;
        }
        int step = sw * c;
        for (int o = lo; o < hi; o++) {
            System.arraycopy(full, (o - lo) * step, h, (o - b0) * c, c);
        }
    }
}
