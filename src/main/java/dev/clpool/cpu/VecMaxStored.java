package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Channels-last windowed max of float16 and bfloat16 tensors on their 16-bit patterns, in Vector
 * API short lanes (32 to a 512-bit vector), nothing widened (loaded only where
 * {@link VectorSupport#ENABLED}). The result is the widened path's bit for bit: the float32 max
 * by clpool's rule ({@link VecMaxWindows}: taps in scan order, a later value replaces the maximum
 * only if strictly greater, the first NaN wins) rounded once to the storage type.
 *
 * <p>Why the fast form is exact. As signed shorts, the patterns with the sign bit clear order as
 * their values (+0 least, positive NaNs above +∞); those with it set order against their values
 * (−0, 0x8000, is the least short; negative NaNs lie just under 0, above −∞). So over a window,
 * where the greatest short {@code hi} is not negative it is the greatest value, and where every
 * tap is negative the least short {@code lo} is. Equal non-zero values have equal patterns, and a
 * value that is not NaN widens and rounds back to its own pattern, so that is the reference's
 * result except (a) in a window holding a NaN (the reference keeps the first in scan order, and
 * widening then rounding sets its quiet bit) and (b) in a window whose maximum is +0 and which
 * holds a −0 (the reference keeps the first zero in scan order). Each vector tracks, besides
 * {@code hi} and {@code lo}, the greatest magnitude {@code mag}: (a) is {@code mag} above the
 * exponent's all-ones pattern, (b) is {@code hi == +0} with {@code lo == −0}. Four lane operations
 * a tap. A vector with either is redone by the reference's rule itself ({@link #exact}, about three
 * times the work); ReLU'd and all-zero data hold +0 and no −0, so they stay on the fast form.
 */
final class VecMaxStored {
    /**
     * The preferred shape's shorts: 32 lanes on AVX-512 (whose byte and short lanes need AVX-512BW;
     * the test machine has it). A second short species beside {@link VecStorageConversion}'s half-width
     * one; each method here inlines few loads and stores, far from C2's trap limit
     * (docs/cpu-internals.md, "One float species").
     */
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final short MAGNITUDE = 0x7fff;
    private static final short MINUS_ZERO = (short) 0x8000;

    private VecMaxStored() {
    }

    /** Whether rows of {@code channels} fill at least one short vector (the last vector may overlap the one before). */
    static boolean fits(int channels) {
        return channels >= S.length();
    }

    /**
     * Output rows {@code [from, to)} of all {@code N*OH} (row index {@code n*OH + oy}) of the plan's
     * geometry, from 16-bit {@code src} into 16-bit {@code dst} (native order, element offsets as
     * the plan's shapes give them), both float16 where {@code half}, else bfloat16. Needs
     * {@link #fits}{@code (p.c)}.
     */
    static void run(ByteBuffer src, ByteBuffer dst, WindowPlan p, boolean half, int from, int to) {
        short nanAbove = half ? (short) 0x7c00 : (short) 0x7f80; // |pattern| above +∞'s: NaN
        short quiet = half ? (short) 0x0200 : (short) 0x0040;
        int c = p.c;
        int lanes = S.length();
        int[] at = new int[p.rows.window() * p.cols.window()];
        for (int r = from; r < to; r++) {
            int n = r / p.out.h();
            int oy = r % p.out.h();
            int outRow = Math.toIntExact(p.out.offset(n, oy, 0, 0) * Short.BYTES);
            for (int ox = 0; ox < p.out.w(); ox++) {
                int taps = p.taps(n, oy, ox, Short.BYTES, at);
                int o = outRow + ox * c * Short.BYTES;
                if (taps == 0) {
                    // No tap inside the input: the float32 path's −∞.
                    for (int ch = 0; ch < c; ch++) {
                        dst.putShort(o + ch * Short.BYTES, (short) (MINUS_ZERO | nanAbove));
                    }
                    continue;
                }
                int ch = 0;
                for (; ch + 2 * lanes <= c; ch += 2 * lanes) {
                    two(src, dst, at, taps, ch * Short.BYTES, o + ch * Short.BYTES, nanAbove, quiet);
                }
                for (; ch + lanes <= c; ch += lanes) {
                    one(src, dst, at, taps, ch * Short.BYTES, o + ch * Short.BYTES, nanAbove, quiet);
                }
                if (ch < c) {
                    int last = (c - lanes) * Short.BYTES;
                    one(src, dst, at, taps, last, o + last, nanAbove, quiet);
                }
            }
        }
    }

