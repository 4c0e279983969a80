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
 * band's first vector whose tap 0 is the padded column −1 loads nothing before the row: tap 0 is
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

    /** Floats of {@code prev}: one vector a block of outputs. */
    static int prevFloats(int ow) {
        return (ow + F.length() - 1) / F.length() * F.length();
    }

    /**
     * One output row: the maxima of input rows {@code a}, {@code b}, {@code c} (float offsets of
     * their first columns; equal offsets where the window has fewer rows) with {@code prev}'s row
     * maxima too where {@code shared} (then {@code a} is not read), the outputs into {@code out}
     * from float {@code o}; {@code c}'s row maxima into {@code prev}. {@code pad} is 0 or 1 (the
     * padded columns on the left). Returns {@link #MINUS}, {@link #ZERO} and {@link #NAN}.
     */
    static int row(ByteBuffer in, int a, int b, int c, boolean shared, int pad, int ow, float[] prev, ByteBuffer out, int o) {
        int l = F.length();
        int flags = 0;
        int start = 0;
        if (pad == 1) {
            flags = shared ? paddedShared(in, b, c, prev, out, o) : padded(in, a, b, c, prev, out, o);
            start = l;
        }
        return flags | (shared ? shared(in, b, c, start, -pad, ow, prev, out, o) : fresh(in, a, b, c, start, -pad, ow, prev, out, o));
    }

    /** Blocks of outputs from {@code start} (input column {@code 2 * start + c0}) of three rows. */
    private static int fresh(ByteBuffer in, int a, int b, int c, int start, int c0, int ow, float[] prev, ByteBuffer out, int o) {
        int l = F.length();
        IntVector signs = IntVector.broadcast(I, Integer.MAX_VALUE);
        IntVector low = signs;
        IntVector high = IntVector.zero(I);
        for (int ox = start, k = ox / l; ox < ow; ox += l, k++) {
            int e = 2 * Math.min(ox, ow - l) + c0;
            IntVector a0 = load(in, a + e);
            IntVector a2 = load(in, a + e + l);
            IntVector a1 = load(in, a + e + 1);
            IntVector a3 = load(in, a + e + 1 + l);
            IntVector b0 = load(in, b + e);
            IntVector b2 = load(in, b + e + l);
            IntVector b1 = load(in, b + e + 1);
            IntVector b3 = load(in, b + e + 1 + l);
            IntVector c0v = load(in, c + e);
            IntVector c2 = load(in, c + e + l);
            IntVector c1 = load(in, c + e + 1);
            IntVector c3 = load(in, c + e + 1 + l);
            signs = signs.min(a0.min(a2).min(a3)).min(b0.min(b2).min(b3))
                    .min(c0v.min(c2).min(c3));
            FloatVector hc = across(c0v, c2, c1, c3);
            FloatVector m = across(a0, a2, a1, a3).max(across(b0, b2, b1, b3)).max(hc);
            hc.intoArray(prev, k * l);
            IntVector bits = m.reinterpretAsInts();
            bits.rearrange(APART).intoByteBuffer(out, (o + Math.min(ox, ow - l)) * Float.BYTES, ORDER);
            bits = bits.and(0x7fffffff);
            low = low.min(bits);
            high = high.max(bits);
        }
        return flags(signs, low, high);
    }

    /** {@link #fresh} where the first row's maxima are {@code prev}'s. */
    private static int shared(ByteBuffer in, int b, int c, int start, int c0, int ow, float[] prev, ByteBuffer out, int o) {
        int l = F.length();
        IntVector signs = IntVector.broadcast(I, Integer.MAX_VALUE);
        IntVector low = signs;
        IntVector high = IntVector.zero(I);
        for (int ox = start, k = ox / l; ox < ow; ox += l, k++) {
            int e = 2 * Math.min(ox, ow - l) + c0;
            IntVector b0 = load(in, b + e);
            IntVector b2 = load(in, b + e + l);
            IntVector b1 = load(in, b + e + 1);
            IntVector b3 = load(in, b + e + 1 + l);
            IntVector c0v = load(in, c + e);
            IntVector c2 = load(in, c + e + l);
            IntVector c1 = load(in, c + e + 1);
            IntVector c3 = load(in, c + e + 1 + l);
            signs = signs.min(b0.min(b2).min(b3)).min(c0v.min(c2).min(c3));
            FloatVector hc = across(c0v, c2, c1, c3);
            FloatVector m = FloatVector.fromArray(F, prev, k * l).max(across(b0, b2, b1, b3)).max(hc);
            hc.intoArray(prev, k * l);
            IntVector bits = m.reinterpretAsInts();
            bits.rearrange(APART).intoByteBuffer(out, (o + Math.min(ox, ow - l)) * Float.BYTES, ORDER);
            bits = bits.and(0x7fffffff);
            low = low.min(bits);
            high = high.max(bits);
        }
        return flags(signs, low, high);
    }

    /** The first block of outputs of three rows where output 0's tap 0 is the padded column. */
    private static int padded(ByteBuffer in, int a, int b, int c, float[] prev, ByteBuffer out, int o) {
        int l = F.length();
        IntVector a1 = load(in, a);
        IntVector a3 = load(in, a + l);
        IntVector b1 = load(in, b);
        IntVector b3 = load(in, b + l);
        IntVector c1 = load(in, c);
        IntVector c3 = load(in, c + l);
        IntVector signs = a1.min(a3).min(b1.min(b3)).min(c1.min(c3));
        FloatVector hc = left(c1, c3);
        FloatVector m = left(a1, a3).max(left(b1, b3)).max(hc);
        hc.intoArray(prev, 0);
        IntVector bits = m.reinterpretAsInts();
        bits.rearrange(APART).intoByteBuffer(out, o * Float.BYTES, ORDER);
        bits = bits.and(0x7fffffff);
        return flags(signs, bits, bits);
    }

    /** {@link #padded} where the first row's maxima are {@code prev}'s. */
    private static int paddedShared(ByteBuffer in, int b, int c, float[] prev, ByteBuffer out, int o) {
        int l = F.length();
        IntVector b1 = load(in, b);
        IntVector b3 = load(in, b + l);
        IntVector c1 = load(in, c);
        IntVector c3 = load(in, c + l);
        IntVector signs = b1.min(b3).min(c1.min(c3));
        FloatVector hc = left(c1, c3);
        FloatVector m = FloatVector.fromArray(F, prev, 0).max(left(b1, b3)).max(hc);
        hc.intoArray(prev, 0);
        IntVector bits = m.reinterpretAsInts();
        bits.rearrange(APART).intoByteBuffer(out, o * Float.BYTES, ORDER);
        bits = bits.and(0x7fffffff);
        return flags(signs, bits, bits);
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

    private static int flags(IntVector signs, IntVector low, IntVector high) {
        return (signs.compare(VectorOperators.EQ, MINUS_ZERO).anyTrue() ? MINUS : 0)
                | (low.compare(VectorOperators.EQ, 0).anyTrue() ? ZERO : 0)
                | (high.compare(VectorOperators.GT, 0x7f800000).anyTrue() ? NAN : 0);
    }
}
