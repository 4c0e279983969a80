package dev.clpool.cpu;

import dev.clpool.cpu.AvgVanHerk.Windows;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link AvgVanHerk} in Vector API lanes (loaded only where {@link VectorSupport#ENABLED}; dilation
 * 1): the same prefix and suffix sums within blocks of {@code k} taps, anchored at the same
 * absolute positions, formed by the same additions in the same order with the same running bound
 * beside each, so every sum, bound and certificate has the scalar path's bits, and so has every
 * result. One vector of channels at a time, each chain of sums in registers: across each input
 * row of the band (from a copy of the band's input rows, below), the suffix and prefix sums of a
 * row (a few KB) joined into the band's row sums; then down each column of those the same way, each output joined in
 * registers as it is divided, written and certified. Only the partial sums some window joins are
 * formed, and only those a window reads are stored. The band's arrays hold one vector of channels
 * (46 KB for 19 rows of 19 columns); the scalar path passes over whole band rows (all channels,
 * 3 MB for 19×19×512) once per step, each step an array loop of its own.
 *
 * <p>The sums across read the band's input rows from a heap array, filled by one bulk copy per
 * row ({@link AvgVanHerk}), not from the tensor: a group of four vectors reads 256 bytes of each
 * 2 KB pixel (512 channels), eight times over an item, and read straight from the buffer
 * ({@code fromByteBuffer}, with its checks per load, from lines not yet cached) those sums were
 * the largest part of the time; the copy runs in memory order at the speed of a copy.
 *
 * <p>A vector whose certificate (bound·k − max(1, |average|) ≤ 0, as in {@link VecAvgWindows})
 * fails in some lane is reported with its lanes' certificates, and the caller recomputes those
 * lanes in double, as the scalar path does.
 */
final class VecAvgVanHerk {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VecAvgVanHerk() {
    }

    /** Vectors of channels summed together, in four independent chains. */
    static final int GROUP = 4;

    /** Floats per vector of channels. */
    static int lanes() {
        return S.length();
    }


    /**
     * One band of a batch item and {@code vectors} (1 or {@link #GROUP}) consecutive vectors of
     * channels: band input row u, position q at {@code xs} index {@code inAt + u*rowFloats + q*pix}
     * (a copy of the band's input rows, {@code pix} floats a pixel; {@code inAt} the group's first
     * channel), output channels from byte offset {@code off}, the rows and columns being
     * {@code rows} and {@code cols} (absolute rows less the tensor's row origin {@code origin}); output i of output
     * row r is written at {@code dst} byte {@code outAt[r] + i*pixOut + off}, divided by
     * {@code div[r*cols.count() + i]} and certified with {@code kk[...]}. Returns the number of
     * vectors that failed; the f-th is vector {@code fails[f] % vectors} of output
     * {@code fails[f] / vectors} (r*cols.count() + i), its lanes' certificates in
     * {@code worst[f*lanes..]} (a lane whose value is not ≤ 0 failed).
     */
    static int band(float[] xs, int inAt, int rowFloats, int pix, ByteBuffer dst, int origin, Windows rows,
                    Windows cols, int[] outAt, int pixOut, int off, int vectors, float[] div, float[] kk, int[] fails,
                    float[] worst, Scratch s) {
        int cw = vectors * S.length();
        int bw = cols.count();
        int width = bw * cw;
        int line = Math.max(cols.positions(), rows.positions()) * cw;
        float[] hs = s.floats(0, rows.positions() * width);
        float[] hb = s.floats(1, rows.positions() * width);
        float[] rs = s.floats(2, line);
        float[] rb = s.floats(3, line);
        float[] rp = s.floats(4, line);
        float[] rpb = s.floats(5, line);
        for (int u = 0; u < rows.positions(); u++) {
            sweep(xs, null, inAt + u * rowFloats, pix, cols, cols.lo(), vectors, rs, rb, rp, rpb);
            join(cols, cw, rs, rb, rp, rpb, hs, hb, u * width);
        }
        int failed = 0;
        for (int i = 0; i < bw; i++) {
            sweep(hs, hb, i * cw, width, rows, origin + rows.lo(), vectors, rs, rb, rp, rpb);
            failed = divide(dst, rows, vectors, rs, rb, rp, rpb, outAt, i * pixOut + off, bw, i, div, kk, fails, worst,
                    failed);
        }
        return failed;
    }

    /**
     * Suffix and prefix sums with bounds along one line within blocks of {@code w.k()}, blocks
     * anchored at absolute position {@code lo} (the line's first): suffixes into {@code rs}/{@code rb},
     * prefixes into {@code rp}/{@code rpb}, {@code vectors} (1 or {@link #GROUP}) vectors per
     * position. The line is {@code hs} from {@code at + q*step} with no {@code hb} (the input:
     * exact values, so a sum of one value has bound zero) or the band's row sums {@code hs}/{@code hb}
     * from {@code at + q*step} (with their bounds). Only the sums some window joins are formed: a
     * block's suffixes down to the first tap of its first window that takes a suffix, its prefixes
     * up to the last tap of its last window that takes a prefix (with padding, the windows clipped
     * at the line's ends leave the rest unused; the sums formed are the same, so are the results).
     */
    private static void sweep(float[] hs, float[] hb, int at, int step, Windows w, int lo, int vectors,
                              float[] rs, float[] rb, float[] rp, float[] rpb) {
        int[] first = w.first();
        int[] last = w.last();
        int[] kind = w.kind();
        // first and last are non-decreasing: the windows of a block are consecutive.
        int i = w.count() - 1;
        for (int end = w.positions(); end > 0; ) {
            int start = Math.max(0, end - 1 - Math.floorMod(lo + end - 1, w.k()));
            int low = end;
            int keep = start - 1;
            for (; i >= 0 && first[i] >= start; i--) {
                if (kind[i] != AvgVanHerk.PREFIX) {
                    low = Math.min(low, first[i]);
                    keep = Math.max(keep, first[i]);
                }
            }
            if (low < end) {
                chain(hs, hb, at, step, end - 1, keep, low - 1, -1, vectors, rs, rb);
            }
            end = start;
        }
        i = 0;
        for (int start = 0; start < w.positions(); ) {
            int end = Math.min(w.positions(), start + w.k() - Math.floorMod(lo + start, w.k()));
            int high = start - 1;
            int keep = end;
            for (; i < w.count() && last[i] < end; i++) {
                if (kind[i] != AvgVanHerk.SUFFIX) {
                    high = Math.max(high, last[i]);
                    keep = Math.min(keep, last[i]);
                }
            }
            if (high >= start) {
                chain(hs, hb, at, step, start, keep, high + 1, 1, vectors, rp, rpb);
            }
            start = end;
        }
    }

    /**
     * One block's partial sums (see {@link #sweep}), from position {@code from} up to but not
     * including {@code to}, in direction {@code dir} (±1), stored from position {@code keep} on (the
     * first that a window reads: with padding, a block's leading prefixes, which only the clipped
     * windows' longer sums pass through, are formed but never read).
     */
    private static void chain(float[] hs, float[] hb, int at, int step, int from, int keep, int to, int dir,
                              int vectors, float[] ts, float[] tb) {
        if (hb == null && vectors == GROUP) {
            chainRow4(hs, at, step, from, keep, to, dir, ts, tb);
        } else if (hb == null) {
            chainRow(hs, at, step, from, keep, to, dir, ts, tb);
        } else if (vectors == GROUP) {
            chainColumn4(hs, hb, at, step, from, keep, to, dir, ts, tb);
        } else {
            chainColumn(hs, hb, at, step, from, keep, to, dir, ts, tb);
        }
    }

    /** {@link #chain} along an input row, one vector per position. */
    private static void chainRow(float[] xs, int at, int step, int from, int keep, int to, int dir, float[] ts,
                                 float[] tb) {
        int l = S.length();
        FloatVector t = FloatVector.fromArray(S, xs, at + from * step);
        FloatVector b = FloatVector.zero(S);
        if ((from - keep) * dir >= 0) {
            t.intoArray(ts, from * l);
            b.intoArray(tb, from * l);
        }
        for (int q = from + dir; q != to; q += dir) {
            t = t.add(FloatVector.fromArray(S, xs, at + q * step));
            b = b.add(t.abs());
            if ((q - keep) * dir >= 0) {
                t.intoArray(ts, q * l);
                b.intoArray(tb, q * l);
            }
        }
    }

    /** {@link #chainRow} for {@link #GROUP} consecutive vectors, in four independent chains. */
    private static void chainRow4(float[] xs, int at, int step, int from, int keep, int to, int dir, float[] ts,
                                  float[] tb) {
        int l = S.length();
        int x = at + from * step;
        FloatVector t0 = FloatVector.fromArray(S, xs, x);
        FloatVector t1 = FloatVector.fromArray(S, xs, x + l);
        FloatVector t2 = FloatVector.fromArray(S, xs, x + 2 * l);
        FloatVector t3 = FloatVector.fromArray(S, xs, x + 3 * l);
        FloatVector b0 = FloatVector.zero(S);
        FloatVector b1 = b0;
        FloatVector b2 = b0;
        FloatVector b3 = b0;
        if ((from - keep) * dir >= 0) {
            store4(t0, t1, t2, t3, ts, from * GROUP * l);
            store4(b0, b1, b2, b3, tb, from * GROUP * l);
        }
        for (int q = from + dir; q != to; q += dir) {
            x = at + q * step;
            t0 = t0.add(FloatVector.fromArray(S, xs, x));
            t1 = t1.add(FloatVector.fromArray(S, xs, x + l));
            t2 = t2.add(FloatVector.fromArray(S, xs, x + 2 * l));
            t3 = t3.add(FloatVector.fromArray(S, xs, x + 3 * l));
            b0 = b0.add(t0.abs());
            b1 = b1.add(t1.abs());
            b2 = b2.add(t2.abs());
            b3 = b3.add(t3.abs());
            if ((q - keep) * dir >= 0) {
                store4(t0, t1, t2, t3, ts, q * GROUP * l);
                store4(b0, b1, b2, b3, tb, q * GROUP * l);
            }
        }
    }

    /** {@link #chain} down the band's row sums (position q's at {@code at + q*step}), one vector per position. */
    private static void chainColumn(float[] hs, float[] hb, int at, int step, int from, int keep, int to, int dir,
                                    float[] ts, float[] tb) {
        int l = S.length();
        FloatVector t = FloatVector.fromArray(S, hs, at + from * step);
        FloatVector b = FloatVector.fromArray(S, hb, at + from * step);
        if ((from - keep) * dir >= 0) {
            t.intoArray(ts, from * l);
            b.intoArray(tb, from * l);
        }
        for (int q = from + dir; q != to; q += dir) {
            t = t.add(FloatVector.fromArray(S, hs, at + q * step));
            b = b.add(FloatVector.fromArray(S, hb, at + q * step)).add(t.abs());
            if ((q - keep) * dir >= 0) {
                t.intoArray(ts, q * l);
                b.intoArray(tb, q * l);
            }
        }
    }

    /** {@link #chainColumn} for {@link #GROUP} consecutive vectors, in four independent chains. */
    private static void chainColumn4(float[] hs, float[] hb, int at, int step, int from, int keep, int to, int dir,
                                     float[] ts, float[] tb) {
        int l = S.length();
        int x = at + from * step;
        FloatVector t0 = FloatVector.fromArray(S, hs, x);
        FloatVector t1 = FloatVector.fromArray(S, hs, x + l);
        FloatVector t2 = FloatVector.fromArray(S, hs, x + 2 * l);
        FloatVector t3 = FloatVector.fromArray(S, hs, x + 3 * l);
        FloatVector b0 = FloatVector.fromArray(S, hb, x);
        FloatVector b1 = FloatVector.fromArray(S, hb, x + l);
        FloatVector b2 = FloatVector.fromArray(S, hb, x + 2 * l);
        FloatVector b3 = FloatVector.fromArray(S, hb, x + 3 * l);
        if ((from - keep) * dir >= 0) {
            store4(t0, t1, t2, t3, ts, from * GROUP * l);
            store4(b0, b1, b2, b3, tb, from * GROUP * l);
        }
        for (int q = from + dir; q != to; q += dir) {
            x = at + q * step;
            t0 = t0.add(FloatVector.fromArray(S, hs, x));
            t1 = t1.add(FloatVector.fromArray(S, hs, x + l));
            t2 = t2.add(FloatVector.fromArray(S, hs, x + 2 * l));
            t3 = t3.add(FloatVector.fromArray(S, hs, x + 3 * l));
            b0 = b0.add(FloatVector.fromArray(S, hb, x)).add(t0.abs());
            b1 = b1.add(FloatVector.fromArray(S, hb, x + l)).add(t1.abs());
            b2 = b2.add(FloatVector.fromArray(S, hb, x + 2 * l)).add(t2.abs());
            b3 = b3.add(FloatVector.fromArray(S, hb, x + 3 * l)).add(t3.abs());
            if ((q - keep) * dir >= 0) {
                store4(t0, t1, t2, t3, ts, q * GROUP * l);
                store4(b0, b1, b2, b3, tb, q * GROUP * l);
            }
        }
    }

    /** Four consecutive vectors into {@code to} from {@code o}. */
    private static void store4(FloatVector v0, FloatVector v1, FloatVector v2, FloatVector v3, float[] to, int o) {
        int l = S.length();
        v0.intoArray(to, o);
        v1.intoArray(to, o + l);
        v2.intoArray(to, o + 2 * l);
        v3.intoArray(to, o + 3 * l);
    }

    /**
     * Each window's sum and bound along a line, from its suffix and prefix sums ({@code cw} floats
     * per position), into {@code ts}/{@code tb} at {@code to + i*cw}.
     */
    private static void join(Windows w, int cw, float[] rs, float[] rb, float[] rp, float[] rpb,
                             float[] ts, float[] tb, int to) {
        int l = S.length();
        int[] first = w.first();
        int[] last = w.last();
        int[] kind = w.kind();
        for (int i = 0; i < w.count(); i++, to += cw) {
            int a = first[i] * cw;
            int b = last[i] * cw;
            if (kind[i] != AvgVanHerk.BOTH) {
                // One partial sum: copied by vectors (a call of the copy stub per 256 bytes cost more).
                boolean prefix = kind[i] == AvgVanHerk.PREFIX;
                float[] ps = prefix ? rp : rs;
                float[] pb = prefix ? rpb : rb;
                int from = prefix ? b : a;
                for (int j = 0; j < cw; j += l) {
                    FloatVector.fromArray(S, ps, from + j).intoArray(ts, to + j);
                    FloatVector.fromArray(S, pb, from + j).intoArray(tb, to + j);
                }
            } else {
                for (int j = 0; j < cw; j += l) {
                    FloatVector t = FloatVector.fromArray(S, rs, a + j).add(FloatVector.fromArray(S, rp, b + j));
                    t.intoArray(ts, to + j);
                    FloatVector.fromArray(S, rb, a + j).add(FloatVector.fromArray(S, rpb, b + j)).add(t.abs())
                            .intoArray(tb, to + j);
                }
            }
        }
    }

    /**
     * Joins output column i's window sums down the rows from their suffix and prefix sums (as
     * {@link #join}, {@code vectors} per position), divides them, writes them to {@code dst} at
     * byte {@code outAt[r] + to} and certifies them; failures appended from {@code failed} on
     * (returns their new count). Joined in registers: the sums are not stored and read back.
     */
    private static int divide(ByteBuffer dst, Windows w, int vectors, float[] rs, float[] rb, float[] rp, float[] rpb,
                              int[] outAt, int to, int bw, int i, float[] div, float[] kk, int[] fails, float[] worst,
                              int failed) {
        int l = S.length();
        int cw = vectors * l;
        int[] first = w.first();
        int[] last = w.last();
        int[] kind = w.kind();
        for (int r = 0; r < w.count(); r++) {
            int e = r * bw + i;
            float d = div[e];
            float k = kk[e];
            int a = first[r] * cw;
            int b = last[r] * cw;
            int how = kind[r];
            for (int j = 0; j < vectors; j++, a += l, b += l) {
                FloatVector t;
                FloatVector tb;
                if (how == AvgVanHerk.PREFIX) {
                    t = FloatVector.fromArray(S, rp, b);
                    tb = FloatVector.fromArray(S, rpb, b);
                } else if (how == AvgVanHerk.SUFFIX) {
                    t = FloatVector.fromArray(S, rs, a);
                    tb = FloatVector.fromArray(S, rb, a);
                } else {
                    t = FloatVector.fromArray(S, rs, a).add(FloatVector.fromArray(S, rp, b));
                    tb = FloatVector.fromArray(S, rb, a).add(FloatVector.fromArray(S, rpb, b)).add(t.abs());
                }
                // A float division, as the scalar path's (see AvgWindows.finish).
                FloatVector v = t.div(d);
                v.intoByteBuffer(dst, outAt[r] + to + j * S.vectorByteSize(), ORDER);
                // bound·k − max(1, |v|) ≤ 0 fails for a NaN, and for an infinite average (∞ − ∞).
                FloatVector c = tb.mul(k).sub(v.abs().max(1f));
                if (!c.compare(VectorOperators.LE, 0f).allTrue()) {
                    c.intoArray(worst, failed * l);
                    fails[failed++] = e * vectors + j;
                }
            }
        }
        return failed;
    }
}
