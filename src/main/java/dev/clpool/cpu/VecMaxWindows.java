package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link MaxWindows} in Vector API lanes (loaded only where {@link VectorSupport#ENABLED}): each
 * output's window is read straight from the direct buffer, vectors along the channels, taps in
 * scan order, and reduced with clpool's rule itself (a later value replaces the maximum only if
 * strictly greater; the first NaN wins) in five lane operations per tap. The result is therefore
 * the reference's bit for bit, with no zero-or-NaN fix-up ({@link MaxExact}) and so no data cliff
 * for all-zero or ReLU'd inputs; the scalar path needs that fix-up because C2 vectorises only
 * {@code Math.max}.
 *
 * <p>Direct windows, not the scalar path's separable passes: without staging copies into heap
 * arrays, reading each tap of a small window from L1/L2 costs less than the passes' copies
 * (measured: docs/performance.md). Large stride-1 windows stay on the prefix–suffix path
 * ({@link MaxVanHerk}). Channels are taken four vectors at a time (four accumulators in
 * registers), then one; a channel count that is not a multiple of the vector length ends with one
 * vector that overlaps the previous one (the overlapped lanes are computed twice, to the same
 * bits), so at least one vector of channels is needed ({@link VectorSupport#fits}).
 */
final class VecMaxWindows {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VecMaxWindows() {
    }


    /** clpool's max rule in lanes: takes {@code v} where it is greater than {@code m}, or NaN while {@code m} is not. */
    static FloatVector rule(FloatVector m, FloatVector v) {
        return m.blend(v, v.compare(VectorOperators.LE, m).not().and(m.compare(VectorOperators.EQ, m)));
    }

    /**
     * clpool's rule where neither value is NaN: {@code v} where it is strictly greater than
     * {@code m} (a later zero of either sign does not replace an earlier one).
     */
    static FloatVector greater(FloatVector m, FloatVector v) {
        return m.blend(v, v.compare(VectorOperators.GT, m));
    }

    /**
     * {@code d[o + i] = rule(s[first + i], x[second + i])} for {@code i < count} (a multiple of the
     * lanes): the strictly-greater form where {@code nan} is false (neither side holds a NaN).
     * The two-span step of {@link VecMaxDoubling} and {@link VecMaxVanHerk}.
     */
    static void pair(float[] s, int first, float[] x, int second, float[] d, int o, int count, boolean nan) {
        int lanes = S.length();
        if (nan) {
            for (int i = 0; i < count; i += lanes) {
                rule(FloatVector.fromArray(S, s, first + i), FloatVector.fromArray(S, x, second + i))
                        .intoArray(d, o + i);
            }
            return;
        }
        for (int i = 0; i < count; i += lanes) {
            greater(FloatVector.fromArray(S, s, first + i), FloatVector.fromArray(S, x, second + i)).intoArray(d, o + i);
        }
    }

    /** {@link #pair} into {@code dst} from byte {@code o}. */
    static void pairOut(float[] s, int first, float[] x, int second, ByteBuffer dst, int o, int count, boolean nan) {
        int lanes = S.length();
        int step = S.vectorByteSize();
        if (nan) {
            for (int i = 0; i < count; i += lanes, o += step) {
                rule(FloatVector.fromArray(S, s, first + i), FloatVector.fromArray(S, x, second + i))
                        .intoByteBuffer(dst, o, ORDER);
            }
            return;
        }
        for (int i = 0; i < count; i += lanes, o += step) {
            greater(FloatVector.fromArray(S, s, first + i), FloatVector.fromArray(S, x, second + i))
                    .intoByteBuffer(dst, o, ORDER);
        }
    }

    /**
     * Output rows {@code [from, to)} of all {@code N*OH} (row index {@code n*OH + oy}) of the plan's
     * geometry, from {@code src} into {@code dst} (float32 in native order, element offsets as the
     * plan's shapes give them). Needs {@link VectorSupport#fits}{@code (p.c)}.
     */
    static void run(ByteBuffer src, ByteBuffer dst, WindowPlan p, int from, int to) {
        int c = p.c;
        int lanes = S.length();
        int quad = 4 * lanes;
        int[] at = new int[p.rows.window() * p.cols.window()];
        for (int r = from; r < to; r++) {
            int n = r / p.out.h();
            int oy = r % p.out.h();
            int outRow = Math.toIntExact(p.out.offset(n, oy, 0, 0) * Float.BYTES);
            for (int ox = 0; ox < p.out.w(); ox++) {
                int taps = p.taps(n, oy, ox, Float.BYTES, at);
                int o = outRow + ox * c * Float.BYTES;
                if (c >= TAP_MAJOR_CHANNELS) {
                    tapByTap(src, dst, at, taps, c, o);
                    continue;
                }
                if (taps == 4) {
                    fourTaps(src, dst, at, c, o);
                    continue;
                }
                int ch = 0;
                for (; ch + quad <= c; ch += quad) {
                    four(src, dst, at, taps, ch * Float.BYTES, o + ch * Float.BYTES);
                }
                for (; ch + lanes <= c; ch += lanes) {
                    one(src, dst, at, taps, ch * Float.BYTES, o + ch * Float.BYTES);
                }
                if (ch < c) {
                    int last = (c - lanes) * Float.BYTES;
                    one(src, dst, at, taps, last, o + last);
                }
            }
        }
    }

    /** Four vectors of channels from byte {@code ch} of each tap, into {@code dst} at byte {@code o}. */
    private static void four(ByteBuffer src, ByteBuffer dst, int[] at, int taps, int ch, int o) {
        int step = S.vectorByteSize();
        FloatVector m0 = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        FloatVector m1 = m0;
        FloatVector m2 = m0;
        FloatVector m3 = m0;
        for (int k = 0; k < taps; k++) {
            int a = at[k] + ch;
            m0 = rule(m0, FloatVector.fromByteBuffer(S, src, a, ORDER));
            m1 = rule(m1, FloatVector.fromByteBuffer(S, src, a + step, ORDER));
            m2 = rule(m2, FloatVector.fromByteBuffer(S, src, a + 2 * step, ORDER));
            m3 = rule(m3, FloatVector.fromByteBuffer(S, src, a + 3 * step, ORDER));
        }
        m0.intoByteBuffer(dst, o, ORDER);
        m1.intoByteBuffer(dst, o + step, ORDER);
        m2.intoByteBuffer(dst, o + 2 * step, ORDER);
        m3.intoByteBuffer(dst, o + 3 * step, ORDER);
    }

    /**
     * Channels from which an output is reduced tap by tap ({@link #tapByTap}) rather than four
     * vectors of channels at a time across the taps. With 512 channels the four-vector form reads
     * each window row in two interleaved streams 2 KB apart (one per tap): VGG-16 block 4's 2x2 s2
     * took twice the time per byte of block 1's 64 channels on one thread, and tap by tap halves
     * it; at 128 channels the two forms cost the same, at 64 tap by tap is slower
     * (docs/performance.md, "Max windows tap by tap").
     */
    static final int TAP_MAJOR_CHANNELS = 256;

    /**
     * All {@code c} channels of one output, tap by tap: the first tap copied into {@code dst} at
     * byte {@code o}, each later one folded into it by the rule. Each tap's channels are read as
     * one run, so the input is read in as many streams as the window has rows, not as it has taps.
     */
    private static void tapByTap(ByteBuffer src, ByteBuffer dst, int[] at, int taps, int c, int o) {
        int step = S.vectorByteSize();
        int full = c / S.length() * step;
        int a0 = at[0];
        for (int b = 0; b < full; b += step) {
            FloatVector.fromByteBuffer(S, src, a0 + b, ORDER).intoByteBuffer(dst, o + b, ORDER);
        }
        for (int k = 1; k < taps; k++) {
            int a = at[k];
            for (int b = 0; b < full; b += step) {
                rule(FloatVector.fromByteBuffer(S, dst, o + b, ORDER), FloatVector.fromByteBuffer(S, src, a + b, ORDER))
                        .intoByteBuffer(dst, o + b, ORDER);
            }
        }
        if (full < c * Float.BYTES) {
            int last = c * Float.BYTES - step;
            one(src, dst, at, taps, last, o + last);
        }
    }

    /**
     * All {@code c} channels (fewer than {@link #TAP_MAJOR_CHANNELS}) of an output whose window has
     * exactly four taps inside the input (a 2×2 window away from the padding), into {@code dst} at
     * byte {@code o}: each vector of channels reduced across the four taps in registers and stored
     * once, without the general form's tap loop and −∞ start. From 256 channels the taps' 2 KB
     * runs would be read interleaved, which was slower than tap by tap (docs/performance.md,
     * branch {@code wide}).
     */
    private static void fourTaps(ByteBuffer src, ByteBuffer dst, int[] at, int c, int o) {
        int a0 = at[0];
        int a1 = at[1];
        int a2 = at[2];
        int a3 = at[3];
        int step = S.vectorByteSize();
        int last = (c - S.length()) * Float.BYTES;
        for (int b = 0; b < last; b += step) {
            fourAt(src, dst, a0 + b, a1 + b, a2 + b, a3 + b, o + b);
        }
        fourAt(src, dst, a0 + last, a1 + last, a2 + last, a3 + last, o + last);
    }

    /** One vector of channels of {@link #fourTaps}: the taps at bytes a0..a3, the output at byte {@code o}. */
    private static void fourAt(ByteBuffer src, ByteBuffer dst, int a0, int a1, int a2, int a3, int o) {
        FloatVector m = FloatVector.fromByteBuffer(S, src, a0, ORDER);
        m = rule(m, FloatVector.fromByteBuffer(S, src, a1, ORDER));
        m = rule(m, FloatVector.fromByteBuffer(S, src, a2, ORDER));
        rule(m, FloatVector.fromByteBuffer(S, src, a3, ORDER)).intoByteBuffer(dst, o, ORDER);
    }

    /** One vector of channels from byte {@code ch} of each tap, into {@code dst} at byte {@code o}. */
    private static void one(ByteBuffer src, ByteBuffer dst, int[] at, int taps, int ch, int o) {
        FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int k = 0; k < taps; k++) {
            m = rule(m, FloatVector.fromByteBuffer(S, src, at[k] + ch, ORDER));
        }
        m.intoByteBuffer(dst, o, ORDER);
    }
}