    /**
     * Channel blocks a batch item's global max is split into ({@link #global}): runs of two
     * vectors, the last one taking the rest (at least one vector, so that it may end with an
     * overlapping vector of its own).
     */
    static int globalBlocks(int c) {
        return Math.max(1, c / (2 * S.length()));
    }

    /**
     * Global max of tasks {@code [from, to)} of all {@code N·}{@link #globalBlocks}{@code (c)}
     * (task {@code n·blocks + b}: item n, channel block b) of channels-last 16-bit {@code src}
     * ({@code positions} pixels an item) into {@code dst} (N, 1, 1, c): {@link #run}'s windows with
     * the whole plane as the window, its pixels the taps in scan order (the rule over a plane is
     * the rule over a window of all its pixels). Needs {@link #fits}{@code (c)}.
     */
    static void global(ByteBuffer src, ByteBuffer dst, int positions, int c, boolean half, int from, int to) {
        short nanAbove = half ? (short) 0x7c00 : (short) 0x7f80;
        short quiet = half ? (short) 0x0200 : (short) 0x0040;
        int lanes = S.length();
        int blocks = globalBlocks(c);
        int[] at = new int[positions];
        for (int p = 0; p < positions; p++) {
            at[p] = p * c * Short.BYTES;
        }
        for (int task = from; task < to; task++) {
            int n = task / blocks;
            int b = task % blocks;
            int c0 = b * 2 * lanes;
            int c1 = b == blocks - 1 ? c : c0 + 2 * lanes;
            int item = n * positions * c * Short.BYTES;
            int o = n * c * Short.BYTES;
            int ch = c0;
            for (; ch + 2 * lanes <= c1; ch += 2 * lanes) {
                two(src, dst, at, positions, item + ch * Short.BYTES, o + ch * Short.BYTES, nanAbove, quiet);
            }
            for (; ch + lanes <= c1; ch += lanes) {
                one(src, dst, at, positions, item + ch * Short.BYTES, o + ch * Short.BYTES, nanAbove, quiet);
            }
            if (ch < c1) {
                int last = (c1 - lanes) * Short.BYTES;
                one(src, dst, at, positions, item + last, o + last, nanAbove, quiet);
            }
        }
    }

    /** One vector of channels from byte {@code ch} of each tap, into {@code dst} at byte {@code o}. */
    private static void one(ByteBuffer src, ByteBuffer dst, int[] at, int taps, int ch, int o, short nanAbove, short quiet) {
        ShortVector v = ShortVector.fromByteBuffer(S, src, at[0] + ch, ORDER);
        ShortVector hi = v;
        ShortVector lo = v;
        ShortVector mag = v.lanewise(VectorOperators.AND, MAGNITUDE);
        for (int k = 1; k < taps; k++) {
            v = ShortVector.fromByteBuffer(S, src, at[k] + ch, ORDER);
            hi = hi.max(v);
            lo = lo.min(v);
            mag = mag.max(v.lanewise(VectorOperators.AND, MAGNITUDE));
        }
        if (mag.compare(VectorOperators.GT, nanAbove)
                .or(hi.lanewise(VectorOperators.OR, lo.lanewise(VectorOperators.XOR, MINUS_ZERO))
                        .compare(VectorOperators.EQ, (short) 0))
                .anyTrue()) {
            exact(src, dst, at, taps, ch, o, nanAbove, quiet);
        } else {
            hi.blend(lo, hi.compare(VectorOperators.LT, (short) 0)).intoByteBuffer(dst, o, ORDER);
        }
    }

