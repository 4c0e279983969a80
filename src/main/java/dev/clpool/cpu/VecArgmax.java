package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API argmax of channels-last rows (C at least {@link VecWidth#floats()}), the twin of
 * {@link ArgmaxRows} (max pooling with indices) and of {@link CpuArgmax#row} (the tap numbers max
 * backward uses); loaded only behind {@link VectorSupport#ENABLED}.
 *
 * <p>Channels run in vector lanes, read straight from the input's direct buffer (no staged rows,
 * no gathered tap arrays): for each output column, its taps inside the input are listed in scan
 * order (rows, then columns), then each vector of channels runs them in one flat loop with the
 * chosen element's raw bits and its per-tap int (index offset or tap number, carried as float bits
 * so that the float compare's mask blends it) held in registers. A tap takes where its value is
 * strictly greater than the chosen one or is a NaN while the chosen one is not, which is
 * {@code chosen == chosen && !(value <= chosen)}: −0 and +0 compare equal and NaN never beats NaN,
 * so the first maximum stays, as with {@link CpuArgmax}'s keys, and the chosen value keeps its own
 * bits (payload, sign of zero). The window's first tap inside the input starts the choice, so
 * padding never takes. A channel count that is not a multiple of the lanes ends with a vector
 * that overlaps the one before it (its lanes are computed twice, with the same result).
 *
 * <p>JDK 17's C2 boxed the two vectors carried through nested tap loops (rows, then columns) and
 * through a vector-returning helper that it did not inline (about 800 bytes allocated per window,
 * slower than the scalar path): hence the flat list, and helpers that store their vectors.
 * Indices are widened as each vector of channels is chosen, in vector lanes: the chosen ints,
 * converted to longs, plus the output column's base and each channel's {@code c·dc}. Method signatures use JDK
 * types only.
 */
final class VecArgmax {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Long> L = LongVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final LongVector IOTA = LongVector.zero(L).addIndex(1);

    private VecArgmax() {
    }


    /**
     * Max pooling with indices, one output row.
     *
     * @param in       the input's float32 bytes
     * @param rowAt    element offset of the input row of window row {@code jy}, for jy in [j0, j1)
     * @param kw       column taps per window row
     * @param tapValue per tap number {@code jy·kw + jx}: its index offset from the window's tap 0
     * @param colStart per output column: input column of its tap 0 (may be in the padding)
     * @param colFirst per output column: its first column tap inside the input
     * @param colEnd   per output column: one past its last column tap inside the input
     * @param dw       column dilation
     * @param c        channels, at least {@link VecWidth#floats()}
     * @param out      the output's float32 bytes: the chosen values' own bits, at elements {@code o..}
     * @param idx      the indices' int64 bytes, at elements {@code o..}
     * @param rowBase  index of the output row's window row 0, column 0, channel 0
     * @param dx       index step per input column
     * @param dc       index step per channel
     * @param chosen   scratch of at least {@code c} ints: the chosen index offsets of each channel
     */
    static void indices(ByteBuffer in, int[] rowAt, int j0, int j1, int kw, int[] tapValue,
                        int[] colStart, int[] colFirst, int[] colEnd, int dw, int c,
                        ByteBuffer out, ByteBuffer idx, int o, long rowBase, long dx, long dc, int[] chosen) {
        int[] at = new int[tapValue.length];
        int[] value = new int[tapValue.length];
        boolean tapByTap = c >= VecMaxWindows.TAP_MAJOR_CHANNELS;
        for (int ox = 0; ox < colStart.length; ox++) {
            int taps = window(rowAt, j0, j1, kw, tapValue, colStart[ox], colFirst[ox], colEnd[ox], dw, c, at, value);
            long base = rowBase + colStart[ox] * dx;
            if (taps == 4) {
                fourTaps(in, at, value, c, out, idx, o + ox * c, base, dc);
                continue;
            }
            if (tapByTap) {
                chooseTapByTap(in, at, value, taps, c, out, (o + ox * c) * Float.BYTES, chosen);
            }
            for (int ch = 0; ch < c; ch += I.length()) {
                int ch0 = Math.min(ch, c - I.length());
                int e = o + ox * c + ch0;
                if (tapByTap) {
                    widen(IntVector.fromArray(I, chosen, ch0), idx, e, base + ch0 * dc, dc);
                } else {
                    choose(in, at, value, taps, ch0, out, e * Float.BYTES, null, idx, e, base + ch0 * dc, dc);
                }
            }
        }
    }

    /**
     * The indices of one vector of channels at element {@code e} of {@code idx}: the chosen ints
     * widened to longs ({@code I2L}, in two parts) plus {@code base} and {@code c·dc} per lane,
     * {@code base} being channel {@code e}'s index before its tap's offset.
     */
    private static void widen(IntVector ints, ByteBuffer idx, int e, long base, long dc) {
        for (int part = 0; part < I.length() / L.length(); part++) {
            ((LongVector) ints.convertShape(VectorOperators.I2L, L, part)).add(IOTA.mul(dc).add(base + part * L.length() * dc))
                    .intoByteBuffer(idx, (e + part * L.length()) * Long.BYTES, ORDER);
        }
    }

    /**
     * One window of exactly four taps inside the input ({@link #window}: a 2×2 window away from
     * the padding), all {@code c} channels, each vector of channels chosen across the four loads in
     * registers and its value and widened index stored at once: nothing is read back from
     * {@code out} or a row of ints, as {@link #chooseTapByTap} does. The choice is a tree: taps 0
     * and 1, taps 2 and 3, then the two winners, each by {@link #choose}'s rule with the earlier
     * group first; every tap of a group comes before the next group's in scan order, so the first
     * of equal values and the first NaN win as in the chain (whose three choices each waited for
     * the one before). {@code e} is the output column's first element, {@code base} its index of
     * channel 0 before the tap's offset. One method with no helper: a per-vector helper was too
     * big for C2 to inline ("hot method too big") and cost a call per vector, and {@link #widen},
     * which takes a vector, is written out here so that no vector crosses a call C2 may leave out
     * of line (where it is boxed).
     */
    private static void fourTaps(ByteBuffer in, int[] at, int[] value, int c, ByteBuffer out, ByteBuffer idx, int e,
                                 long base, long dc) {
        int a0 = at[0];
        int a1 = at[1];
        int a2 = at[2];
        int a3 = at[3];
        FloatVector v0 = FloatVector.broadcast(F, Float.intBitsToFloat(value[0]));
        float v1 = Float.intBitsToFloat(value[1]);
        FloatVector v2 = FloatVector.broadcast(F, Float.intBitsToFloat(value[2]));
        float v3 = Float.intBitsToFloat(value[3]);
        LongVector lanes = IOTA.mul(dc).add(base);
        long half = L.length() * dc;
        int last = c - F.length();
        for (int ch = 0; ch < c; ch += F.length()) {
            int ch0 = Math.min(ch, last);
            int b = ch0 * Float.BYTES;
            FloatVector x0 = FloatVector.fromByteBuffer(F, in, a0 + b, ORDER);
            FloatVector x1 = FloatVector.fromByteBuffer(F, in, a1 + b, ORDER);
            FloatVector x2 = FloatVector.fromByteBuffer(F, in, a2 + b, ORDER);
            FloatVector x3 = FloatVector.fromByteBuffer(F, in, a3 + b, ORDER);
            VectorMask<Float> t1 = x0.compare(VectorOperators.EQ, x0).andNot(x1.compare(VectorOperators.LE, x0));
            VectorMask<Float> t3 = x2.compare(VectorOperators.EQ, x2).andNot(x3.compare(VectorOperators.LE, x2));
            FloatVector top = x0.blend(x1, t1);
            FloatVector bottom = x2.blend(x3, t3);
            FloatVector topTap = v0.blend(v1, t1);
            FloatVector bottomTap = v2.blend(v3, t3);
            VectorMask<Float> tb = top.compare(VectorOperators.EQ, top).andNot(bottom.compare(VectorOperators.LE, top));
            top.blend(bottom, tb).intoByteBuffer(out, (e + ch0) * Float.BYTES, ORDER);
            IntVector ints = topTap.blend(bottomTap, tb).reinterpretAsInts();
            LongVector ix = lanes.add(ch0 * dc);
            ((LongVector) ints.convertShape(VectorOperators.I2L, L, 0)).add(ix).intoByteBuffer(idx, (e + ch0) * Long.BYTES, ORDER);
            ((LongVector) ints.convertShape(VectorOperators.I2L, L, 1)).add(ix.add(half))
                    .intoByteBuffer(idx, (e + ch0 + L.length()) * Long.BYTES, ORDER);
        }
    }

    /**
     * One window over all {@code c} channels, tap by tap (as {@link VecMaxWindows} does from {@link
     * VecMaxWindows#TAP_MAJOR_CHANNELS} channels): the chosen values kept in {@code out} from byte
     * {@code o}, their ints in {@code ints[0..c)}. The same choice per lane as {@link #choose}.
     */
    private static void chooseTapByTap(ByteBuffer in, int[] at, int[] value, int taps, int c, ByteBuffer out, int o,
                                       int[] ints) {
        int step = F.vectorByteSize();
        int lanes = F.length();
        int full = c / lanes * lanes;
        IntVector first = IntVector.broadcast(I, value[0]);
        for (int ch = 0; ch < full; ch += lanes) {
            FloatVector.fromByteBuffer(F, in, at[0] + ch * Float.BYTES, ORDER).intoByteBuffer(out, o + ch * Float.BYTES, ORDER);
            first.intoArray(ints, ch);
        }
        for (int k = 1; k < taps; k++) {
            int a = at[k];
            FloatVector mine = FloatVector.broadcast(F, Float.intBitsToFloat(value[k]));
            for (int ch = 0, b = 0; ch < full; ch += lanes, b += step) {
                FloatVector best = FloatVector.fromByteBuffer(F, out, o + b, ORDER);
                FloatVector v = FloatVector.fromByteBuffer(F, in, a + b, ORDER);
                VectorMask<Float> takes = best.compare(VectorOperators.EQ, best)
                        .andNot(v.compare(VectorOperators.LE, best));
                best.blend(v, takes).intoByteBuffer(out, o + b, ORDER);
                IntVector.fromArray(I, ints, ch).reinterpretAsFloats().blend(mine, takes)
                        .reinterpretAsInts().intoArray(ints, ch);
            }
        }
        if (full < c) {
            int ch0 = c - lanes;
            choose(in, at, value, taps, ch0, out, o + ch0 * Float.BYTES, ints, null, ch0, 0, 0);
        }
    }

    /**
     * Tap numbers ({@code jy·kw + jx}) of one output row's chosen elements into {@code taps} from
     * {@code at}: the parameters as for {@link #indices}, with tap numbers as {@code tapValue} and
     * no values written.
     */
    static void taps(ByteBuffer in, int[] rowAt, int j0, int j1, int kw, int[] tapNumber,
                     int[] colStart, int[] colFirst, int[] colEnd, int dw, int c, int[] taps, int at) {
        int[] tapAt = new int[tapNumber.length];
        int[] value = new int[tapNumber.length];
        for (int ox = 0; ox < colStart.length; ox++) {
            int count = window(rowAt, j0, j1, kw, tapNumber, colStart[ox], colFirst[ox], colEnd[ox], dw, c, tapAt, value);
            for (int ch = 0; ch < c; ch += I.length()) {
                int ch0 = Math.min(ch, c - I.length());
                choose(in, tapAt, value, count, ch0, null, 0, taps, null, at + ox * c + ch0, 0, 0);
            }
        }
    }

    /**
     * One output column's window: its taps inside the input, in scan order, as byte offsets of
     * channel 0 into {@code at[0..]} and their ints into {@code value[0..]}; returns their count.
     */
    private static int window(int[] rowAt, int j0, int j1, int kw, int[] tapValue, int x0, int jx0, int jx1, int dw,
                              int c, int[] at, int[] value) {
        int k = 0;
        for (int jy = j0; jy < j1; jy++) {
            for (int jx = jx0; jx < jx1; jx++, k++) {
                at[k] = (rowAt[jy] + (x0 + jx * dw) * c) * Float.BYTES;
                value[k] = tapValue[jy * kw + jx];
            }
        }
        return k;
    }

    /**
     * One window over channels [ch0, ch0 + lanes): of its {@code taps} taps ({@link #window}), the
     * chosen one's value per lane (written to {@code out} at byte {@code o} unless {@code out} is
     * null) and its int: into {@code ints} at {@code i} where {@code idx} is null, else widened
     * into index element {@code i} of {@code idx} ({@link #widen}) without a round trip through ints.
     */
    private static void choose(ByteBuffer in, int[] at, int[] value, int taps, int ch0, ByteBuffer out, int o,
                               int[] ints, ByteBuffer idx, int i, long base, long dc) {
        int b = ch0 * Float.BYTES;
        FloatVector best = FloatVector.fromByteBuffer(F, in, at[0] + b, ORDER);
        FloatVector chosen = FloatVector.broadcast(F, Float.intBitsToFloat(value[0]));
        for (int k = 1; k < taps; k++) {
            FloatVector v = FloatVector.fromByteBuffer(F, in, at[k] + b, ORDER);
            VectorMask<Float> takes = best.compare(VectorOperators.EQ, best)
                    .andNot(v.compare(VectorOperators.LE, best));
            best = best.blend(v, takes);
            chosen = chosen.blend(Float.intBitsToFloat(value[k]), takes);
        }
        if (out != null) {
            best.intoByteBuffer(out, o, ORDER);
        }
        if (idx == null) {
            chosen.reinterpretAsInts().intoArray(ints, i);
        } else {
            widen(chosen.reinterpretAsInts(), idx, i, base, dc);
        }
    }
}
