package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Stride-1 max windows (SPP's 5×5, 9×9, 13×13) in Vector API lanes, separably and by doubling
 * (loaded only where {@link VectorSupport#ENABLED}; {@link MaxVanHerk} chooses it).
 *
 * <p>Along one axis, level {@code l} holds at each position the maximum of the {@code 2^l}
 * positions from it ({@code T(l+1)[x] = rule(T(l)[x], T(l)[x + 2^l])}, formed in place in
 * ascending order); a window of {@code len} positions from {@code lo} is then
 * {@code rule(T(l)[lo], T(l)[lo + len - 2^l])} with {@code 2^l <= len < 2^(l+1)}: two ranges
 * that overlap. Each window is reduced across the columns of every input row, then the same way
 * down those results; a 5×5 window costs three lane maxima per output and axis, a 13×13 four.
 *
 * <p>The reduction is clpool's rule (a later value replaces the maximum only if strictly greater;
 * the first NaN wins), so the result is the reference's bit for bit with no zero-or-NaN fix-up.
 * The rule picks the first of the window's values that is greatest (NaN above everything, zeros
 * of either sign equal) in scan order, and so gives the same bits however the scan is cut into
 * consecutive parts (each input row's columns, then the rows in order), and for two overlapping
 * ranges that cover the window, the first starting at its first position and the second ending
 * at its last: if the first greatest value lies in the first range, that range's result is it and
 * the second's is not greater; if not, the overlap holds no greatest value and the second range's
 * first greatest value is the window's. Padding is never read (the ranges are clamped to the
 * input). Where a staged row holds no NaN the rule is two lane operations ({@link VecMaxWindows#greater}: take
 * the later value where strictly greater), else its five ({@link VecMaxWindows#rule}).
 *
 * <p>Everything is in the tensor's own layout (channels innermost) and every loop is flat: an
 * input row is staged by one bulk copy, a level step or an output row is one pass over
 * consecutive floats. Reading one vector of channels per position at a time instead (2 KB apart
 * at 512 channels) made the staging alone cost 40% of the scalar path's whole time
 * (docs/performance.md, branch {@code spp5}). Needs the channels to be a multiple of the lanes.
 */
final class VecMaxDoubling {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = S.withLanes(int.class);

    private VecMaxDoubling() {
    }

    /** Vector lanes. */
    static int lanes() {
        return S.length();
    }

    /** Whether the channels suit this kernel (a whole number of vectors). */
    static boolean fits(int c) {
        return c % S.length() == 0;
    }

    /**
     * Output rows {@code [oy0, oy1)} of batch item n, from input rows {@code [r0, r1)} (clamped to
     * the input), from {@code src} into {@code dst} (whose buffer is {@code out}). {@code a} holds
     * one input row ({@code W*C} floats), {@code b} {@code (r1 - r0) * OW * C}.
     */
    static void band(FloatBuffer src, ByteBuffer out, WindowPlan p, int n, int oy0, int oy1, int r0, int r1,
                     float[] a, float[] b) {
        boolean nan = false;
        for (int u = 0; u < r1 - r0; u++) {
            nan |= across(src, p, n, r0 + u, a, b, u * p.out.w() * p.c);
        }
        down(b, out, p, n, oy0, oy1, r0, r1, nan);
    }

    /**
     * Input row (n, y) staged into {@code a} and reduced across each output column's window into
     * {@code b} from float {@code at}: levels in place in {@code a}, each output column taken at
     * its window's level. Returns whether the row holds a NaN.
     */
    private static boolean across(FloatBuffer src, WindowPlan p, int n, int y, float[] a, float[] b, int at) {
        int c = p.c;
        int w = p.in.w();
        src.get(Math.toIntExact(p.in.offset(n, y, 0, 0)), a, 0, w * c);
        boolean nan = holdsNaN(a, w * c);
        int levels = level(p.cols.window());
        for (int l = 0; l <= levels; l++) {
            if (l > 0) {
                double1(a, (w - (1 << (l - 1))) * c, (1 << (l - 1)) * c, nan);
            }
            for (int ox = 0; ox < p.out.w(); ox++) {
                int lo = p.colStart[ox] + p.colFirst[ox];
                int len = p.colEnd[ox] - p.colFirst[ox];
                if (level(len) == l) {
                    VecMaxWindows.pair(a, lo * c, a, (lo + len - (1 << l)) * c, b, at + ox * c, c, nan);
                }
            }
        }
        return nan;
    }

    /**
     * Output rows {@code [oy0, oy1)} from the horizontal results of input rows {@code [r0, r1)} in
     * {@code b}: levels in place, each output row taken at its window's level.
     */
    private static void down(float[] b, ByteBuffer out, WindowPlan p, int n, int oy0, int oy1, int r0, int r1,
                             boolean nan) {
        int line = p.out.w() * p.c;
        int levels = level(p.rows.window());
        for (int l = 0; l <= levels; l++) {
            if (l > 0) {
                double1(b, (r1 - r0 - (1 << (l - 1))) * line, (1 << (l - 1)) * line, nan);
            }
            for (int oy = oy0; oy < oy1; oy++) {
                int lo = p.rowStart[oy] + p.rowFirst[oy] - r0;
                int len = p.rowEnd[oy] - p.rowFirst[oy];
                if (level(len) == l) {
                    int o = Math.toIntExact(p.out.offset(n, oy, 0, 0) * Float.BYTES);
                    VecMaxWindows.pairOut(b, lo * line, b, (lo + len - (1 << l)) * line, out, o, line, nan);
                }
            }
        }
    }

    /** Whether any of {@code a[0, n)} ({@code n} a multiple of the lanes) is NaN: magnitude bits above {@code 0x7f800000}. */
    static boolean holdsNaN(float[] a, int n) {
        int lanes = S.length();
        IntVector high = IntVector.zero(I);
        for (int i = 0; i < n; i += lanes) {
            high = high.max(FloatVector.fromArray(S, a, i).reinterpretAsInts().and(0x7fffffff));
        }
        return high.compare(VectorOperators.GT, 0x7f800000).anyTrue();
    }

    /** One doubling step in place: {@code v[i] = rule(v[i], v[i + d])} for {@code i < end} (multiples of the lanes). */
    private static void double1(float[] v, int end, int d, boolean nan) {
        int lanes = S.length();
        if (nan) {
            for (int i = 0; i < end; i += lanes) {
                VecMaxWindows.rule(FloatVector.fromArray(S, v, i), FloatVector.fromArray(S, v, i + d)).intoArray(v, i);
            }
            return;
        }
        for (int i = 0; i < end; i += lanes) {
            VecMaxWindows.greater(FloatVector.fromArray(S, v, i), FloatVector.fromArray(S, v, i + d)).intoArray(v, i);
        }
    }

    /** The doubling level a window of {@code len} positions is taken at: floor(log2(len)). */
    static int level(int len) {
        return 31 - Integer.numberOfLeadingZeros(len);
    }
}