    /** Two vectors of channels from byte {@code ch} of each tap, into {@code dst} at byte {@code o}: {@link #one}'s form, twice in one tap loop. */
    private static void two(ByteBuffer src, ByteBuffer dst, int[] at, int taps, int ch, int o, short nanAbove, short quiet) {
        int step = S.vectorByteSize();
        ShortVector v0 = ShortVector.fromByteBuffer(S, src, at[0] + ch, ORDER);
        ShortVector v1 = ShortVector.fromByteBuffer(S, src, at[0] + ch + step, ORDER);
        ShortVector hi0 = v0;
        ShortVector lo0 = v0;
        ShortVector mag0 = v0.lanewise(VectorOperators.AND, MAGNITUDE);
        ShortVector hi1 = v1;
        ShortVector lo1 = v1;
        ShortVector mag1 = v1.lanewise(VectorOperators.AND, MAGNITUDE);
        for (int k = 1; k < taps; k++) {
            int a = at[k] + ch;
            v0 = ShortVector.fromByteBuffer(S, src, a, ORDER);
            v1 = ShortVector.fromByteBuffer(S, src, a + step, ORDER);
            hi0 = hi0.max(v0);
            lo0 = lo0.min(v0);
            mag0 = mag0.max(v0.lanewise(VectorOperators.AND, MAGNITUDE));
            hi1 = hi1.max(v1);
            lo1 = lo1.min(v1);
            mag1 = mag1.max(v1.lanewise(VectorOperators.AND, MAGNITUDE));
        }
        // Either vector suspect: both are stored by the exact rule (rare; keeps this method small).
        ShortVector mag = mag0.max(mag1);
        ShortVector zero0 = hi0.lanewise(VectorOperators.OR, lo0.lanewise(VectorOperators.XOR, MINUS_ZERO));
        ShortVector zero1 = hi1.lanewise(VectorOperators.OR, lo1.lanewise(VectorOperators.XOR, MINUS_ZERO));
        if (mag.compare(VectorOperators.GT, nanAbove)
                .or(zero0.compare(VectorOperators.EQ, (short) 0))
                .or(zero1.compare(VectorOperators.EQ, (short) 0))
                .anyTrue()) {
            exact(src, dst, at, taps, ch, o, nanAbove, quiet);
            exact(src, dst, at, taps, ch + step, o + step, nanAbove, quiet);
            return;
        }
        hi0.blend(lo0, hi0.compare(VectorOperators.LT, (short) 0)).intoByteBuffer(dst, o, ORDER);
        hi1.blend(lo1, hi1.compare(VectorOperators.LT, (short) 0)).intoByteBuffer(dst, o + step, ORDER);
    }

    /**
     * One vector of channels by the reference's rule itself, into {@code dst} at byte {@code o}: a
     * tap replaces the maximum where it is strictly greater by value or NaN while the maximum is
     * not; a NaN result gets its quiet bit, as widening and rounding give it. Values are compared
     * by a key whose signed order is the patterns' value order, −0 and +0 equal: a negative
     * pattern's low 15 bits inverted and one added (−magnitude), a positive one as it is. The
     * first tap is the maximum as it stands (the reference's −∞ start takes it, or equals it).
     * Written out in one method, no vector passed to a helper (C2 boxes a vector passed to a
     * method it does not inline).
     */
    private static void exact(ByteBuffer src, ByteBuffer dst, int[] at, int taps, int ch, int o, short nanAbove, short quiet) {
        ShortVector m = ShortVector.fromByteBuffer(S, src, at[0] + ch, ORDER);
        ShortVector sign = m.lanewise(VectorOperators.ASHR, 15);
        ShortVector mk = m.lanewise(VectorOperators.XOR, sign.lanewise(VectorOperators.AND, MAGNITUDE)).sub(sign);
        VectorMask<Short> mn = m.lanewise(VectorOperators.AND, MAGNITUDE).compare(VectorOperators.GT, nanAbove);
        for (int k = 1; k < taps; k++) {
            ShortVector v = ShortVector.fromByteBuffer(S, src, at[k] + ch, ORDER);
            sign = v.lanewise(VectorOperators.ASHR, 15);
            ShortVector vk = v.lanewise(VectorOperators.XOR, sign.lanewise(VectorOperators.AND, MAGNITUDE)).sub(sign);
            VectorMask<Short> vn = v.lanewise(VectorOperators.AND, MAGNITUDE).compare(VectorOperators.GT, nanAbove);
            VectorMask<Short> take = vk.compare(VectorOperators.GT, mk).or(vn).andNot(mn);
            m = m.blend(v, take);
            mk = mk.blend(vk, take);
            mn = mn.or(vn);
        }
        m.blend(m.lanewise(VectorOperators.OR, quiet), mn).intoByteBuffer(dst, o, ORDER);
    }
}
