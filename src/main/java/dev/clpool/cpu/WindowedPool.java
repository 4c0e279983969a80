package dev.clpool.cpu;

import dev.clpool.Axis;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The fast path of windowed max and average pooling over a range of output rows.
 *
 * <p>Separable: each input row is first reduced across the column taps of every output column of
 * a block (the "horizontal" pass), and the result kept in a small ring so that output rows sharing
 * an input row reduce it once; each output row then folds its window's rows. Input is staged from
 * the direct buffer into heap arrays with bulk copies, because C2 (JDK 17) vectorises heap-array
 * loops only, and only when every array in the loop has the same index expression: each column tap
 * is therefore staged into an array of its own, and ring slots are separate arrays. Interior columns,
 * whose window lies inside the input, are reduced with flat loops and no tap-range lookups (at every
 * column position, then every stride-th column kept); border columns use the per-column tap ranges.
 * Rows outside the input are never visited (the per-row tap range). A row is handled in blocks of
 * output columns that bound the scratch memory.
 *
 * <p><b>Max</b> is reduced with {@link Math#max(float, float)}, which C2 vectorises, and then made
 * exact: clpool's rule (a later value replaces the maximum only if strictly greater; the first NaN
 * wins) can differ from {@code Math.max} only where the result is zero (the sign of the first zero
 * in scan order) or NaN (the payload of the first NaN). Everywhere else the result equals the
 * largest value, and equal non-zero floats have equal bits, so both rules give the same bits; and
 * {@code Math.max} is associative and commutative on values, so the separable order does not change
 * them. Results that are zero or NaN (found by a min(|x|) reduction per output row) are recomputed
 * with the exact rule in scan order ({@link #exactMax}). <b>Average</b> sums in double: rows are
 * widened once when staged, so the per-tap additions vectorise; the order of the additions differs
 * from a plain scan only by double rounding, far inside SEMANTICS.md's tolerance.
 */
final class WindowedPool {
    /** Floats of one staged input segment (bounds the column block). */
    private static final int SEGMENT_FLOATS = 1 << 15;
    /** Floats the ring of horizontal results may hold (beyond it, rows of a window are reduced again). */
    private static final int RING_FLOATS = 1 << 17;

    private final boolean max;
    private final boolean includePad;
    private final Shape in;
    private final Shape out;
    private final int c;
    private final Axis rowsAxis;
    private final Axis colsAxis;
    private final int sw;
    private final int dw;
    private final int dh;
    private final int[] rowStart;
    private final int[] rowFirst;
    private final int[] rowEnd;
    private final int[] colStart;
    private final int[] colFirst;
    private final int[] colEnd;
    /** Output columns [interiorLo, interiorHi) have every tap inside the input. */
    private final int interiorLo;
    private final int interiorHi;
    private final int blockOut;

    WindowedPool(PoolGeometry g) {
        if (g.mode() != PoolMode.MAX && g.mode() != PoolMode.AVG) {
            throw new IllegalArgumentException("the windowed fast path runs max and avg, not " + g.mode().word());
        }
        max = g.mode() == PoolMode.MAX;
        includePad = g.spec().countIncludePad();
        in = g.input();
        out = g.output();
        c = in.c();
        rowsAxis = g.rows();
        colsAxis = g.cols();
        sw = colsAxis.stride();
        dw = colsAxis.dilation();
        dh = rowsAxis.dilation();
        rowStart = starts(rowsAxis);
        rowFirst = new int[out.h()];
        rowEnd = new int[out.h()];
        for (int o = 0; o < out.h(); o++) {
            rowFirst[o] = rowsAxis.firstTap(o);
            rowEnd[o] = rowsAxis.endTap(o);
        }
        colStart = starts(colsAxis);
        colFirst = new int[out.w()];
        colEnd = new int[out.w()];
        int lo = out.w();
        int hi = 0;
        for (int o = 0; o < out.w(); o++) {
            colFirst[o] = colsAxis.firstTap(o);
            colEnd[o] = colsAxis.endTap(o);
            if (colFirst[o] == 0 && colEnd[o] == colsAxis.window()) {
                lo = Math.min(lo, o);
                hi = o + 1;
            }
        }
        interiorLo = lo;
        interiorHi = Math.max(lo, hi);
        // Output columns per block: the staged segment ((block-1)*stride + extent columns) fits.
        long perOut = (long) sw * c;
        long fixed = (long) colsAxis.effectiveWindow() * c;
        blockOut = (int) Math.max(1, Math.min(out.w(), (SEGMENT_FLOATS - fixed) / Math.max(1, perOut) + 1));
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
        return (long) out.w() * c * rowsAxis.window() * colsAxis.window();
    }

    /** Output rows {@code [from, to)} of all {@code N*OH}, each row index being {@code n*OH + oy}. */
    void run(FloatBuffer src, FloatBuffer dst, int from, int to, Scratch scratch) {
        for (int b0 = 0; b0 < out.w(); b0 += blockOut) {
            int b1 = Math.min(out.w(), b0 + blockOut);
            // The input columns the block's windows touch.
            int xs = Integer.MAX_VALUE;
            int xe = 0;
            for (int o = b0; o < b1; o++) {
                if (colEnd[o] > colFirst[o]) {
                    xs = Math.min(xs, colStart[o] + colFirst[o] * dw);
                    xe = Math.max(xe, colStart[o] + (colEnd[o] - 1) * dw + 1);
                }
            }
            block(src, dst, from, to, b0, b1, xs, xe, scratch);
        }
    }

    private void block(FloatBuffer src, FloatBuffer dst, int from, int to, int b0, int b1, int xs, int xe,
                       Scratch s) {
        int width = (b1 - b0) * c;
        int slots = Math.max(1, Math.min(rowsAxis.effectiveWindow(), RING_FLOATS / Math.max(1, width)));
        int lo = Math.max(b0, Math.min(interiorLo, b1));
        int hi = Math.max(lo, Math.min(interiorHi, b1));
        // The interior's horizontal results at every column position, before keeping every
        // stride-th column.
        int span = hi > lo ? ((hi - 1 - lo) * sw + 1) * c : 0;
        Row row = max
                ? new Row(s.floats(0, span), s.floats(1, Math.max(span, c)), null, null, null, s.floatRing(slots, width), null)
                : new Row(s.floats(0, (xe - xs) * c), null, s.doubles(0, (xe - xs) * c), s.doubles(1, span),
                        s.doubles(2, span), null, s.doubleRing(slots, width));
        float[] acc = s.floats(2, width);
        double[] dacc = max ? null : s.doubles(3, width);
        long[] tags = s.longs(slots);
        Arrays.fill(tags, -1L);
        for (int r = from; r < to; r++) {
            int n = r / out.h();
            int oy = r % out.h();
            int j0 = rowFirst[oy];
            int j1 = rowEnd[oy];
            // With a ring as tall as the window, the window's rows are staged first and the first
            // two folded in one pass; otherwise each row is folded as soon as it is staged.
            boolean together = slots >= rowsAxis.effectiveWindow() && j1 - j0 >= 2;
            if (together) {
                for (int jy = j0; jy < j1; jy++) {
                    stage(src, n, rowStart[oy] + jy * dh, row, tags, slots, b0, b1, lo, hi, span, xs, xe);
                }
            }
            float least = Float.POSITIVE_INFINITY;
            for (int jy = j0; jy < j1; jy++) {
                int y = rowStart[oy] + jy * dh;
                int slot = together ? y % slots : stage(src, n, y, row, tags, slots, b0, b1, lo, hi, span, xs, xe);
                boolean last = jy == j1 - 1;
                if (max) {
                    float[] h = row.ring[slot];
                    if (jy == j0 && together) {
                        float[] h2 = row.ring[(y + dh) % slots];
                        jy++;
                        if (jy == j1 - 1) {
                            for (int i = 0; i < width; i++) {
                                float m = Math.max(h[i], h2[i]);
                                acc[i] = m;
                                least = Math.min(least, Math.abs(m));
                            }
                        } else {
                            for (int i = 0; i < width; i++) {
                                acc[i] = Math.max(h[i], h2[i]);
                            }
                        }
                    } else if (jy == j0) {
                        System.arraycopy(h, 0, acc, 0, width);
                        if (last) {
                            for (int i = 0; i < width; i++) {
                                least = Math.min(least, Math.abs(acc[i]));
                            }
                        }
                    } else if (last) {
                        for (int i = 0; i < width; i++) {
                            float m = Math.max(acc[i], h[i]);
                            acc[i] = m;
                            least = Math.min(least, Math.abs(m));
                        }
                    } else {
                        for (int i = 0; i < width; i++) {
                            acc[i] = Math.max(acc[i], h[i]);
                        }
                    }
                } else {
                    double[] h = row.dring[slot];
                    if (jy == j0 && together) {
                        double[] h2 = row.dring[(y + dh) % slots];
                        jy++;
                        for (int i = 0; i < width; i++) {
                            dacc[i] = h[i] + h2[i];
                        }
                    } else if (jy == j0) {
                        System.arraycopy(h, 0, dacc, 0, width);
                    } else {
                        for (int i = 0; i < width; i++) {
                            dacc[i] += h[i];
                        }
                    }
                }
            }
            if (max) {
                // least = min |result|: zero or NaN where some result needs the exact rule.
                if (!(least > 0)) {
                    fixUp(src, acc, n, oy, b0, width);
                }
            } else {
                divide(dacc, acc, oy, b0, b1);
            }
            dst.put(Math.toIntExact(out.offset(n, oy, b0, 0)), acc, 0, width);
        }
    }

    /** Stages input row (n, y) into its ring slot unless it is there already; returns the slot. */
    private int stage(FloatBuffer src, int n, int y, Row row, long[] tags, int slots, int b0, int b1, int lo, int hi,
                      int span, int xs, int xe) {
        long tag = (long) n * in.h() + y;
        int slot = y % slots;
        if (tags[slot] != tag) {
            if (max) {
                maxAcross(src, n, y, row, slot, b0, b1, lo, hi, span);
            } else {
                sumAcross(src, n, y, row, slot, b0, b1, lo, hi, span, xs, xe);
            }
            tags[slot] = tag;
        }
        return slot;
    }

    /**
     * Scratch of the horizontal pass. C2 (JDK 17) vectorises a loop only when every array in it is
     * indexed by the same expression, so each column tap is staged into an array of its own rather
     * than read at an offset; ring slots are separate arrays for the same reason.
     */
    private record Row(float[] full, float[] tap, double[] wide, double[] dfull, double[] dtap,
                       float[][] ring, double[][] dring) {
    }

    /**
     * The horizontal half of max pooling: for input row (n, y), the maximum over each block column's
     * taps in that row, into ring slot {@code slot}. Grouping a window's taps by row leaves
     * {@code Math.max}'s result unchanged (it is associative and commutative on values).
     */
    private void maxAcross(FloatBuffer src, int n, int y, Row row, int slot, int b0, int b1, int lo, int hi,
                           int span) {
        int cc = c;
        float[] h = row.ring[slot];
        if (hi > lo) {
            float[] full = row.full;
            float[] tap = row.tap;
            int at = Math.toIntExact(in.offset(n, y, colStart[lo], 0));
            int tapStep = dw * cc;
            src.get(at, full, 0, span);
            for (int jx = 1; jx < colsAxis.window(); jx++) {
                src.get(at + jx * tapStep, tap, 0, span);
                for (int i = 0; i < span; i++) {
                    full[i] = Math.max(full[i], tap[i]);
                }
            }
            if (sw == 1) {
                System.arraycopy(full, 0, h, (lo - b0) * cc, span);
            } else {
                int step = sw * cc;
                for (int o = lo; o < hi; o++) {
                    System.arraycopy(full, (o - lo) * step, h, (o - b0) * cc, cc);
                }
            }
        }
        float[] px = row.tap;
        for (int ox = b0; ox < b1; ox++) {
            if (ox == lo && hi > lo) {
                ox = hi - 1;
                continue;
            }
            int a = (ox - b0) * cc;
            Arrays.fill(h, a, a + cc, Float.NEGATIVE_INFINITY);
            for (int jx = colFirst[ox]; jx < colEnd[ox]; jx++) {
                src.get(Math.toIntExact(in.offset(n, y, colStart[ox] + jx * dw, 0)), px, 0, cc);
                for (int ch = 0; ch < cc; ch++) {
                    h[a + ch] = Math.max(h[a + ch], px[ch]);
                }
            }
        }
    }

    /**
     * The horizontal half of average pooling, in double: the row's input columns {@code [xs, xe)}
     * are staged and widened once, then each column tap is copied out and summed.
     */
    private void sumAcross(FloatBuffer src, int n, int y, Row row, int slot, int b0, int b1, int lo, int hi,
                           int span, int xs, int xe) {
        int cc = c;
        double[] h = row.dring[slot];
        float[] raw = row.full;
        double[] wide = row.wide;
        int segment = (xe - xs) * cc;
        src.get(Math.toIntExact(in.offset(n, y, xs, 0)), raw, 0, segment);
        for (int i = 0; i < segment; i++) {
            wide[i] = raw[i];
        }
        if (hi > lo) {
            double[] full = row.dfull;
            double[] tap = row.dtap;
            int base = (colStart[lo] - xs) * cc;
            int tapStep = dw * cc;
            System.arraycopy(wide, base, full, 0, span);
            for (int jx = 1; jx < colsAxis.window(); jx++) {
                System.arraycopy(wide, base + jx * tapStep, tap, 0, span);
                for (int i = 0; i < span; i++) {
                    full[i] += tap[i];
                }
            }
            if (sw == 1) {
                System.arraycopy(full, 0, h, (lo - b0) * cc, span);
            } else {
                int step = sw * cc;
                for (int o = lo; o < hi; o++) {
                    System.arraycopy(full, (o - lo) * step, h, (o - b0) * cc, cc);
                }
            }
        }
        for (int ox = b0; ox < b1; ox++) {
            if (ox == lo && hi > lo) {
                ox = hi - 1;
                continue;
            }
            int a = (ox - b0) * cc;
            Arrays.fill(h, a, a + cc, 0.0);
            for (int jx = colFirst[ox]; jx < colEnd[ox]; jx++) {
                int b = (colStart[ox] + jx * dw - xs) * cc;
                for (int ch = 0; ch < cc; ch++) {
                    h[a + ch] += wide[b + ch];
                }
            }
        }
    }

    /** Average = sum / divisor, the division done as a multiplication by the divisor's inverse. */
    private void divide(double[] acc, float[] outRow, int oy, int b0, int b1) {
        int rowDiv = includePad ? rowsAxis.extentIncludingPad(oy) : rowEnd[oy] - rowFirst[oy];
        for (int ox = b0; ox < b1; ox++) {
            int colDiv = includePad ? colsAxis.extentIncludingPad(ox) : colEnd[ox] - colFirst[ox];
            double inverse = 1.0 / ((double) rowDiv * colDiv);
            int a = (ox - b0) * c;
            for (int ch = 0; ch < c; ch++) {
                outRow[a + ch] = CpuBackend.canonicalNaN((float) (acc[a + ch] * inverse));
            }
        }
    }

    /** Replaces each zero or NaN maximum by the exact rule's result (see the class comment). */
    private void fixUp(FloatBuffer src, float[] acc, int n, int oy, int b0, int width) {
        for (int i = 0; i < width; i++) {
            float m = acc[i];
            if (!(m > 0 || m < 0)) {
                acc[i] = exactMax(src, n, oy, b0 + i / c, i % c);
            }
        }
    }

    /** clpool's max over one window in scan order: the reference rule, element by element. */
    private float exactMax(FloatBuffer src, int n, int oy, int ox, int ch) {
        float m = Float.NEGATIVE_INFINITY;
        for (int jy = rowFirst[oy]; jy < rowEnd[oy]; jy++) {
            int y = rowStart[oy] + jy * dh;
            for (int jx = colFirst[ox]; jx < colEnd[ox]; jx++) {
                int x = colStart[ox] + jx * dw;
                m = CpuBackend.max(m, src.get(Math.toIntExact(in.offset(n, y, x, ch))));
            }
        }
        return m;
    }
}
