package dev.clpool.cpu;

import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Tensor;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Windowed max pooling over a range of output rows (the separable scheme of {@link WindowPlan}).
 *
 * <p>Reduced with {@link Math#max(float, float)}, which C2 vectorises, and then made exact:
 * clpool's rule (a later value replaces the maximum only if strictly greater; the first NaN wins)
 * can differ from {@code Math.max} only where the result is zero (the sign of the first zero in
 * scan order) or NaN (the payload of the first NaN). Everywhere else the result equals the largest
 * value, and equal non-zero floats have equal bits, so both rules give the same bits; and
 * {@code Math.max} is associative and commutative on values, so the separable order does not change
 * them. Rows with results that are zero or NaN (found by a min(|x|) reduction per output row) are
 * made exact by {@link MaxExact}.
 */
final class MaxWindows {
    private final WindowPlan p;
    /** Whether {@link VecMaxWindows} runs this geometry (where the JVM has the Vector API). */
    private final boolean vector;

    MaxWindows(PoolGeometry g) {
        if (g.mode() != PoolMode.MAX) {
            throw new IllegalArgumentException("max windows run max, not " + g.mode().word());
        }
        p = new WindowPlan(g);
        vector = VectorSupport.fits(p.c);
    }

    long workPerRow() {
        return p.workPerRow();
    }

    /**
     * Output rows {@code [from, to)} of all {@code N*OH} (row index {@code n*OH + oy}) from float32
     * tensor {@code in} into {@code out}: in Vector API lanes ({@link VecMaxWindows}) where this JVM
     * runs them and the channels fill a vector, else as {@link #run(FloatBuffer, FloatBuffer, int, int, Scratch)}.
     */
    void run(Tensor in, Tensor out, int from, int to, Scratch scratch) {
        if (VectorSupport.ENABLED && vector) {
            VecMaxWindows.run(in.buffer(), out.buffer(), p, from, to);
        } else {
            run(in.floats(), out.floats(), from, to, scratch);
        }
    }

    /** Output rows {@code [from, to)} of all {@code N*OH}, each row index being {@code n*OH + oy}. */
    void run(FloatBuffer src, FloatBuffer dst, int from, int to, Scratch scratch) {
        for (int b0 = 0; b0 < p.out.w(); b0 += p.blockOut) {
            block(src, dst, from, to, b0, Math.min(p.out.w(), b0 + p.blockOut), scratch);
        }
    }

    private void block(FloatBuffer src, FloatBuffer dst, int from, int to, int b0, int b1, Scratch s) {
        int width = (b1 - b0) * p.c;
        int slots = p.slots(width);
        int lo = p.interiorFrom(b0, b1);
        int hi = p.interiorTo(b0, b1);
        int span = p.span(lo, hi);
        float[] full = s.floats(0, span);
        float[] tap = s.floats(1, Math.max(span, p.c));
        float[][] ring = s.ring(0, slots, width);
        float[] acc = s.floats(2, width);
        float[] raw = s.floats(3, p.gathers() ? p.interiorExtent(lo, hi) : 0);
        long[] tags = s.longs(slots);
        Arrays.fill(tags, -1L);
        MaxExact exact = new MaxExact(p, b0, b1);
        float[] check = s.floats(4, exact.scratch());
        for (int r = from; r < to; r++) {
            int n = r / p.out.h();
            int oy = r % p.out.h();
            int j0 = p.rowFirst[oy];
            int j1 = p.rowEnd[oy];
            // With a ring as tall as the window, the window's rows are staged first and the first
            // two folded in one pass; otherwise each row is folded as soon as it is staged.
            boolean together = slots >= p.rows.effectiveWindow() && j1 - j0 >= 2;
            if (together) {
                for (int jy = j0; jy < j1; jy++) {
                    stage(src, n, p.inputRow(oy, jy), raw, full, tap, ring, tags, slots, b0, b1, lo, hi, span);
                }
            }
            float least = Float.POSITIVE_INFINITY;
            for (int jy = j0; jy < j1; jy++) {
                int y = p.inputRow(oy, jy);
                int slot = together ? y % slots : stage(src, n, y, raw, full, tap, ring, tags, slots, b0, b1, lo, hi, span);
                boolean last = jy == j1 - 1;
                float[] h = ring[slot];
                if (jy == j0 && together) {
                    float[] h2 = ring[(y + p.dh) % slots];
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
            }
            // least = min |result|: zero or NaN where some result may need the exact rule.
            exact.fix(src, acc, least, n, oy, width, check);
            dst.put(Math.toIntExact(p.out.offset(n, oy, b0, 0)), acc, 0, width);
        }
    }

    /** Stages input row (n, y) into its ring slot unless it is there already; returns the slot. */
    private int stage(FloatBuffer src, int n, int y, float[] raw, float[] full, float[] tap, float[][] ring, long[] tags,
                      int slots, int b0, int b1, int lo, int hi, int span) {
        int slot = p.claim(tags, slots, n, y);
        if (slot >= 0) {
            return slot;
        }
        slot = -1 - slot;
        maxAcross(src, n, y, raw, full, tap, ring[slot], b0, b1, lo, hi, span);
        return slot;
    }

    /**
     * The horizontal half: for input row (n, y), the maximum over each block column's taps in that
     * row, into {@code h}. Grouping a window's taps by row leaves {@code Math.max}'s result
     * unchanged (it is associative and commutative on values).
     */
    private void maxAcross(FloatBuffer src, int n, int y, float[] raw, float[] full, float[] tap, float[] h, int b0, int b1,
                           int lo, int hi, int span) {
        int cc = p.c;
        if (hi > lo && p.gathers()) {
            // Strided: the row is staged once and each tap's columns gathered, so that only the
            // kept column positions are reduced.
            p.stageInterior(src, n, y, lo, hi, raw);
            int width = (hi - lo) * cc;
            p.gather(raw, 0, full, hi - lo);
            for (int jx = 1; jx < p.cols.window(); jx++) {
                p.gather(raw, jx, tap, hi - lo);
                for (int i = 0; i < width; i++) {
                    full[i] = Math.max(full[i], tap[i]);
                }
            }
            System.arraycopy(full, 0, h, (lo - b0) * cc, width);
        } else if (hi > lo) {
            int at = Math.toIntExact(p.in.offset(n, y, p.colStart[lo], 0));
            int tapStep = p.dw * cc;
            src.get(at, full, 0, span);
            for (int jx = 1; jx < p.cols.window(); jx++) {
                src.get(at + jx * tapStep, tap, 0, span);
                for (int i = 0; i < span; i++) {
                    full[i] = Math.max(full[i], tap[i]);
                }
            }
            p.keepStrided(full, h, lo, hi, b0, span);
        }
        for (int ox = p.border(b0, lo, hi); ox < b1; ox = p.border(ox + 1, lo, hi)) {
            int a = (ox - b0) * cc;
            Arrays.fill(h, a, a + cc, Float.NEGATIVE_INFINITY);
            for (int jx = p.colFirst[ox]; jx < p.colEnd[ox]; jx++) {
                src.get(Math.toIntExact(p.in.offset(n, y, p.inputColumn(ox, jx), 0)), tap, 0, cc);
                for (int ch = 0; ch < cc; ch++) {
                    h[a + ch] = Math.max(h[a + ch], tap[ch]);
                }
            }
        }
    }
}
