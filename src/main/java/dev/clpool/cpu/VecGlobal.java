package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernels of {@link CpuGlobal} (used only where {@link VectorSupport#ENABLED}): one
 * run of pixels of one batch item reduced per channel, straight from the tensor's direct buffer
 * (no staging into heap arrays), a vector of channels at a time. Offsets are in floats: pixel
 * {@code p} of the run, channel {@code ch}, is the float at {@code at + p·c + ch} of {@code src}
 * (native byte order). Scanning each vector of channels down the whole run with its accumulators
 * in registers was 1.5–2× slower than the scalar loops (strided reads, 1–5 KB apart); the kernels
 * read the run in order instead, with the lanes in arrays that stay in the L1 cache.
 */
final class VecGlobal {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Groups of four pixels per flush into the compensated sums, as {@link CpuGlobal}'s fast form. */
    private static final int BLOCK = 4;

    private VecGlobal() {
    }


    /**
     * The fast form of {@link CpuGlobal}'s sums with one lane per channel, lane by lane the same
     * arithmetic as its scalar loop with one pixel per lane (bit for bit): groups of four pixels
     * (the last padded with +0) added pairwise, {@code g = (x0 + x1) + (x2 + x3)}, {@code t = l + g},
     * the bound B adding {@code (|x0 + x1| + |x2 + x3|) + (|g| + |t|)}, and every {@value #BLOCK}
     * groups (and after the last) the lane added into its {@link CompensatedSum} (TwoSum) and
     * restarted. Pixels outer, the channels' vectors inner (the run is read in order), the lanes
     * in arrays: channel {@code ch}'s running sum in {@code l[ch]}, and its B, s, e and q left in
     * {@code lb[ch]}, {@code cs[ch]}, {@code ce[ch]} and {@code cq[ch]} (each array at least
     * {@link #padded}{@code (c)} long: where {@code c} is not a multiple of the vector length, the
     * last vector reads the last {@link #lanes} channels, overlapping the one before, into lanes of
     * its own past the others, and its new channels are moved into place at the end; masked loads
     * from a buffer were 3× slower on JDK 17). Returns the number of flushes (the compensated sums' terms).
     */
    static long sum(ByteBuffer src, int at, int pixels, int c, float[] lb, float[] cs, float[] ce, float[] cq,
                    float[] l) {
        int step = F.length();
        int stride = 4 * c;
        long flushes = 0;
        for (int p = 0; p < pixels; p += 4) {
            int o = 4 * at + p * stride;
            int k = Math.min(4, pixels - p);
            boolean first = p == 0;
            boolean flush = (p & (4 * BLOCK - 1)) == 4 * BLOCK - 4 || p + 4 >= pixels;
            boolean firstFlush = flush && flushes == 0;
            flushes += flush ? 1 : 0;
            for (int v = 0; v < c; v += step) {
                FloatVector zero = FloatVector.zero(F);
                int at0 = o + 4 * Math.min(v, c - step);
                FloatVector x0 = FloatVector.fromByteBuffer(F, src, at0, ORDER);
                FloatVector x1 = k > 1 ? FloatVector.fromByteBuffer(F, src, at0 + stride, ORDER) : zero;
                FloatVector x2 = k > 2 ? FloatVector.fromByteBuffer(F, src, at0 + 2 * stride, ORDER) : zero;
                FloatVector x3 = k > 3 ? FloatVector.fromByteBuffer(F, src, at0 + 3 * stride, ORDER) : zero;
                FloatVector a = x0.add(x1);
                FloatVector b = x2.add(x3);
                FloatVector g = a.add(b);
                FloatVector t = (first ? zero : FloatVector.fromArray(F, l, v)).add(g);
                FloatVector bound = a.abs().add(b.abs()).add(g.abs().add(t.abs()));
                (first ? zero : FloatVector.fromArray(F, lb, v)).add(bound).intoArray(lb, v);
                if (flush) {
                    // TwoSum of s and t: the error term is exact (see CompensatedSum.add); the lane restarts.
                    FloatVector s = firstFlush ? zero : FloatVector.fromArray(F, cs, v);
                    FloatVector sum = s.add(t);
                    FloatVector part = sum.sub(s);
                    FloatVector err = s.sub(sum.sub(part)).add(t.sub(part));
                    sum.intoArray(cs, v);
                    (firstFlush ? zero : FloatVector.fromArray(F, ce, v)).add(err).intoArray(ce, v);
                    (firstFlush ? zero : FloatVector.fromArray(F, cq, v)).add(err.abs()).intoArray(cq, v);
                    zero.intoArray(l, v);
                } else {
                    t.intoArray(l, v);
                }
            }
        }
        int tail = c % step;
        if (tail != 0) {
            int from = c - tail;
            int shift = step - tail;
            System.arraycopy(lb, from + shift, lb, from, tail);
            System.arraycopy(cs, from + shift, cs, from, tail);
            System.arraycopy(ce, from + shift, ce, from, tail);
            System.arraycopy(cq, from + shift, cq, from, tail);
        }
        return flushes;
    }

    /**
     * Plain float sums for {@link GapAvg}: each channel's {@code pixels} values summed in groups of
     * 8 pixels (then groups of 4, then single pixels), each group a pairwise tree with the leaf
     * pairs {@code a = x0 + x1} first, its sum added into the channel's lane {@code s[ch]}. Beside it,
     * in {@code b[ch]}, the float sum over the groups of T·Σ|a| (T the group's tree levels: 3, 2, 0;
     * a lone pixel is a pair of its own, with no addition) plus the magnitude |s| of the lane's new
     * sum: {@link GapAvg}'s error bound, a priori for the trees and running for the lane additions.
     * Lanes are laid out as {@link #sum}'s (at least {@link #padded}{@code (c)} floats, the
     * overlapping last vector moved into place at the end); both start from +0. Returns the
     * number of groups (lane additions). Groups of 8, not 16: 16 rows read at once (8 KB apart for
     * 2048 channels) ran 10–15% slower.
     */
    static int pairSum(ByteBuffer src, int at, int pixels, int c, float[] s, float[] b) {
        int stride = 4 * c;
        int groups = 0;
        int p = 0;
        for (; p + 8 <= pixels; p += 8, groups++) {
            eight(src, 4 * at + p * stride, stride, c, s, b, groups == 0);
        }
        for (; p + 4 <= pixels; p += 4, groups++) {
            four(src, 4 * at + p * stride, stride, c, s, b, groups == 0);
        }
        for (; p < pixels; p++, groups++) {
            one(src, 4 * at + p * stride, c, s, b, groups == 0);
        }
        int tail = c % F.length();
        if (tail != 0) {
            int from = c - tail;
            System.arraycopy(s, from + F.length() - tail, s, from, tail);
            System.arraycopy(b, from + F.length() - tail, b, from, tail);
        }
        return groups;
    }

    /** One group of 8 pixels from byte {@code o} into the lanes (see {@link #pairSum}). */
    private static void eight(ByteBuffer src, int o, int stride, int c, float[] s, float[] b, boolean first) {
        int step = F.length();
        for (int v = 0; v < c; v += step) {
            int at = o + 4 * Math.min(v, c - step);
            FloatVector a0 = load(src, at).add(load(src, at + stride));
            FloatVector a1 = load(src, at + 2 * stride).add(load(src, at + 3 * stride));
            FloatVector a2 = load(src, at + 4 * stride).add(load(src, at + 5 * stride));
            FloatVector a3 = load(src, at + 6 * stride).add(load(src, at + 7 * stride));
            FloatVector zero = FloatVector.zero(F);
            FloatVector sum = (first ? zero : FloatVector.fromArray(F, s, v)).add(a0.add(a1).add(a2.add(a3)));
            sum.intoArray(s, v);
            FloatVector m = a0.abs().add(a1.abs()).add(a2.abs().add(a3.abs()));
            (first ? zero : FloatVector.fromArray(F, b, v)).add(m.add(m).add(m).add(sum.abs())).intoArray(b, v);
        }
    }

    /** One group of 4 pixels from byte {@code o} into the lanes (see {@link #pairSum}). */
    private static void four(ByteBuffer src, int o, int stride, int c, float[] s, float[] b, boolean first) {
        int step = F.length();
        for (int v = 0; v < c; v += step) {
            int at = o + 4 * Math.min(v, c - step);
            FloatVector a0 = load(src, at).add(load(src, at + stride));
            FloatVector a1 = load(src, at + 2 * stride).add(load(src, at + 3 * stride));
            FloatVector zero = FloatVector.zero(F);
            FloatVector sum = (first ? zero : FloatVector.fromArray(F, s, v)).add(a0.add(a1));
            sum.intoArray(s, v);
            FloatVector m = a0.abs().add(a1.abs());
            (first ? zero : FloatVector.fromArray(F, b, v)).add(m.add(m).add(sum.abs())).intoArray(b, v);
        }
    }

    /** One pixel from byte {@code o} into the lanes, a pair of its own (see {@link #pairSum}). */
    private static void one(ByteBuffer src, int o, int c, float[] s, float[] b, boolean first) {
        int step = F.length();
        for (int v = 0; v < c; v += step) {
            FloatVector zero = FloatVector.zero(F);
            FloatVector sum = (first ? zero : FloatVector.fromArray(F, s, v)).add(load(src, o + 4 * Math.min(v, c - step)));
            sum.intoArray(s, v);
            (first ? zero : FloatVector.fromArray(F, b, v)).add(sum.abs()).intoArray(b, v);
        }
    }

    /**
     * {@link GapAvg}'s finish in lanes: {@code result[ch] = s[ch] / pixels} for the {@code c}
     * channels, and whether every channel is certified, {@code perW·w[ch] − allowed·max(1, |result[ch]|) ≤ 0}
     * (false where that is NaN). The same float operations per channel as a scalar loop, so the same
     * bits and the same verdict; the excesses' largest is carried in a vector (a NaN stays there)
     * and read once. A scalar finish over the 2048 channels of an item was a seventh of ResNet-50's
     * head on one thread (docs/performance.md, branch {@code gap3}).
     */
    static boolean certifiedAverages(float[] s, float[] w, int c, int pixels, float perW, float allowed, float[] result) {
        float hw = pixels;
        int step = F.length();
        FloatVector worst = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int ch = 0;
        for (; ch <= c - step; ch += step) {
            FloatVector v = FloatVector.fromArray(F, s, ch).div(hw);
            v.intoArray(result, ch);
            FloatVector limit = v.abs().lanewise(VectorOperators.MAX, 1f).mul(allowed);
            worst = worst.lanewise(VectorOperators.MAX, FloatVector.fromArray(F, w, ch).mul(perW).sub(limit));
        }
        boolean certified = worst.reduceLanes(VectorOperators.MAX) <= 0;
        for (; ch < c; ch++) {
            float v = s[ch] / hw;
            result[ch] = v;
            certified &= perW * w[ch] - allowed * Math.max(1f, Math.abs(v)) <= 0;
        }
        return certified;
    }

    private static FloatVector load(ByteBuffer src, int at) {
        return FloatVector.fromByteBuffer(F, src, at, ORDER);
    }

    /** Floats in each array {@link #sum} writes: {@code c} rounded up to whole vectors. */
    static int padded(int c) {
        return (c + F.length() - 1) / F.length() * F.length();
    }

    /**
     * clpool's max ({@link CpuBackend#max}) of each channel over the run, in scan order, into
     * {@code m[ch]}: pixels outer, the channels' vectors inner (the run is read in order), each lane
     * folded by {@code Math.max} ({@code MAX}), which gives clpool's answer wherever it is neither
     * zero nor NaN (the largest value; equal non-zero floats have the same bits). A channel whose
     * {@code Math.max} is zero takes its first ±0 in scan order, and one whose {@code Math.max} is
     * NaN its first NaN: the rule's answers (ties keep the first; the first NaN wins). Only those
     * channels are read again, each up to that element: a ReLU'd channel that is all zero stops at
     * its first pixel. Compare-and-blend with a NaN poison, as before, was 1.73 against 1.56 ms on
     * one thread for CBAM's 16×56×56×256 (docs/performance.md, branch {@code gap3}).
     */
    static void max(ByteBuffer src, int at, int pixels, int c, float[] m) {
        int step = F.length();
        int stride = 4 * c;
        java.util.Arrays.fill(m, 0, c, Float.NEGATIVE_INFINITY);
        for (int p = 0, o = 4 * at; p < pixels; p++, o += stride) {
            for (int ch = 0; ch < c; ch += step) {
                int v = Math.min(ch, c - step);
                FloatVector x = FloatVector.fromByteBuffer(F, src, o + 4 * v, ORDER);
                FloatVector.fromArray(F, m, v).lanewise(VectorOperators.MAX, x).intoArray(m, v);
            }
        }
        for (int ch = 0; ch < c; ch++) {
            float r = m[ch];
            if (r == 0 || r != r) {
                m[ch] = first(src, at, pixels, c, ch, r == 0);
            }
        }
    }

    /** Channel {@code ch}'s first ±0 ({@code zero}) or first NaN in scan order; the run holds one. */
    private static float first(ByteBuffer src, int at, int pixels, int c, int ch, boolean zero) {
        for (int p = 0; p < pixels; p++) {
            float x = src.getFloat(4 * (at + p * c + ch));
            if (zero ? x == 0 : x != x) {
                return x;
            }
        }
        throw new IllegalStateException("channel " + ch + " holds no " + (zero ? "zero" : "NaN"));
    }
}
