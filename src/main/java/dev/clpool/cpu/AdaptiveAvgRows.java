package dev.clpool.cpu;

import dev.clpool.Shape;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Adaptive average pooling of channels-last tensors with many channels, summed in plain float with
 * a running error bound beside each sum, as {@link AvgWindows} does for fixed windows: each input
 * row of an output row's regions is staged once, each region's columns are summed with every
 * column tap copied to an array of its own (loops over the channels that C2 vectorises), and the
 * rows are folded. The double sums of {@link CpuAdaptive}'s general path need a float→double
 * widening per element, which JDK 17 does not vectorise (VGG-16's head, 8×10×10×512 to 7×7, one
 * thread: 1.0 ms).
 *
 * <p>Every result is certified as in {@link AvgWindows}: u·B·(1 + γ(3·taps)) over the region's
 * element count must be at most {@link AvgWindows#TOLERANCE}·max(1, |avg|), B the sum of the
 * magnitudes of every partial sum. The check is an element-wise maximum over a task's rows, read
 * once per task; if it fails, the task's rows are computed again and each failing result (heavy
 * cancellation, an infinity or NaN, float overflow) is summed in double in scan order, as the
 * general path sums every result.
 *
 * <p>In Vector API lanes ({@link #vectorRows}) each input row's sums across the regions' columns are
 * formed once per task and kept for the output rows that share it. Where every region is at most
 * three columns wide, the sums carry no bounds: an output row is certified at once when the largest
 * magnitude of its input rows (taken from the same loads of the tensor's bytes as these sums: no staged
 * copy, no pass of its own) is at most its regions' {@link #limit}, which bounds B from the region's
 * shape, and its averages are stored straight into the output tensor; otherwise it is computed again by
 * {@link #row} with running bounds, checking each result. The same sums either way, so the same bits.
 */
final class AdaptiveAvgRows {
    /** Input elements a task should visit at least (output rows are grouped up to it). */
    private static final long TASK_WORK = 1 << 15;
    /** Input elements of an item up to which a task takes whole items ({@link #rowsPerTask}). */
    private static final long ITEM_WORK = 1 << 17;
    /** Items a tensor needs for tasks of whole items: the ranges {@link CpuBackend} makes for two threads. */
    private static final int ITEM_TASKS = 8;

    /**
     * {@link #perB} of up to TABLED² taps and {@link #limit} of regions of fewer than TABLED rows and
     * columns, formed once: forming them per output position was half the CPU time of a small call
     * (1×10×10×16 to 7×7: about 4 of 7.5 µs, one thread).
     */
    private static final int TABLED = 9;
    private static final float[] PER_B = new float[TABLED * TABLED + 1];
    private static final float[] LIMIT = new float[TABLED * TABLED];

    static {
        for (int taps = 1; taps < PER_B.length; taps++) {
            PER_B[taps] = factor(taps);
        }
        for (int h = 1; h < TABLED; h++) {
            for (int w = 1; w < TABLED; w++) {
                LIMIT[h * TABLED + w] = bound(h, w);
            }
        }
    }

    private final Shape is;
    private final Shape os;
    private final int[] y0;
    private final int[] y1;
    private final int[] x0;
    private final int[] x1;
    /** The most input rows of a region: the rows of sums across columns {@link #vectorRows} keeps. */
    private final int tallest;
    /** Whether every region is at most three columns wide ({@link VecAdaptiveRows#sums}). */
    private final boolean narrow;
    /** Per output (oy, ox), at oy·OW + ox: the region's element count as a float, and {@link #perB} of it. */
    private final float[] divisor;
    private final float[] factor;
    /** Per output row oy: the largest input magnitude, as float bits, that certifies all its results ({@link #limit}). */
    private final int[] limitBits;

    /** The regions of each axis: output row oy covers input rows [y0[oy], y1[oy]), columns alike. */
    AdaptiveAvgRows(Shape is, Shape os, int[] y0, int[] y1, int[] x0, int[] x1) {
        this.is = is;
        this.os = os;
        this.y0 = y0;
        this.y1 = y1;
        this.x0 = x0;
        this.x1 = x1;
        divisor = new float[os.h() * os.w()];
        factor = new float[os.h() * os.w()];
        for (int oy = 0; oy < os.h(); oy++) {
            for (int ox = 0; ox < os.w(); ox++) {
                long taps = (long) (y1[oy] - y0[oy]) * (x1[ox] - x0[ox]);
                divisor[oy * os.w() + ox] = taps;
                factor[oy * os.w() + ox] = perB(taps);
            }
        }
        tallest = tallest(y0, y1);
        narrow = narrow(x0, x1);
        limitBits = limitBits(os, y0, y1, x0, x1);
    }

    /** The most input rows of a region {@code [y0[oy], y1[oy])}: the rows a ring of sums or maxima across columns keeps. */
    static int tallest(int[] y0, int[] y1) {
        int most = 1;
        for (int oy = 0; oy < y0.length; oy++) {
            most = Math.max(most, y1[oy] - y0[oy]);
        }
        return most;
    }

    /**
     * Output rows per task of a lane path that keeps a ring of input rows: about {@link #TASK_WORK}
     * input elements, or whole items where an item's input is at most {@link #ITEM_WORK} and the
     * tensor has at least {@link #ITEM_TASKS} items. A task's ring starts empty, so an input row
     * shared by the last output row of one task and the first of the next was staged and reduced
     * twice: VGG-16's head (10 rows to 7, tasks of 4 output rows) reduced 92 rows for 80.
     */
    static int rowsPerTask(Shape is, Shape os) {
        long perItem = (long) is.h() * is.w() * is.c();
        int rows = os.n() * os.h();
        if (perItem <= ITEM_WORK && os.n() >= ITEM_TASKS) {
            return (int) Math.min(rows, (long) os.h() * Math.max(1L, TASK_WORK / perItem));
        }
        long perRow = perItem / os.h();
        return (int) Math.max(1, Math.min(rows, TASK_WORK / Math.max(1L, perRow)));
    }

    /**
     * Whether every region {@code [x0[ox], x1[ox])} is at most three columns wide, the regions
     * {@link VecAdaptiveRows#sums} and {@link VecAdaptiveMaxRows#across} take.
     */
    static boolean narrow(int[] x0, int[] x1) {
        for (int ox = 0; ox < x0.length; ox++) {
            if (x1[ox] - x0[ox] > 3) {
                return false;
            }
        }
        return true;
    }

    /**
     * The certificate's factor for a region of {@code taps} elements: u·(1 + γ(3·taps)) over the
     * element count and {@link AvgWindows#TOLERANCE}, so that a result passes where its B times it
     * is at most max(1, |avg|). {@link PlaneAdaptiveAvg} and {@link AdaptPlaneLanes} use it too.
     */
    static float perB(long taps) {
        return taps < PER_B.length ? PER_B[(int) taps] : factor(taps);
    }

    /** {@link #perB} formed. */
    private static float factor(long taps) {
        return (float) (0x1p-24 * (1 + CompensatedSum.gamma(3 * taps)) / taps / AvgWindows.TOLERANCE);
    }

    /**
     * The largest input magnitude M for which every result of a region of {@code h} rows and
     * {@code w} columns, summed across each row's columns and then down the rows
     * ({@link VecAdaptiveRows#sums}, {@link VecAdaptiveRows#averages}), passes the certificate
     * u·B·(1 + γ(3·taps)) over the element count at most {@link AvgWindows#TOLERANCE}·max(1, |avg|)
     * whatever the data: B, the sum of the magnitudes of the partial sums, is at most β·M·(1 + γ(taps)),
     * each partial sum of j elements being at most j·M (times 1 + γ(j) for its roundings), with
     * β = h·(w(w + 1)/2 − 1) + w·(h(h + 1)/2 − 1); max(1, |avg|) is taken as 1; the factor 0.999 covers
     * the roundings of γ(taps) and of this float. A limit of the float range where β is 0.
     */
    static float limit(int h, int w) {
        return h < TABLED && w < TABLED ? LIMIT[h * TABLED + w] : bound(h, w);
    }

    /** {@link #limit} formed. */
    private static float bound(int h, int w) {
        long taps = (long) h * w;
        double beta = h * ((double) w * (w + 1) / 2 - 1) + w * ((double) h * (h + 1) / 2 - 1);
        double l = 0.999 / (beta * perB(taps));
        return beta == 0 ? Float.MAX_VALUE : Math.nextDown((float) Math.min(Float.MAX_VALUE, l));
    }

    /** Per output row: the bits of the smallest {@link #limit} of its regions (as floats, bits order as magnitudes do). */
    static int[] limitBits(Shape os, int[] y0, int[] y1, int[] x0, int[] x1) {
        int[] bits = new int[os.h()];
        for (int oy = 0; oy < os.h(); oy++) {
            float l = Float.MAX_VALUE;
            for (int ox = 0; ox < os.w(); ox++) {
                l = Math.min(l, limit(y1[oy] - y0[oy], x1[ox] - x0[ox]));
            }
            bits[oy] = Float.floatToRawIntBits(l);
        }
        return bits;
    }

    /** Whether this path pays: enough channels to fill vector lanes (with few, the plane paths run). */
    static boolean pays(Shape is) {
        return is.c() >= 16;
    }

    /**
     * Every output row; the sums across each region's columns by {@link VecAdaptive#avgAcross} where
     * {@code lanes} (the same arithmetic); {@code bytes} is {@code src}'s storage and {@code out}
     * {@code dst}'s, which the lanes of narrow regions read from and write to straight.
     */
    void run(FloatBuffer src, ByteBuffer bytes, boolean lanes, FloatBuffer dst, ByteBuffer out,
             CpuBackward.Parallel parallel) {
        long perRow = (long) is.h() * is.w() * is.c() / os.h();
        if (lanes) {
            int rows = os.n() * os.h();
            int group = rowsPerTask(is, os);
            parallel.run((rows + group - 1) / group,
                    task -> vectorRows(src, bytes, dst, out, task * group, Math.min(rows, (task + 1) * group), Scratch.get()));
            return;
        }
        AvgWindows.certifiedRows(os.n() * os.h(), perRow, TASK_WORK, os.w() * is.c(), parallel,
                (r, worst, checkEach, s) -> row(src, lanes, dst, r, worst, checkEach, s));
    }

    /**
     * Output rows {@code [from, to)} in Vector API lanes, with {@link #row}'s arithmetic, so the same
     * bits: the sums across the regions' columns of each input row formed once
     * ({@link VecAdaptiveRows#sums}) and kept in a ring of the {@link #tallest} region's rows
     * (neighbouring output rows share input rows: VGG-16's 10 rows to 7 read 16, which {@link #row}
     * staged and summed once per output row that reads them), with each row's largest magnitude;
     * then each output row whose rows are within its {@link #limitBits} folded and divided
     * ({@link VecAdaptiveRows#averages}), any other computed again by {@link #row}, checking each
     * result. The running bounds cost about a quarter of VGG-16's head (0.23 → 0.18 ms, one thread).
     * Wider regions keep the bounds ({@link VecAdaptive#avgAcross}), each output row folded, divided
     * and certified in one pass ({@link VecAdaptiveRows#down}).
     */
    private void vectorRows(FloatBuffer src, ByteBuffer bytes, FloatBuffer dst, ByteBuffer out, int from, int to,
                            Scratch s) {
        int c = is.c();
        int ow = os.w();
        int width = ow * c;
        int rowLen = is.w() * c;
        float[] raw = s.floats(11, rowLen);
        float[] hs = s.floats(12, tallest * width);
        float[] hb = narrow ? hs : s.floats(13, tallest * width);
        float[] res = s.floats(14, width);
        float[] tail = s.floats(15, 2 * VecWidth.floats());
        float[] excess = s.floats(16, width);
        int[] magnitude = s.ints(4, 1, tallest)[0];
        AcrossRing ring = new AcrossRing(s, tallest, width, is.h());
        AcrossRing.Reduce reduce = (n, y, at) -> {
            int base = Math.toIntExact(is.offset(n, y, 0, 0));
            if (narrow) {
                magnitude[at / width] = VecAdaptiveRows.sums(bytes, base, c, ow, x0, x1, hs, at);
            } else {
                src.get(base, raw, 0, rowLen);
                VecAdaptive.avgAcross(raw, 0, c, ow, x0, x1, hs, hb, at, true, tail);
            }
        };
        for (int r = from; r < to; r++) {
            int n = r / os.h();
            int oy = r % os.h();
            int rows = y1[oy] - y0[oy];
            int[] rowAt = ring.rows(n, y0[oy], y1[oy], reduce);
            boolean certified;
            if (narrow) {
                int largest = 0;
                for (int j = 0; j < rows; j++) {
                    largest = Math.max(largest, magnitude[rowAt[j] / width]);
                }
                certified = largest <= limitBits[oy];
                if (certified) {
                    VecAdaptiveRows.averages(hs, rowAt, rows, c, ow, divisor, oy * ow, out,
                            Math.toIntExact(os.offset(n, oy, 0, 0)));
                }
            } else {
                certified = VecAdaptiveRows.down(hs, hb, rowAt, rows, c, ow, divisor, factor, oy * ow, res, excess);
                if (certified) {
                    dst.put(Math.toIntExact(os.offset(n, oy, 0, 0)), res, 0, width);
                }
            }
            if (!certified) {
                row(src, true, dst, r, s.floats(7, width), true, s);
            }
        }
    }

    /** Output row {@code r} (n·OH + oy): sums and bounds across each region's columns, then down its rows. */
    private void row(FloatBuffer src, boolean lanes, FloatBuffer dst, int r, float[] worst, boolean checkEach,
                     Scratch s) {
        int c = is.c();
        int ow = os.w();
        int width = ow * c;
        int n = r / os.h();
        int oy = r % os.h();
        int rowLen = is.w() * c;
        float[] raw = s.floats(0, rowLen);
        float[] tap = s.floats(1, lanes ? Math.max(c, 2 * VecWidth.floats()) : c);
        float[] bs = s.floats(2, c);
        float[] bb = s.floats(3, c);
        float[] hs = s.floats(4, width);
        float[] hb = s.floats(5, width);
        float[] as = s.floats(6, width);
        float[] ab = s.floats(8, width);
        for (int y = y0[oy]; y < y1[oy]; y++) {
            boolean first = y == y0[oy];
            src.get(Math.toIntExact(is.offset(n, y, 0, 0)), raw, 0, rowLen);
            if (lanes) {
                VecAdaptive.avgAcross(raw, c, ow, x0, x1, as, ab, first, tap);
                continue;
            }
            for (int ox = 0; ox < ow; ox++) {
                System.arraycopy(raw, x0[ox] * c, bs, 0, c);
                Arrays.fill(bb, 0, c, 0f);
                for (int x = x0[ox] + 1; x < x1[ox]; x++) {
                    System.arraycopy(raw, x * c, tap, 0, c);
                    for (int ch = 0; ch < c; ch++) {
                        float t = bs[ch] + tap[ch];
                        bs[ch] = t;
                        bb[ch] += Math.abs(t);
                    }
                }
                System.arraycopy(bs, 0, first ? as : hs, ox * c, c);
                System.arraycopy(bb, 0, first ? ab : hb, ox * c, c);
            }
            if (!first) {
                for (int i = 0; i < width; i++) {
                    float t = as[i] + hs[i];
                    as[i] = t;
                    ab[i] += hb[i] + Math.abs(t);
                }
            }
        }
        for (int ox = 0; ox < ow; ox++) {
            // A float division, as AvgWindows.finish divides (see there).
            float d = divisor[oy * ow + ox];
            float k = factor[oy * ow + ox];
            if (lanes) {
                VecAdaptive.avgFinish(as, ab, worst, ox * c, c, d, k);
            } else {
                for (int i = ox * c; i < (ox + 1) * c; i++) {
                    // + 0: a region of −0 averages to +0, as the double sums (started at +0) give it.
                    float v = (as[i] + 0f) / d;
                    as[i] = v;
                    worst[i] = Math.max(worst[i], ab[i] * k - Math.max(1f, Math.abs(v)));
                }
            }
            if (checkEach) {
                for (int ch = 0; ch < c; ch++) {
                    if (!AvgWindows.certified(ab[ox * c + ch], k, as[ox * c + ch])) {
                        as[ox * c + ch] = exactAverage(src, n, oy, ox, ch);
                    }
                }
            }
        }
        dst.put(Math.toIntExact(os.offset(n, oy, 0, 0)), as, 0, width);
    }

    /** One region's average summed in double in scan order (the general path's sums). */
    private float exactAverage(FloatBuffer src, int n, int oy, int ox, int ch) {
        double sum = 0;
        for (int y = y0[oy]; y < y1[oy]; y++) {
            for (int x = x0[ox]; x < x1[ox]; x++) {
                sum += src.get(Math.toIntExact(is.offset(n, y, x, ch)));
            }
        }
        double div = (double) (y1[oy] - y0[oy]) * (x1[ox] - x0[ox]);
        return CpuBackend.canonicalNaN((float) (sum / div));
    }
}
