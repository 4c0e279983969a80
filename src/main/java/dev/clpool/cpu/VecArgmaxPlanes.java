package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API argmax of one-channel planes (channels-first tensors viewed as (N·C, H, W, 1)),
 * the twin of {@link ArgmaxPlanes} (max pooling with indices) and of {@link PlaneArgmax} (the tap
 * numbers max backward uses: {@link #flatTaps}, over {@link PlaneMaxGather}'s flat phase planes);
 * loaded only behind {@link VectorSupport#ENABLED}.
 *
 * <p>Lanes run along an output row: a vector holds consecutive output columns, read from the
 * band's input rows staged as raw bits in a heap array ({@link #stage}; loads straight from the
 * direct buffer, each with its bounds checks, made the channels-first stem indices about 15%
 * slower), one plain load per tap. At column stride 1 a staged row is the input row; at stride 2
 * it is the row's even columns followed by its odd ones ({@link ArgmaxPlanes#stagedPitch}), split
 * once per row by two single-source int shuffles and a blend per 16 outputs, so that a tap's inputs
 * for the lanes are consecutive there too. Before, every tap of every window was loaded as two
 * vectors, each shuffled, and blended: nine times per output vector of the stem's 3×3 windows
 * instead of the row's one split (no faster by itself: the shuffles were not what cost). The taps of an output row are one flat list in scan order (rows,
 * then columns) and the rule is {@link VecArgmax}'s, {@code chosen == chosen && !(value <= chosen)}:
 * strictly greater, or a NaN over a non-NaN, so the first maximum stays and the chosen element
 * keeps its own bits (−0 against +0, NaN payloads), as with {@link CpuArgmax}'s keys. The columns
 * the windows reach past the input are staged as −∞ ({@link ArgmaxPlanes#padSlots}), so every output
 * column runs in the vectors; where a padded column's choice is −∞ (the padding may lead a window
 * of −∞ only) its columns outside the interior are chosen again one at a time by the same rule over
 * their taps inside the input, as are all columns of a row narrower than the lanes. The last vector
 * of a row overlaps the one before it (its lanes are computed twice, to the same result). Windows of
 * one even/odd column pair ({@link #pairs}, SegNet's 2×2 s2) and of three consecutive columns at
 * stride 2 ({@link #triples}, ResNet's 3×3 s2 stem) read the tensor's rows and split them in
 * registers, as long lanes. Method signatures use JDK types only.
 */
final class VecArgmaxPlanes {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Long> L = LongVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final LongVector IOTA = LongVector.zero(L).addIndex(1);
    /**
     * Lane i of the even elements of two vectors (a, b): a's 2i in the low half, b's 2i − lanes in
     * the high half. On ints: the Vector API's fallback for a float {@code rearrange} (the
     * interpreter's and C1's, before C2 compiles it) reads lanes through
     * {@code Float.floatToIntBits}, which makes every NaN canonical and loses their payloads.
     */
    private static final VectorShuffle<Integer> EVEN = VectorShuffle.fromOp(I, i -> 2 * i % I.length());
    /** The same for the odd elements. */
    private static final VectorShuffle<Integer> ODD = VectorShuffle.fromOp(I, i -> (2 * i + 1) % I.length());
    /** A long lane's low int (its even float: the Vector API reinterprets lanes little-endian). */
    private static final long LOW = 0xFFFF_FFFFL;
    /**
     * Lane i of {@link #pair}'s interleaved lanes (lane 2j the output j, lane 2j + 1 the output
     * half + j) in output order: lane 2i below the half, lane 2(i − half) + 1 from it.
     */
    private static final VectorShuffle<Integer> APART = VectorShuffle.fromOp(I,
            i -> i < I.length() / 2 ? 2 * i : 2 * (i - I.length() / 2) + 1);
    /** The lanes of the high half. */
    private static final VectorMask<Integer> HIGH = I.indexInRange(-I.length() / 2, I.length() / 2);
    /** Lane 0 alone: output 0 in {@link #triple}'s interleaved lanes. */
    private static final VectorMask<Float> FIRST = F.indexInRange(0, 1);
    /**
     * {@link #triple}'s tap 2 of the previous output in each lane (its tap 0 where that lies inside
     * the row): lane 2j takes lane 2j − 2, lane 1 (output half) lane 2·half − 2, lane 2j + 1 lane 2j − 1.
     */
    private static final VectorShuffle<Integer> BEFORE = VectorShuffle.fromOp(I,
            i -> i == 1 ? I.length() - 2 : Math.max(0, i - 2));

    private VecArgmaxPlanes() {
    }

    /** Whether the kernels handle column stride {@code sw}: 1 or 2. */
    static boolean handles(int sw) {
        return sw == 1 || sw == 2;
    }

    /**
     * Stages {@code rows} whole input rows of {@code iw} columns from element {@code from} of
     * {@code in} into {@code stage}, {@code pitch} ints a row ({@link ArgmaxPlanes#stagedPitch}): at
     * column stride 1 as they are between {@code pad} −∞ on each side (without padding, one bulk
     * copy); at stride 2 {@code pad} −∞, the row's even columns, {@code pad} −∞, its odd columns and
     * −∞ to the pitch (each row copied into {@code row}, of at least {@code iw} ints, then split).
     */
    static void stage(IntBuffer in, int from, int rows, int iw, int sw, int pad, int pitch, int[] row, int[] stage) {
        if (sw == 1 && pad == 0) {
            in.get(from, stage, 0, rows * iw);
            return;
        }
        int half = (iw + 1) / 2;
        for (int r = 0, at = 0; r < rows; r++, at += pitch) {
            infinity(stage, at, at + pad);
            if (sw == 1) {
                in.get(from + r * iw, stage, at + pad, iw);
                infinity(stage, at + pad + iw, at + pitch);
                continue;
            }
            in.get(from + r * iw, row, 0, iw);
            split(row, iw, stage, at + pad, half + pad);
            infinity(stage, at + pad + half, at + 2 * pad + half);
            infinity(stage, at + 2 * pad + half + iw / 2, at + pitch);
        }
    }

    /** −∞ into {@code stage[from..to)}: a slot or two, where {@code Arrays.fill}'s call cost a tenth of the stem's indices. */
    private static void infinity(int[] stage, int from, int to) {
        for (int i = from; i < to; i++) {
            stage[i] = CpuArgmax.NEGATIVE_INFINITY;
        }
    }

    /**
     * Columns 2i of {@code row} to {@code stage[at + i]}, 2i + 1 to {@code stage[at + half + i]}: the inverse of
     * {@link VecPlaneMaxGather}'s interleave, in the same overlapping blocks of two vectors.
     */
    static void split(int[] row, int iw, int[] stage, int at, int half) {
        int l = I.length();
        int x = 0;
        if (iw >= 2 * l) {
            int last = (iw - 2 * l) & ~1;
            for (int b = 0; ; b += 2 * l) {
                int e = Math.min(b, last);
                IntVector a = IntVector.fromArray(I, row, e);
                IntVector c = IntVector.fromArray(I, row, e + l);
                a.rearrange(EVEN).blend(c.rearrange(EVEN), HIGH).intoArray(stage, at + e / 2);
                a.rearrange(ODD).blend(c.rearrange(ODD), HIGH).intoArray(stage, at + half + e / 2);
                if (e == last) {
                    break;
                }
            }
            x = last + 2 * l;
        }
        for (; x < iw; x++) {
            stage[at + (x & 1) * half + (x >> 1)] = row[x];
        }
    }

    /**
     * Max pooling with indices of one output row.
     *
     * @param in       the input's raw float32 bits, staged by {@link #stage} (a band's input rows)
     * @param tapAt    per tap inside the input's rows, in scan order: the staged element its output column 0 reads,
     *                 less {@code shift} (output column ox reads {@code shift + tapAt + ox}; the element of column 0
     *                 may lie in the padding)
     * @param tapCol   per such tap: the input column its output column 0 reads (negative in the padding)
     * @param tapValue per such tap: its index offset from the window's tap 0
     * @param taps     how many taps are listed
     * @param shift    added to every {@code tapAt} (the output row's place in the staged rows)
     * @param sw       column stride, 1 or 2
     * @param iw       input columns
     * @param oxLo     the first output column whose window lies inside the input's columns (the others read
     *                 staged −∞ padding)
     * @param oxHi     one past the last such column
     * @param out      the output's float32 bytes: the chosen values' own bits, at elements {@code o..o + ow}
     * @param idx      the indices' int64 bytes, at elements {@code o..o + ow}
     * @param base     index of output column 0's tap 0
     * @param stepX    index step per output column
     */
    static void indices(int[] in, int[] tapAt, int[] tapCol, int[] tapValue, int taps, int shift, int sw, int iw,
                        int ow, int oxLo, int oxHi, ByteBuffer out, ByteBuffer idx, int o, long base,
                        long stepX) {
        row(in, tapAt, tapCol, tapValue, taps, shift, sw, iw, ow, oxLo, oxHi, out, idx, o, base, stepX);
    }

    /**
     * Tap numbers ({@code jy·kw + jx}, {@code tapNumber}) of the outputs at positions [from, to) of
     * a band laid out flat ({@link PlaneMaxGather}: tap k of the output at position e is staged element
     * {@code tapAt[k] + e}) into {@code chosen} at the same positions, by the rule over the taps in
     * the order listed (scan order); the last vector overlaps the one before ({@code to - from} at
     * least a vector).
     */
    static void flatTaps(int[] in, int[] tapAt, int[] tapNumber, int taps, int from, int to, int[] chosen) {
        int l = F.length();
        for (int e = from; ; e += l) {
            int b = Math.min(e, to - l);
            choose(in, tapAt, tapNumber, taps, b, false, null, null, 0, 0, 0, chosen, b);
            if (b == to - l) {
                return;
            }
        }
    }

    /**
     * {@link #indices}: every output column in vectors ({@link #choose}), the padding columns' staged −∞ included. A vector
     * holding a column outside [{@code oxLo}, {@code oxHi}) whose choice is −∞ may have chosen the
     * padding (a window whose inputs are all −∞, led by padding), so its columns outside are chosen
     * again one at a time ({@link #single}), as are all columns of a row narrower than a vector. The staged −∞ padding makes every tap of every output
     * column a staged element ({@link ArgmaxPlanes#padSlots}), so the loads stay inside the band's rows.
     */
    private static void row(int[] in, int[] tapAt, int[] tapCol, int[] value, int taps, int shift, int sw, int iw,
                            int ow, int oxLo, int oxHi, ByteBuffer out, ByteBuffer idx, int o, long base,
                            long stepX) {
        int l = F.length();
        for (int ox = 0; ow < l && ox < ow; ox++) {
            one(in, tapAt, tapCol, value, taps, shift, sw, iw, ox, out, idx, o, base, stepX);
        }
        for (int ox = 0; ow >= l; ox += l) {
            int b = Math.min(ox, ow - l);
            boolean edge = b < oxLo || b + l > oxHi;
            if (choose(in, tapAt, value, taps, shift + b, edge, out, idx, o + b, base + b * stepX, stepX, null, 0)) {
                for (int x = b; x < b + l; x++) {
                    if (x < oxLo || x >= oxHi) {
                        one(in, tapAt, tapCol, value, taps, shift, sw, iw, x, out, idx, o, base, stepX);
                    }
                }
            }
            if (b == ow - l) {
                return;
            }
        }
    }

    /** Output column {@code ox} of {@link #row} by {@link #single}. */
    private static void one(int[] in, int[] tapAt, int[] tapCol, int[] value, int taps, int shift, int sw, int iw,
                            int ox, ByteBuffer out, ByteBuffer idx, int o, long base, long stepX) {
        int k = single(in, tapAt, tapCol, taps, shift, ox, sw, iw);
        out.putInt((o + ox) * Float.BYTES, in[shift + tapAt[k] + ox]);
        idx.putLong((o + ox) * Long.BYTES, base + ox * stepX + value[k]);
    }

    /**
     * The chosen tap (its index in the list) of output column {@code ox}: the rule over its taps
     * inside the input, the first of them starting the choice.
     */
    private static int single(int[] in, int[] tapAt, int[] tapCol, int taps, int shift, int ox, int sw, int iw) {
        int chosen = -1;
        float best = 0;
        for (int k = 0; k < taps; k++) {
            int x = tapCol[k] + ox * sw;
            if (x < 0 || x >= iw) {
                continue;
            }
            float v = Float.intBitsToFloat(in[shift + tapAt[k] + ox]);
            if (chosen < 0 || best == best && !(v <= best)) {
                chosen = k;
                best = v;
            }
        }
        return chosen;
    }

    /**
     * The output columns whose taps are staged elements {@code tapAt + e} onwards: per lane the chosen value (written to {@code out} at
     * element {@code o} unless {@code out} is null) and its per-tap int, written as an index
     * ({@code rowBase + lane·stepX + int}) to {@code idx}, or as it is to {@code ints} at {@code i}
     * where {@code out} is null.
     */
    private static boolean choose(int[] in, int[] tapAt, int[] value, int taps, int e, boolean edge, ByteBuffer out,
                                  ByteBuffer idx, int o, long rowBase, long stepX, int[] ints, int i) {
        FloatVector best = IntVector.fromArray(I, in, tapAt[0] + e).reinterpretAsFloats();
        FloatVector chosen = FloatVector.broadcast(F, Float.intBitsToFloat(value[0]));
        for (int k = 1; k < taps; k++) {
            FloatVector v = IntVector.fromArray(I, in, tapAt[k] + e).reinterpretAsFloats();
            VectorMask<Float> takes = takes(best, v);
            best = best.blend(v, takes);
            chosen = chosen.blend(Float.intBitsToFloat(value[k]), takes);
        }
        if (out == null) {
            chosen.reinterpretAsInts().intoArray(ints, i);
        } else {
            write(best, chosen, out, idx, o, rowBase, stepX);
        }
        return edge && best.compare(VectorOperators.EQ, Float.NEGATIVE_INFINITY).anyTrue();
    }

    /** Chosen values at element {@code o} of {@code out}, their ints as indices {@code rowBase + lane·stepX + int} at {@code idx}'s. */
    private static void write(FloatVector best, FloatVector chosen, ByteBuffer out, ByteBuffer idx, int o, long rowBase,
                              long stepX) {
        best.intoByteBuffer(out, o * Float.BYTES, ORDER);
        IntVector v = chosen.reinterpretAsInts();
        for (int part = 0; part < I.length() / L.length(); part++) {
            ((LongVector) v.convertShape(VectorOperators.I2L, L, part))
                    .add(IOTA.mul(stepX).add(rowBase + part * L.length() * stepX))
                    .intoByteBuffer(idx, (o + part * L.length()) * Long.BYTES, ORDER);
        }
    }

    /**
     * Max pooling with indices of one output row whose windows are one even/odd column pair each
     * (two column taps one apart at column stride 2, no column padding: SegNet's 2×2 s2), read from
     * the tensor: each window row is two int loads viewed as long lanes (an even column in a lane's
     * low int, the odd one after it in its high int: the Vector API's lanes are little-endian),
     * split into even and odd columns by shifts and masks, the second load's columns in the high
     * ints: the output columns interleaved (lane 2j the output j, lane 2j + 1 the output half + j),
     * then the rule over the taps in scan order, as {@link #choose}; one int shuffle a vector puts
     * the values in output order, and each long lane's two ints are the two outputs' indices,
     * sign-extended by shifts. (Split into output order by four int shuffles and two blends per row,
     * through a 32-int scratch, SegNet's stage 4 took 20–35% longer; the rows were staged by a bulk
     * copy per band before that.)
     *
     * @param in     the input tensor's bytes (float32, native order)
     * @param rowAt  per window row inside the input, in order: the float offset of its column 0
     * @param value  per tap ({@code 2·row + jx}): its index offset from the window's tap 0
     * @param rows   window rows listed
     * @param ow     output columns, at least a vector
     */
    static void pairs(ByteBuffer in, int[] rowAt, int[] value, int rows, int ow, ByteBuffer out, ByteBuffer idx, int o,
                      long base, long stepX) {
        int l = F.length();
        for (int ox = 0; ; ox += l) {
            int b = Math.min(ox, ow - l);
            pair(in, rowAt, value, rows, 2 * b, out, idx, o + b, base + b * stepX, stepX);
            if (b == ow - l) {
                return;
            }
        }
    }

    /**
     * {@link #pairs}' vector of output columns whose windows start at staged column {@code e} of each
     * row. Each window row's even and odd columns are chosen between first, then the rows' choices in
     * order (the first row's as it is): three choices for two rows where a chain from −∞ took four.
     * The same result as the rule over the taps in scan order, since each group's taps all come
     * before the next group's (the first of equal values and the first NaN stay first). The value
     * and index are written here: a helper taking the vectors, which C2 left out of line in some
     * JVMs, boxed them (30 MB allocated and 5 ms a call for SegNet's channels-first stage 4).
     */
    private static void pair(ByteBuffer in, int[] rowAt, int[] value, int rows, int e, ByteBuffer out, ByteBuffer idx, int o,
                             long rowBase, long stepX) {
        int l = F.length();
        FloatVector best = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        FloatVector chosen = FloatVector.broadcast(F, Float.intBitsToFloat(value[0]));
        for (int r = 0; r < rows; r++) {
            LongVector a = IntVector.fromByteBuffer(I, in, (rowAt[r] + e) << 2, ORDER).reinterpretAsLongs();
            LongVector c = IntVector.fromByteBuffer(I, in, (rowAt[r] + e + l) << 2, ORDER).reinterpretAsLongs();
            FloatVector even = a.and(LOW).or(c.lanewise(VectorOperators.LSHL, 32)).reinterpretAsFloats();
            FloatVector odd = a.lanewise(VectorOperators.LSHR, 32).or(c.and(~LOW)).reinterpretAsFloats();
            VectorMask<Float> right = takes(even, odd);
            FloatVector rowBest = even.blend(odd, right);
            FloatVector rowChosen = FloatVector.broadcast(F, Float.intBitsToFloat(value[2 * r]))
                    .blend(Float.intBitsToFloat(value[2 * r + 1]), right);
            if (r == 0) {
                best = rowBest;
                chosen = rowChosen;
            } else {
                VectorMask<Float> below = takes(best, rowBest);
                best = best.blend(rowBest, below);
                chosen = chosen.blend(rowChosen, below);
            }
        }
        best.reinterpretAsInts().rearrange(APART).intoByteBuffer(out, o * Float.BYTES, ORDER);
        LongVector ints = chosen.reinterpretAsLongs();
        LongVector lanes = IOTA.mul(stepX).add(rowBase);
        ints.lanewise(VectorOperators.LSHL, 32).lanewise(VectorOperators.ASHR, 32).add(lanes)
                .intoByteBuffer(idx, o * Long.BYTES, ORDER);
        ints.lanewise(VectorOperators.ASHR, 32).add(lanes.add(L.length() * stepX))
                .intoByteBuffer(idx, (o + L.length()) * Long.BYTES, ORDER);
    }

    /**
     * Max pooling with indices of one output row whose windows are three consecutive columns at
     * column stride 2 ({@link #pairs}' twin for ResNet's 3×3 s2 stem), read from the tensor: output
     * column ox's taps are input columns {@code 2·ox + c0 + jx}, all inside the row except column −1
     * of output 0 where {@code c0} is −1 (one padded column on the left). Each window row is four int
     * loads viewed as long lanes: the two at the vector's first tap 0 give taps 0 (low ints) and 1
     * (high ints), the two one column on give tap 2 (their high ints); lanes interleaved as in
     * {@link #pairs}. In the vector of output 0 with a padded tap 0 nothing is loaded from before the
     * row: the two loads one column on give taps 1 and 2, tap 0 is the previous output's tap 2 (one
     * int shuffle, {@link #BEFORE}) and output 0's takes tap 1's value and index offset, so the rule
     * starts at its first tap inside the input, as the scalar bands do.
     *
     * @param in     the input tensor's bytes (float32, native order)
     * @param rowAt  per window row inside the input, in order: the float offset of its column 0
     * @param value  per tap ({@code 3·row + jx}): its index offset from the window's tap 0
     * @param rows   window rows listed
     * @param c0     the input column of output 0's tap 0: 0, or −1 (padded); none reaches past the row
     * @param ow     output columns, at least a vector
     */
    static void triples(ByteBuffer in, int[] rowAt, int[] value, int rows, int c0, int ow, ByteBuffer out, ByteBuffer idx,
                        int o, long base, long stepX) {
        int l = F.length();
        for (int ox = 0; ; ox += l) {
            int b = Math.min(ox, ow - l);
            if (b == 0 && c0 < 0) {
                padded(in, rowAt, value, rows, out, idx, o, base, stepX);
            } else {
                triple(in, rowAt, value, rows, 2 * b + c0, out, idx, o + b, base + b * stepX, stepX);
            }
            if (b == ow - l) {
                return;
            }
        }
    }

    /**
     * {@link #triples}' vector of output columns whose tap 0 is input column {@code e} of each window
     * row (inside it; a row's first vector with a padded tap 0 is {@link #padded}). Each row's three
     * taps are chosen between first, then the rows' choices in order (as {@link #pair}), value and
     * index written here.
     */
    private static void triple(ByteBuffer in, int[] rowAt, int[] value, int rows, int e, ByteBuffer out, ByteBuffer idx,
                               int o, long rowBase, long stepX) {
        int l = F.length();
        FloatVector best = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        FloatVector chosen = best;
        for (int r = 0; r < rows; r++) {
            int at = (rowAt[r] + e) << 2;
            LongVector a = IntVector.fromByteBuffer(I, in, at, ORDER).reinterpretAsLongs();
            LongVector c = IntVector.fromByteBuffer(I, in, at + 4 * l, ORDER).reinterpretAsLongs();
            LongVector a1 = IntVector.fromByteBuffer(I, in, at + 4, ORDER).reinterpretAsLongs();
            LongVector c1 = IntVector.fromByteBuffer(I, in, at + 4 + 4 * l, ORDER).reinterpretAsLongs();
            FloatVector t0 = a.and(LOW).or(c.lanewise(VectorOperators.LSHL, 32)).reinterpretAsFloats();
            FloatVector t1 = a.lanewise(VectorOperators.LSHR, 32).or(c.and(~LOW)).reinterpretAsFloats();
            FloatVector t2 = a1.lanewise(VectorOperators.LSHR, 32).or(c1.and(~LOW)).reinterpretAsFloats();
            VectorMask<Float> second = takes(t0, t1);
            FloatVector rowBest = t0.blend(t1, second);
            FloatVector rowChosen = FloatVector.broadcast(F, Float.intBitsToFloat(value[3 * r]))
                    .blend(Float.intBitsToFloat(value[3 * r + 1]), second);
            VectorMask<Float> third = takes(rowBest, t2);
            rowBest = rowBest.blend(t2, third);
            rowChosen = rowChosen.blend(Float.intBitsToFloat(value[3 * r + 2]), third);
            if (r == 0) {
                best = rowBest;
                chosen = rowChosen;
            } else {
                VectorMask<Float> below = takes(best, rowBest);
                best = best.blend(rowBest, below);
                chosen = chosen.blend(rowChosen, below);
            }
        }
        best.reinterpretAsInts().rearrange(APART).intoByteBuffer(out, o * Float.BYTES, ORDER);
        LongVector ints = chosen.reinterpretAsLongs();
        LongVector lanes = IOTA.mul(stepX).add(rowBase);
        ints.lanewise(VectorOperators.LSHL, 32).lanewise(VectorOperators.ASHR, 32).add(lanes)
                .intoByteBuffer(idx, o * Long.BYTES, ORDER);
        ints.lanewise(VectorOperators.ASHR, 32).add(lanes.add(L.length() * stepX))
                .intoByteBuffer(idx, (o + L.length()) * Long.BYTES, ORDER);
    }

    /**
     * {@link #triple} for a row's first vector where output 0's tap 0 is column −1 (padding), without
     * loading before the row: the two loads at column 0 give taps 1 (low ints) and 2 (high ints), tap 0
     * is the previous output's tap 2 ({@link #BEFORE}), and output 0's tap 0 takes its tap 1's value
     * and index offset, so that its choice starts at its first tap inside the input. A method of its
     * own: a branch for it inside {@link #triple}'s row loop made C2 box the vectors (175 MB a call).
     */
    private static void padded(ByteBuffer in, int[] rowAt, int[] value, int rows, ByteBuffer out, ByteBuffer idx,
                               int o, long rowBase, long stepX) {
        int l = F.length();
        FloatVector best = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        FloatVector chosen = best;
        for (int r = 0; r < rows; r++) {
            int at = rowAt[r] << 2;
            LongVector a1 = IntVector.fromByteBuffer(I, in, at, ORDER).reinterpretAsLongs();
            LongVector c1 = IntVector.fromByteBuffer(I, in, at + 4 * l, ORDER).reinterpretAsLongs();
            LongVector t2Bits = a1.lanewise(VectorOperators.LSHR, 32).or(c1.and(~LOW));
            FloatVector t2 = t2Bits.reinterpretAsFloats();
            FloatVector t1 = a1.and(LOW).or(c1.lanewise(VectorOperators.LSHL, 32)).reinterpretAsFloats();
            FloatVector t0 = t2Bits.reinterpretAsInts().rearrange(BEFORE).reinterpretAsFloats().blend(t1, FIRST);
            VectorMask<Float> second = takes(t0, t1);
            FloatVector rowBest = t0.blend(t1, second);
            FloatVector rowChosen = FloatVector.broadcast(F, Float.intBitsToFloat(value[3 * r]))
                    .blend(Float.intBitsToFloat(value[3 * r + 1]), FIRST)
                    .blend(Float.intBitsToFloat(value[3 * r + 1]), second);
            VectorMask<Float> third = takes(rowBest, t2);
            rowBest = rowBest.blend(t2, third);
            rowChosen = rowChosen.blend(Float.intBitsToFloat(value[3 * r + 2]), third);
            if (r == 0) {
                best = rowBest;
                chosen = rowChosen;
            } else {
                VectorMask<Float> below = takes(best, rowBest);
                best = best.blend(rowBest, below);
                chosen = chosen.blend(rowChosen, below);
            }
        }
        best.reinterpretAsInts().rearrange(APART).intoByteBuffer(out, o * Float.BYTES, ORDER);
        LongVector ints = chosen.reinterpretAsLongs();
        LongVector lanes = IOTA.mul(stepX).add(rowBase);
        ints.lanewise(VectorOperators.LSHL, 32).lanewise(VectorOperators.ASHR, 32).add(lanes)
                .intoByteBuffer(idx, o * Long.BYTES, ORDER);
        ints.lanewise(VectorOperators.ASHR, 32).add(lanes.add(L.length() * stepX))
                .intoByteBuffer(idx, (o + L.length()) * Long.BYTES, ORDER);
    }

    /** The lanes where {@code v} replaces {@code best}: strictly greater, or a NaN over a non-NaN. */
    private static VectorMask<Float> takes(FloatVector best, FloatVector v) {
        return best.compare(VectorOperators.EQ, best).andNot(v.compare(VectorOperators.LE, best));
    }
}
