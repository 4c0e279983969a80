package dev.clpool.cpu;

import dev.clpool.Axis;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link PlaneMax}'s windows of three consecutive columns at stride 2 and three rows at stride 2
 * (ResNet-50's 3×3 s2 p1 stem; {@link #fits}), read straight from the tensor's bytes, nothing
 * staged, with {@code Math.max} (so {@link PlaneMax}'s zero-or-NaN fix-up applies unchanged). Each
 * input row's three taps at stride 2 are split from four int loads as long lanes, as
 * {@link VecArgmaxPlanes#triples} does (taps 0 and 1 the low and high ints of the two loads at a
 * vector's first tap, tap 2 the high ints of the two loads one column on), and reduced to the row's
 * maximum once: the last row of an output row's window is the first of the next one's, so its row
 * maxima are kept in a heap row ({@code prev}, one vector a block of outputs) and each output row
 * but a band's first reads two input rows. The lanes stay interleaved (lane 2j output j, lane
 * 2j + 1 output half + j) until one int shuffle puts the results in order as they are stored. A
 * row's first vector whose tap 0 is the padded column −1 loads nothing before the row: tap 0 is
 * the previous output's tap 2 by one shuffle, and output 0 takes its own tap 2 there (inside its
 * window: max is idempotent). Whether the fix-up must run is asked as the kernel goes: a NaN
 * result, or a zero result and a −0 among the floats loaded (a running int min of their bits).
 */
final class VecPlaneTriples {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** A long lane's low int (its even float: the Vector API reinterprets lanes little-endian). */
    private static final long LOW = 0xFFFF_FFFFL;
    /** The interleaved lanes in output order: lane 2i below the half, lane 2(i − half) + 1 from it. */
    private static final VectorShuffle<Integer> APART = VectorShuffle.fromOp(I,
            i -> i < I.length() / 2 ? 2 * i : 2 * (i - I.length() / 2) + 1);
    /** The previous output's lane (tap 2 of output j − 1 is tap 0 of output j); lane 0 keeps its own. */
    private static final VectorShuffle<Integer> BEFORE = VectorShuffle.fromOp(I,
            i -> i == 1 ? I.length() - 2 : Math.max(0, i - 2));
    private static final int MINUS_ZERO = 0x80000000;
    /** {@link #row}'s flags: a −0 loaded, a zero result, a NaN result. */
    static final int MINUS = 1;
    static final int ZERO = 2;
    static final int NAN = 4;

    private VecPlaneTriples() {
    }

    /**
     * Whether {@link PlaneMax} runs the plan here: one depth tap, rows 3 at stride 2, columns 3 at
     * stride 2 with one padded column on the left or none, the last window inside the row, a vector
     * of outputs a row at least.
     */
    static boolean fits(PlanePlan p) {
        Axis w = p.w;
        Axis h = p.h;
        return p.d.window() == 1 && h.window() == 3 && h.stride() == 2 && h.dilation() == 1
                && w.window() == 3 && w.stride() == 2 && w.dilation() == 1 && (w.padBegin() == 0 || w.padBegin() == 1)
                && w.out() >= F.length() && 2L * w.out() - w.padBegin() <= w.in() - 1L;
    }

    /** Floats of {@code prev} and {@code mid}: one vector a block of outputs (the arrays {@link PlaneMax} lends hold more). */
    static int prevFloats(int ow) {
        return (ow + F.length() - 1) / F.length() * F.length();
    }

    /**
     * One output row: the maxima of input rows {@code a}, {@code b}, {@code c} (float offsets of
     * their first columns; equal offsets where the window has fewer rows), with {@code prev}'s row
     * maxima for {@code a} where {@code shared} ({@code a} is not read then), into {@code out} from
     * float {@code o}; {@code c}'s row maxima into {@code prev}, {@code b}'s into {@code mid} on the
     * way. {@code pad} is 0 or 1 (the padded columns on the left). Returns {@link #MINUS},
     * {@link #ZERO} and {@link #NAN}. Two passes over the row's blocks (b's maxima, then c's and the
     * outputs): one pass over both rows made C2 stop inlining (its node count) and box the vectors.
     */
    static int row(ByteBuffer in, int a, int b, int c, boolean shared, int pad, int ow, float[] prev, float[] mid,
                   ByteBuffer out, int o) {
        int start = pad == 1 ? F.length() : 0;
        int flags = 0;
        if (!shared) {
            flags = (pad == 1 ? seedPadded(in, a, prev) : 0) | seed(in, a, start, -pad, ow, prev);
        }
        flags |= (pad == 1 ? seedPadded(in, b, mid) : 0) | seed(in, b, start, -pad, ow, mid);
        if (pad == 1) {
            flags |= foldPadded(in, c, prev, mid, out, o);
        }
        return flags | fold(in, c, start, -pad, ow, prev, mid, out, o);
    }

    /** Row {@code a}'s maxima into {@code to}, blocks from output {@code start} (input column {@code 2 * start + c0}). */
    private static int seed(ByteBuffer in, int a, int start, int c0, int ow, float[] to) {
        int l = F.length();
        IntVector signs = IntVector.broadcast(I, Integer.MAX_VALUE);
        for (int ox = start, k = ox / l; ox < ow; ox += l, k++) {
            int e = a + 2 * Math.min(ox, ow - l) + c0;
            IntVector x0 = load(in, e);
            IntVector x2 = load(in, e + l);
            IntVector x3 = load(in, e + 1 + l);
            signs = signs.min(x0.min(x2).min(x3));
            across(x0, x2, load(in, e + 1), x3).intoArray(to, k * l);
        }
        return signs.compare(VectorOperators.EQ, MINUS_ZERO).anyTrue() ? MINUS : 0;
    }

    /** {@link #seed}'s padded first block. */
    private static int seedPadded(ByteBuffer in, int a, float[] to) {
        IntVector x1 = load(in, a);
        IntVector x3 = load(in, a + F.length());
        left(x1, x3).intoArray(to, 0);
        return x1.min(x3).compare(VectorOperators.EQ, MINUS_ZERO).anyTrue() ? MINUS : 0;
    }

    /**
     * Blocks of outputs from {@code start} (input column {@code 2 * start + c0}): the maxima of
     * {@code prev}'s, {@code mid}'s and row c's, which replace {@code prev}'s.
     */
    private static int fold(ByteBuffer in, int c, int start, int c0, int ow, float[] prev, float[] mid, ByteBuffer out,
                            int o) {
        int l = F.length();
        IntVector signs = IntVector.broadcast(I, Integer.MAX_VALUE);
        IntVector low = IntVector.broadcast(I, Integer.MAX_VALUE);
        IntVector high = IntVector.zero(I);
        for (int ox = start, k = ox / l; ox < ow; ox += l, k++) {
            int b0 = Math.min(ox, ow - l);
            int e = c + 2 * b0 + c0;
            IntVector x0 = load(in, e);
            IntVector x2 = load(in, e + l);
            IntVector x3 = load(in, e + 1 + l);
            signs = signs.min(x0.min(x2).min(x3));
            FloatVector hc = across(x0, x2, load(in, e + 1), x3);
            FloatVector m = FloatVector.fromArray(F, prev, k * l).max(FloatVector.fromArray(F, mid, k * l)).max(hc);
            hc.intoArray(prev, k * l);
            IntVector bits = m.reinterpretAsInts();
            bits.rearrange(APART).intoByteBuffer(out, (o + b0) * Float.BYTES, ORDER);
            bits = bits.and(0x7fffffff);
            low = low.min(bits);
            high = high.max(bits);
        }
        return (signs.compare(VectorOperators.EQ, MINUS_ZERO).anyTrue() ? MINUS : 0)
                | (low.compare(VectorOperators.EQ, 0).anyTrue() ? ZERO : 0)
                | (high.compare(VectorOperators.GT, 0x7f800000).anyTrue() ? NAN : 0);
    }

    /** {@link #fold}'s padded first block. */
    private static int foldPadded(ByteBuffer in, int c, float[] prev, float[] mid, ByteBuffer out, int o) {
        IntVector x1 = load(in, c);
        IntVector x3 = load(in, c + F.length());
        FloatVector hc = left(x1, x3);
        FloatVector m = FloatVector.fromArray(F, prev, 0).max(FloatVector.fromArray(F, mid, 0)).max(hc);
        hc.intoArray(prev, 0);
        IntVector bits = m.reinterpretAsInts();
        bits.rearrange(APART).intoByteBuffer(out, o * Float.BYTES, ORDER);
        bits = bits.and(0x7fffffff);
        return (x1.min(x3).compare(VectorOperators.EQ, MINUS_ZERO).anyTrue() ? MINUS : 0)
                | (bits.compare(VectorOperators.EQ, 0).anyTrue() ? ZERO : 0)
                | (bits.compare(VectorOperators.GT, 0x7f800000).anyTrue() ? NAN : 0);
    }

    /** The ints from float {@code at} of {@code in}. */
    private static IntVector load(ByteBuffer in, int at) {
        return IntVector.fromByteBuffer(I, in, at * Float.BYTES, ORDER);
    }

    /**
     * One row's maxima over taps 0, 1, 2 (interleaved lanes) from the loads at a block's first tap
     * ({@code x0}, {@code x2}: taps 0 and 1 in their low and high ints) and one column on
     * ({@code x1}, {@code x3}: tap 2 in their high ints).
     */
    private static FloatVector across(IntVector i0, IntVector i2, IntVector i1, IntVector i3) {
        LongVector x0 = i0.reinterpretAsLongs();
        LongVector x2 = i2.reinterpretAsLongs();
        LongVector x1 = i1.reinterpretAsLongs();
        LongVector x3 = i3.reinterpretAsLongs();
        FloatVector t0 = x0.and(LOW).or(x2.lanewise(VectorOperators.LSHL, 32)).reinterpretAsFloats();
        FloatVector t1 = x0.lanewise(VectorOperators.LSHR, 32).or(x2.and(~LOW)).reinterpretAsFloats();
        FloatVector t2 = x1.lanewise(VectorOperators.LSHR, 32).or(x3.and(~LOW)).reinterpretAsFloats();
        return t0.max(t1).max(t2);
    }

    /**
     * {@link #across} for the padded first block, from the loads at column 0 (taps 1 and 2 in their
     * low and high ints): tap 0 is tap 2 of the lane before ({@link #BEFORE}; output 0's own tap 2).
     */
    private static FloatVector left(IntVector i1, IntVector i3) {
        LongVector x1 = i1.reinterpretAsLongs();
        LongVector x3 = i3.reinterpretAsLongs();
        LongVector t2 = x1.lanewise(VectorOperators.LSHR, 32).or(x3.and(~LOW));
        FloatVector t1 = x1.and(LOW).or(x3.lanewise(VectorOperators.LSHL, 32)).reinterpretAsFloats();
        FloatVector t0 = t2.reinterpretAsInts().rearrange(BEFORE).reinterpretAsFloats();
        return t0.max(t1).max(t2.reinterpretAsFloats());
    }
}
