package dev.clpool.cpu;

import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Windowed average pooling over a range of output rows (the separable scheme of {@link WindowPlan}),
 * summed with {@link CompensatedSum}: float operations that C2 vectorises, where the double sums
 * they replace needed a scalar float→double widening per element.
 *
 * <p>Every result is certified: the compensated sum's error bound (γ(taps)·q, see
 * {@link CompensatedSum}) divided by the divisor must be at most {@link #TOLERANCE}·max(1, |avg|), a
 * quarter of SEMANTICS.md's 4e-6, leaving room for the float division. A result that fails (heavy
 * cancellation across a range of magnitudes beyond ~2^40, an infinity or NaN in the window, or a sum
 * that overflows float although the average would not) is recomputed in double in scan order
 * ({@link #exactAverage}), which is what every result was before.
 */
final class AvgWindows {
    /** The error allowed to the fast path, relative to max(1, |avg|). */
    static final float TOLERANCE = 1e-6f;

    private final WindowPlan p;
    private final boolean includePad;

    AvgWindows(PoolGeometry g) {
        if (g.mode() != PoolMode.AVG) {
            throw new IllegalArgumentException("avg windows run avg, not " + g.mode().word());
        }
        p = new WindowPlan(g);
        includePad = g.spec().countIncludePad();
    }

    long workPerRow() {
        return p.workPerRow();
    }

    /** Output rows {@code [from, to)} of all {@code N*OH}, each row index being {@code n*OH + oy}. */
    void run(FloatBuffer src, FloatBuffer dst, int from, int to, Scratch scratch) {
        for (int b0 = 0; b0 < p.out.w(); b0 += p.blockOut) {
            block(src, dst, from, to, b0, Math.min(p.out.w(), b0 + p.blockOut), scratch);
        }
    }

    /**
     * Scratch of one block: the staged input segment, one column tap, the interior's compensated
     * sums at every column position (s, e, q), and the ring of horizontal results (s, e, q).
     */
    private record Buffers(float[] raw, float[] tap, float[] fs, float[] fe, float[] fq,
                           float[][] rs, float[][] re, float[][] rq) {
    }

    private void block(FloatBuffer src, FloatBuffer dst, int from, int to, int b0, int b1, Scratch s) {
        int width = (b1 - b0) * p.c;
        int slots = p.slots(width);
        int lo = p.interiorFrom(b0, b1);
        int hi = p.interiorTo(b0, b1);
        int span = p.span(lo, hi);
        int xs = p.firstColumn(b0, b1);
        int xe = p.endColumn(b0, b1);
        Buffers w = new Buffers(s.floats(0, (xe - xs) * p.c), s.floats(1, span), s.floats(2, span),
                s.floats(3, span), s.floats(4, span),
                s.ring(0, slots, width), s.ring(1, slots, width), s.ring(2, slots, width));
        float[] as = s.floats(5, width);
        float[] ae = s.floats(6, width);
        float[] aq = s.floats(7, width);
        long[] tags = s.longs(slots);
        Arrays.fill(tags, -1L);
        for (int r = from; r < to; r++) {
            int n = r / p.out.h();
            int oy = r % p.out.h();
            for (int jy = p.rowFirst[oy]; jy < p.rowEnd[oy]; jy++) {
                int slot = stage(src, n, p.inputRow(oy, jy), w, tags, slots, b0, b1, lo, hi, span, xs, xe);
                float[] hs = w.rs[slot];
                float[] he = w.re[slot];
                float[] hq = w.rq[slot];
                if (jy == p.rowFirst[oy]) {
                    System.arraycopy(hs, 0, as, 0, width);
                    System.arraycopy(he, 0, ae, 0, width);
                    System.arraycopy(hq, 0, aq, 0, width);
                } else {
                    for (int i = 0; i < width; i++) {
                        CompensatedSum.merge(as, ae, aq, i, hs[i], he[i], hq[i]);
                    }
                }
            }
            finish(src, as, ae, aq, n, oy, b0, b1);
            dst.put(Math.toIntExact(p.out.offset(n, oy, b0, 0)), as, 0, width);
        }
    }

    /** Stages input row (n, y) into its ring slot unless it is there already; returns the slot. */
    private int stage(FloatBuffer src, int n, int y, Buffers w, long[] tags, int slots, int b0, int b1, int lo,
                      int hi, int span, int xs, int xe) {
        int slot = p.claim(tags, slots, n, y);
        if (slot >= 0) {
            return slot;
        }
        slot = -1 - slot;
        sumAcross(src, n, y, w, slot, b0, b1, lo, hi, span, xs, xe);
        return slot;
    }

    /**
     * The horizontal half: input row (n, y)'s columns {@code [xs, xe)} are staged once, then each
     * block column's taps in that row are summed into ring slot {@code slot}.
     */
    private void sumAcross(FloatBuffer src, int n, int y, Buffers w, int slot, int b0, int b1, int lo, int hi,
                           int span, int xs, int xe) {
        int cc = p.c;
        float[] raw = w.raw;
        float[] hs = w.rs[slot];
        float[] he = w.re[slot];
        float[] hq = w.rq[slot];
        src.get(Math.toIntExact(p.in.offset(n, y, xs, 0)), raw, 0, (xe - xs) * cc);
        if (hi > lo) {
            float[] fs = w.fs;
            float[] fe = w.fe;
            float[] fq = w.fq;
            float[] tap = w.tap;
            int base = (p.colStart[lo] - xs) * cc;
            int tapStep = p.dw * cc;
            System.arraycopy(raw, base, fs, 0, span);
            Arrays.fill(fe, 0, span, 0f);
            Arrays.fill(fq, 0, span, 0f);
            for (int jx = 1; jx < p.cols.window(); jx++) {
                System.arraycopy(raw, base + jx * tapStep, tap, 0, span);
                for (int i = 0; i < span; i++) {
                    CompensatedSum.add(fs, fe, fq, i, tap[i]);
                }
            }
            p.keepStrided(fs, hs, lo, hi, b0, span);
            p.keepStrided(fe, he, lo, hi, b0, span);
            p.keepStrided(fq, hq, lo, hi, b0, span);
        }
        for (int ox = p.border(b0, lo, hi); ox < b1; ox = p.border(ox + 1, lo, hi)) {
            int a = (ox - b0) * cc;
            Arrays.fill(hs, a, a + cc, 0f);
            Arrays.fill(he, a, a + cc, 0f);
            Arrays.fill(hq, a, a + cc, 0f);
            for (int jx = p.colFirst[ox]; jx < p.colEnd[ox]; jx++) {
                int b = (p.inputColumn(ox, jx) - xs) * cc;
                for (int ch = 0; ch < cc; ch++) {
                    CompensatedSum.add(hs, he, hq, a + ch, raw[b + ch]);
                }
            }
        }
    }

    /**
     * Average = (s + e) / divisor, in place in {@code as} (formed in double and rounded once); results whose error bound is not within
     * {@link #TOLERANCE} (or that are not finite) are recomputed in double.
     */
    private void finish(FloatBuffer src, float[] as, float[] ae, float[] aq, int n, int oy, int b0, int b1) {
        int cc = p.c;
        float worst = Float.NEGATIVE_INFINITY;
        for (int ox = b0; ox < b1; ox++) {
            double divisor = divisor(oy, ox);
            float k = boundPerQ(oy, ox, divisor);
            int a = (ox - b0) * cc;
            for (int ch = 0; ch < cc; ch++) {
                // s + e and the division in double, rounded once: where the compensated sum is
                // exact (few taps), exactly the double path's result, as on fp64 devices.
                float v = (float) (((double) as[a + ch] + ae[a + ch]) / divisor);
                as[a + ch] = v;
                float size = Math.abs(v);
                // > 0 (or NaN) where the bound exceeds the tolerance or the result is not finite.
                worst = Math.max(worst, Math.max(aq[a + ch] * k - Math.max(1f, size), size - Float.MAX_VALUE));
            }
        }
        if (!(worst <= 0)) {
            for (int ox = b0; ox < b1; ox++) {
                float k = boundPerQ(oy, ox, divisor(oy, ox));
                int a = (ox - b0) * cc;
                for (int ch = 0; ch < cc; ch++) {
                    float size = Math.abs(as[a + ch]);
                    if (!(aq[a + ch] * k <= Math.max(1f, size) && size <= Float.MAX_VALUE)) {
                        as[a + ch] = exactAverage(src, n, oy, ox, ch);
                    }
                }
            }
        }
    }

    private double divisor(int oy, int ox) {
        int rowDiv = includePad ? p.rows.extentIncludingPad(oy) : p.rowEnd[oy] - p.rowFirst[oy];
        int colDiv = includePad ? p.cols.extentIncludingPad(ox) : p.colEnd[ox] - p.colFirst[ox];
        return (double) rowDiv * colDiv;
    }

    /** The error bound of output (oy, ox) per unit of q, in units of TOLERANCE (so ≤ max(1, |avg|) passes). */
    private float boundPerQ(int oy, int ox, double divisor) {
        long taps = (long) (p.rowEnd[oy] - p.rowFirst[oy]) * (p.colEnd[ox] - p.colFirst[ox]);
        return (float) (CompensatedSum.errorBound(taps) / divisor / TOLERANCE);
    }

    /** The average of one window summed in double in scan order (the path before compensated sums). */
    private float exactAverage(FloatBuffer src, int n, int oy, int ox, int ch) {
        double sum = 0;
        for (int jy = p.rowFirst[oy]; jy < p.rowEnd[oy]; jy++) {
            for (int jx = p.colFirst[ox]; jx < p.colEnd[ox]; jx++) {
                sum += src.get(Math.toIntExact(p.in.offset(n, p.inputRow(oy, jy), p.inputColumn(ox, jx), ch)));
            }
        }
        return CpuBackend.canonicalNaN((float) (sum * (1.0 / divisor(oy, ox))));
    }
}
