package dev.clpool.cpu;

import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Windowed average pooling over a range of output rows (the separable scheme of {@link WindowPlan}),
 * summed in plain float (loops that C2 vectorises, where the double sums they replace needed a scalar
 * float→double widening per element) with a running error bound beside each sum.
 *
 * <p>Every rounded float addition {@code t = fl(a + b)} errs by at most u·|t| (u = 2^-24, round to
 * nearest; additions whose result is subnormal are exact), so a sum is within u·B of the true sum,
 * where B is the sum of the magnitudes of every partial sum formed on the way to it (horizontal and
 * vertical; Wilkinson's running error analysis). B itself is summed in float, and a float sum of r
 * non-negative terms underestimates by at most a factor (1 + γ(r)), which {@link #boundPerB} covers.
 * Unlike the a-priori bound γ(m−1)·Σ|x|, B stays small for zero-mean data, so almost nothing falls
 * back on typical inputs.
 *
 * <p>Every result is certified: the bound divided by the divisor must be at most
 * {@link #TOLERANCE}·max(1, |avg|), a quarter of SEMANTICS.md's 4e-6, leaving room for the float
 * division. A result that fails (heavy cancellation, an infinity or NaN in the window, or a sum
 * that overflows float although the average would not) is recomputed in double in scan order
 * ({@link #exactAverage}), which is what every result was before.
 */
final class AvgWindows {
    /** The error allowed to the fast path, relative to max(1, |avg|). */
    static final float TOLERANCE = 1e-6f;

    /**
     * Whether a float average {@code avg} whose error bound B (the sum of the magnitudes its
     * rounded additions saw) times {@code perB} (u·(1 + γ)/count/{@link #TOLERANCE}) is at most
     * max(1, |avg|), and which is finite, is certified; every fast average path asks this of each
     * result it did not already pass in lanes, and recomputes the ones that fail.
     */
    static boolean certified(float bound, float perB, float avg) {
        float size = Math.abs(avg);
        return bound * perB <= Math.max(1f, size) && size <= Float.MAX_VALUE;
    }

    private final WindowPlan p;
    private final boolean includePad;
    /** Whether {@link VecAvgWindows} runs this geometry (where the JVM has the Vector API). */
    private final boolean vector;
    /** The lanes' divisors and factors, per class of output rows (null without the lanes). */
    private final AvgDivisors lanes;

    /** Without {@code lanes} only the scalar path runs: {@link AvgVanHerk}'s exact fallbacks need no lane tables. */
    AvgWindows(PoolGeometry g, boolean lanes) {
        if (g.mode() != PoolMode.AVG) {
            throw new IllegalArgumentException("avg windows run avg, not " + g.mode().word());
        }
        p = new WindowPlan(g);
        includePad = g.spec().countIncludePad();
        vector = lanes && VectorSupport.fits(p.c);
        this.lanes = vector ? new AvgDivisors(this, p) : null;
    }

    long workPerRow() {
        return p.workPerRow();
    }

    /** One row of a certified float path: sums it, keeps each result's certificate in {@code worst}. */
    @FunctionalInterface
    interface CertifiedRow {
        /**
         * Row {@code r}: writes its results and keeps, per element, the largest bound − max(1, |result|)
         * (in units of the tolerance) in {@code worst}; with {@code checkEach}, recomputes every
         * result that fails in double before writing it.
         */
        void run(int r, float[] worst, boolean checkEach, Scratch s);
    }

    /**
     * Rows {@code [0, rows)} of a certified float path ({@link AdaptiveAvgRows}, {@link AvgBackwardRows})
     * in tasks of consecutive rows, each of about {@code minWork} elements: a task's certificates
     * are kept as an element-wise maximum over its rows ({@code width} per row) and read once (a
     * scan per row cost as much as a small row's sums); if one fails, the task's rows are computed
     * again, checking each result.
     */
    static void certifiedRows(int rows, long workPerRow, long minWork, int width, CpuBackward.Parallel parallel,
                              CertifiedRow row) {
        int group = (int) Math.max(1, Math.min(rows, minWork / Math.max(1L, workPerRow)));
        parallel.run((rows + group - 1) / group, task -> {
            int from = task * group;
            int to = Math.min(rows, from + group);
            Scratch s = Scratch.get();
            float[] worst = s.floats(7, width);
            Arrays.fill(worst, 0, width, Float.NEGATIVE_INFINITY);
            for (int r = from; r < to; r++) {
                row.run(r, worst, false, s);
            }
            for (int i = 0; i < width; i++) {
                if (!(worst[i] <= 0)) {
                    for (int r = from; r < to; r++) {
                        row.run(r, worst, true, s);
                    }
                    return;
                }
            }
        });
    }

    /**
     * Output rows {@code [from, to)} of all {@code N*OH} (row index {@code n*OH + oy}) from float32
     * tensor {@code in} into {@code out}: in Vector API lanes ({@link VecAvgWindows}) where this JVM
     * runs them and the channels fill a vector, each row that fails its certificate computed again
     * here (checking each result); else as {@link #run(FloatBuffer, FloatBuffer, int, int, Scratch)}.
     * Where neighbouring output rows share input rows ({@link #sharesRows}) the lanes read them from
     * a ring of copies ({@link #staged}); else straight from the tensor.
     */
    void run(Tensor in, Tensor out, int from, int to, Scratch scratch) {
        if (!(VectorSupport.ENABLED && vector)) {
            run(in.floats(), out.floats(), from, to, scratch);
            return;
        }
        if (sharesRows()) {
            for (int b0 = 0; b0 < p.out.w(); b0 += p.blockOut) {
                staged(in.floats(), out.floats(), from, to, b0, Math.min(p.out.w(), b0 + p.blockOut), scratch);
            }
            return;
        }
        ByteBuffer src = in.buffer();
        ByteBuffer dst = out.buffer();
        int[] at = scratch.ints(0, 1, p.rows.window() * p.cols.window())[0];
        int[] rowAt = scratch.ints(1, 1, p.rows.window())[0];
        for (int r = from; r < to; r++) {
            int n = r / p.out.h();
            int oy = r % p.out.h();
            for (int jy = p.rowFirst[oy]; jy < p.rowEnd[oy]; jy++) {
                rowAt[jy - p.rowFirst[oy]] = Math.toIntExact(p.in.offset(n, p.inputRow(oy, jy), 0, 0) * Float.BYTES);
            }
            int o = Math.toIntExact(p.out.offset(n, oy, 0, 0) * Float.BYTES);
            if (!VecAvgWindows.row(src, rowAt, dst, o, p, oy, lanes.divisor, lanes.perB, lanes.at(oy), at)) {
                redo(in.floats(), out.floats(), r, 0, p.out.w(), scratch);
            }
        }
    }

    /** Whether input rows belong to several output rows' windows, and a ring of a window's rows fits in 4 MB. */
    boolean sharesRows() {
        return p.rows.stride() < p.rows.effectiveWindow() && (long) p.rows.effectiveWindow() * p.in.w() * p.c <= 1 << 20;
    }

    /**
     * Output rows {@code [from, to)} of block {@code [b0, b1)} in lanes from a ring of
     * {@code effectiveWindow} staged input rows (the block's columns), each input row copied once
     * while the rows that read it pass; each output row's results written from a heap row.
     */
    private void staged(FloatBuffer x, FloatBuffer y, int from, int to, int b0, int b1, Scratch scratch) {
        int slots = p.rows.effectiveWindow();
        int[] at = scratch.ints(0, 1, p.rows.window() * p.cols.window())[0];
        int[] rowAt = scratch.ints(1, 1, p.rows.window())[0];
        long[] tags = new long[slots];
        Arrays.fill(tags, -1L);
        int xs = p.firstColumn(b0, b1);
        int seg = (p.endColumn(b0, b1) - xs) * p.c;
        float[] rows = scratch.floats(11, slots * seg);
        int width = (b1 - b0) * p.c;
        float[] res = scratch.floats(12, width);
        for (int r = from; r < to; r++) {
            int n = r / p.out.h();
            int oy = r % p.out.h();
            for (int jy = p.rowFirst[oy]; jy < p.rowEnd[oy]; jy++) {
                int iy = p.inputRow(oy, jy);
                int slot = p.claim(tags, slots, n, iy);
                if (slot < 0) {
                    slot = -1 - slot;
                    x.get(Math.toIntExact(p.in.offset(n, iy, xs, 0)), rows, slot * seg, seg);
                }
                rowAt[jy - p.rowFirst[oy]] = slot * seg;
            }
            int k0 = lanes.at(oy);
            if (VecAvgWindows.staged(rows, rowAt, xs, res, p, oy, b0, b1, lanes.divisor, lanes.perB, k0, at)) {
                y.put(Math.toIntExact(p.out.offset(n, oy, b0, 0)), res, 0, width);
            } else {
                redo(x, y, r, b0, b1, scratch);
            }
        }
    }

    /** Output row {@code r}'s columns {@code [b0, b1)} on the scalar path, each result checked (the lanes failed). */
    private void redo(FloatBuffer x, FloatBuffer y, int r, int b0, int b1, Scratch scratch) {
        for (int c0 = b0, c1; c0 < b1; c0 = c1) {
            c1 = Math.min(b1, c0 + p.blockOut);
            rows(x, y, r, r + 1, c0, c1, scratch, scratch.floats(7, (c1 - c0) * p.c), true);
        }
    }

    /** Output rows {@code [from, to)} of all {@code N*OH}, each row index being {@code n*OH + oy}. */
    void run(FloatBuffer src, FloatBuffer dst, int from, int to, Scratch scratch) {
        for (int b0 = 0; b0 < p.out.w(); b0 += p.blockOut) {
            block(src, dst, from, to, b0, Math.min(p.out.w(), b0 + p.blockOut), scratch);
        }
    }

    /**
     * Scratch of one block: the staged input segment, one column tap, the interior's sums and bounds
     * at every column position, one border column's sums and bounds, and the ring of horizontal
     * results (sums, bounds).
     */
    private record Buffers(float[] raw, float[] tap, float[] fs, float[] fb, float[] bs, float[] bb,
                           float[][] rs, float[][] rb) {
    }

    /**
     * Output rows {@code [from, to)} of block {@code [b0, b1)}. The certificate of every result is
     * kept as an element-wise maximum over the rows (a loop C2 vectorises: a maximum reduced into a
     * scalar per row cost as much as everything else together) and read once at the end; if any
     * result failed, the rows are computed again, this time checking each result and sending those
     * that fail to the double path (rare: heavy cancellation, an infinity or NaN, float overflow).
     */
    private void block(FloatBuffer src, FloatBuffer dst, int from, int to, int b0, int b1, Scratch s) {
        int width = (b1 - b0) * p.c;
        float[] worst = s.floats(7, width);
        Arrays.fill(worst, 0, width, Float.NEGATIVE_INFINITY);
        rows(src, dst, from, to, b0, b1, s, worst, false);
        for (int i = 0; i < width; i++) {
            if (!(worst[i] <= 0)) {
                rows(src, dst, from, to, b0, b1, s, worst, true);
                return;
            }
        }
    }

    private void rows(FloatBuffer src, FloatBuffer dst, int from, int to, int b0, int b1, Scratch s, float[] worst,
                      boolean checkEach) {
        int width = (b1 - b0) * p.c;
        int slots = p.slots(width);
        int lo = p.interiorFrom(b0, b1);
        int hi = p.interiorTo(b0, b1);
        int span = p.span(lo, hi);
        int xs = p.firstColumn(b0, b1);
        int xe = p.endColumn(b0, b1);
        Buffers w = new Buffers(s.floats(0, (xe - xs) * p.c), s.floats(1, Math.max(span, p.c)), s.floats(2, span),
                s.floats(3, span), s.floats(4, p.c), s.floats(8, p.c), s.ring(0, slots, width), s.ring(1, slots, width));
        float[] as = s.floats(5, width);
        float[] ab = s.floats(6, width);
        long[] tags = s.longs(slots);
        Arrays.fill(tags, -1L);
        for (int r = from; r < to; r++) {
            int n = r / p.out.h();
            int oy = r % p.out.h();
            // The window's first row is copied (zeros if it is also the last; added to the second in
            // one loop when every row of the window stays in the ring), middle rows are merged, and
            // the last row is merged and finished in one loop.
            int first = p.rowFirst[oy];
            int last = p.rowEnd[oy] - 1;
            for (int jy = first; jy <= last; jy++) {
                int slot = stage(src, n, p.inputRow(oy, jy), w, tags, slots, b0, b1, lo, hi, span, xs, xe);
                float[] hs = w.rs[slot];
                float[] hb = w.rb[slot];
                if (jy == last) {
                    if (jy == first) {
                        Arrays.fill(as, 0, width, 0f);
                        Arrays.fill(ab, 0, width, 0f);
                    }
                    finish(as, ab, hs, hb, worst, oy, b0, b1);
                } else if (jy == first && jy + 1 < last && slots >= p.rows.effectiveWindow()) {
                    int next = stage(src, n, p.inputRow(oy, ++jy), w, tags, slots, b0, b1, lo, hi, span, xs, xe);
                    float[] ns = w.rs[next];
                    float[] nb = w.rb[next];
                    for (int i = 0; i < width; i++) {
                        float t = hs[i] + ns[i];
                        as[i] = t;
                        ab[i] = hb[i] + nb[i] + Math.abs(t);
                    }
                } else if (jy == first) {
                    System.arraycopy(hs, 0, as, 0, width);
                    System.arraycopy(hb, 0, ab, 0, width);
                } else {
                    for (int i = 0; i < width; i++) {
                        float t = as[i] + hs[i];
                        as[i] = t;
                        ab[i] += hb[i] + Math.abs(t);
                    }
                }
            }
            if (checkEach) {
                recheck(src, as, ab, n, oy, b0, b1);
            }
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
        float[] hb = w.rb[slot];
        src.get(Math.toIntExact(p.in.offset(n, y, xs, 0)), raw, 0, (xe - xs) * cc);
        if (hi > lo && p.gathers()) {
            sumGathered(w, slot, b0, lo, hi, raw, (p.colStart[lo] - xs) * cc);
        } else if (hi > lo) {
            float[] fs = w.fs;
            float[] fb = w.fb;
            float[] tap = w.tap;
            int base = (p.colStart[lo] - xs) * cc;
            int tapStep = p.dw * cc;
            System.arraycopy(raw, base, fs, 0, span);
            if (p.cols.window() == 1) {
                Arrays.fill(fb, 0, span, 0f);
            }
            for (int jx = 1; jx < p.cols.window(); jx++) {
                System.arraycopy(raw, base + jx * tapStep, tap, 0, span);
                addTap(fs, fb, tap, span, jx == 1);
            }
            p.keepStrided(fs, hs, lo, hi, b0, span);
            p.keepStrided(fb, hb, lo, hi, b0, span);
        }
        // Border columns: each tap is copied to the start of an array of its own, so that the loop
        // has one index expression (and vectorises), as in the interior.
        float[] bs = w.bs;
        float[] bb = w.bb;
        float[] tap = w.tap;
        for (int ox = p.border(b0, lo, hi); ox < b1; ox = p.border(ox + 1, lo, hi)) {
            Arrays.fill(bs, 0, cc, 0f);
            Arrays.fill(bb, 0, cc, 0f);
            for (int jx = p.colFirst[ox]; jx < p.colEnd[ox]; jx++) {
                System.arraycopy(raw, (p.inputColumn(ox, jx) - xs) * cc, tap, 0, cc);
                for (int ch = 0; ch < cc; ch++) {
                    float t = bs[ch] + tap[ch];
                    bs[ch] = t;
                    bb[ch] += Math.abs(t);
                }
            }
            System.arraycopy(bs, 0, hs, (ox - b0) * cc, cc);
            System.arraycopy(bb, 0, hb, (ox - b0) * cc, cc);
        }
    }

    /**
     * The interior of {@link #sumAcross} with a column stride above 1 (as {@link MaxWindows} does
     * it): each tap's kept columns are gathered from the staged row ({@code raw} from {@code base},
     * the interior's first column), so only the kept positions are summed, not every position then
     * every stride-th kept (DenseNet's 2×2 s2 summed twice the columns it keeps). The same
     * additions in the same order, so the same bits.
     */
    private void sumGathered(Buffers w, int slot, int b0, int lo, int hi, float[] raw, int base) {
        int cc = p.c;
        int width = (hi - lo) * cc;
        float[] fs = w.fs;
        float[] fb = w.fb;
        float[] tap = w.tap;
        p.gather(raw, base, 0, fs, hi - lo);
        if (p.cols.window() == 1) {
            Arrays.fill(fb, 0, width, 0f);
        }
        for (int jx = 1; jx < p.cols.window(); jx++) {
            p.gather(raw, base, jx, tap, hi - lo);
            addTap(fs, fb, tap, width, jx == 1);
        }
        System.arraycopy(fs, 0, w.rs[slot], (lo - b0) * cc, width);
        System.arraycopy(fb, 0, w.rb[slot], (lo - b0) * cc, width);
    }

    /** Adds a column tap into the horizontal sums and their bounds (the first tap added starts the bounds). */
    private static void addTap(float[] fs, float[] fb, float[] tap, int len, boolean first) {
        if (first) {
            for (int i = 0; i < len; i++) {
                float t = fs[i] + tap[i];
                fs[i] = t;
                fb[i] = Math.abs(t);
            }
        } else {
            for (int i = 0; i < len; i++) {
                float t = fs[i] + tap[i];
                fs[i] = t;
                fb[i] += Math.abs(t);
            }
        }
    }

    /**
     * Adds the window's last row (hs, hb) and divides: average = sum / divisor, in place in
     * {@code as}; {@code worst} keeps, per element, the largest bound·k − max(1, |avg|): > 0 (or
     * NaN) where a bound exceeded the tolerance. A sum that is infinite or NaN has an infinite or
     * NaN bound, so non-finite results show there too. Columns with the same divisor and tap count
     * (all the interior ones) share one loop.
     */
    private void finish(float[] as, float[] ab, float[] hs, float[] hb, float[] worst, int oy, int b0, int b1) {
        int cc = p.c;
        for (int ox = b0, next; ox < b1; ox = next) {
            double divisor = divisor(oy, ox);
            int taps = p.colEnd[ox] - p.colFirst[ox];
            next = ox + 1;
            while (next < b1 && p.colEnd[next] - p.colFirst[next] == taps && divisor(oy, next) == divisor) {
                next++;
            }
            // A float division, not a multiplication by 1/divisor: for an exact sum t and a
            // divisor below 2^24 it rounds as (float) (t / divisor) in double does (double
            // rounding is innocuous for division at these precisions), which is what an fp64
            // device computes for few 16-bit terms.
            float d = (float) divisor;
            float k = boundPerB(oy, ox, divisor, 3);
            for (int i = (ox - b0) * cc; i < (next - b0) * cc; i++) {
                float t = as[i] + hs[i];
                float bound = ab[i] + hb[i] + Math.abs(t);
                float v = t / d;
                as[i] = v;
                ab[i] = bound;
                worst[i] = Math.max(worst[i], bound * k - Math.max(1f, Math.abs(v)));
            }
        }
    }

    /** Recomputes in double the averages of one output row whose bound fails or that are not finite. */
    private void recheck(FloatBuffer src, float[] as, float[] ab, int n, int oy, int b0, int b1) {
        int cc = p.c;
        for (int ox = b0; ox < b1; ox++) {
            float k = boundPerB(oy, ox, divisor(oy, ox), 3);
            int a = (ox - b0) * cc;
            for (int ch = 0; ch < cc; ch++) {
                if (!certified(ab[a + ch], k, as[a + ch])) {
                    as[a + ch] = exactAverage(src, n, oy, ox, ch);
                }
            }
        }
    }

    double divisor(int oy, int ox) {
        int rowDiv = includePad ? p.rows.extentIncludingPad(oy) : p.rowEnd[oy] - p.rowFirst[oy];
        int colDiv = includePad ? p.cols.extentIncludingPad(ox) : p.colEnd[ox] - p.colFirst[ox];
        return (double) rowDiv * colDiv;
    }

    /**
     * The error bound of output (oy, ox) per unit of B, in units of TOLERANCE (so ≤ max(1, |avg|)
     * passes): u·(1 + γ(r))/divisor, where r bounds the additions that formed B, at most
     * {@code perTap} per tap (here one per tap across and two per row down, so three); infinite
     * where γ is meaningless.
     */
    float boundPerB(int oy, int ox, double divisor, int perTap) {
        long taps = (long) (p.rowEnd[oy] - p.rowFirst[oy]) * (p.colEnd[ox] - p.colFirst[ox]);
        double bound = 0x1p-24 * (1 + CompensatedSum.gamma(perTap * taps));
        return (float) (bound / divisor / TOLERANCE);
    }

    /**
     * The element offsets (channel 0) of output (n, oy, ox)'s taps inside the input, in scan
     * order, into {@code at}; returns their count. With {@link #exactAverage(FloatBuffer, int[], int, int, int, int)}
     * it recomputes several channels of one window without forming each tap's offset again.
     */
    int taps(int n, int oy, int ox, int[] at) {
        return p.taps(n, oy, ox, 1, at);
    }

    /**
     * {@link #exactAverage(FloatBuffer, int, int, int, int)} of channel {@code ch} of output (oy, ox)
     * whose taps {@link #taps} listed in {@code at}: the same double sum in the same order, so the
     * same bits.
     */
    float exactAverage(FloatBuffer src, int[] at, int taps, int oy, int ox, int ch) {
        double sum = 0;
        for (int t = 0; t < taps; t++) {
            sum += src.get(at[t] + ch);
        }
        return CpuBackend.canonicalNaN((float) (sum / divisor(oy, ox)));
    }

    /** The average of one window summed in double in scan order (the path before float sums). */
    float exactAverage(FloatBuffer src, int n, int oy, int ox, int ch) {
        double sum = 0;
        for (int jy = p.rowFirst[oy]; jy < p.rowEnd[oy]; jy++) {
            for (int jx = p.colFirst[ox]; jx < p.colEnd[ox]; jx++) {
                sum += src.get(Math.toIntExact(p.in.offset(n, p.inputRow(oy, jy), p.inputColumn(ox, jx), ch)));
            }
        }
        return CpuBackend.canonicalNaN((float) (sum / divisor(oy, ox)));
    }
}
