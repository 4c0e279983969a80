package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link PlaneMax}'s band passes in Vector API lanes along W (loaded only where
 * {@link VectorSupport#ENABLED}): the same separable scheme and the same reduction,
 * {@code Math.max} (the lanes' {@code MAX}, which has its semantics), so the results are the
 * scalar passes' bit for bit and {@link PlaneMax}'s zero-or-NaN fix-up applies unchanged.
 * What differs is where the floats move:
 * <ul>
 * <li>vertical ({@link #down}): a band's input rows, staged by {@link PlanePlan#stageBlocks} with
 * one bulk copy per depth tap (reading them with {@code fromByteBuffer} cost five times as much per
 * float), up to three at a time folded in registers into the accumulator row, one call per band
 * for 2-D windows; rows outside the input are skipped (their −∞ would change nothing). A row width
 * that is not a multiple of the lanes ends with a vector overlapping the one before: max is
 * idempotent, so lanes done twice keep their value. So a row must hold one vector at least
 * ({@link VectorSupport#fitsRow});</li>
 * <li>horizontal ({@link #across}): the windows at every column position by doubling, as
 * {@link PlaneMax#windows}, with shifted loads instead of copies;</li>
 * <li>output columns ({@link #keep}): every stride-th position picked a vector of outputs at a
 * time: stride 1 a copy, 2 the even lanes of two vectors (two one-vector shuffles and a blend), 4
 * three of those, others an indexed load; windows of exactly 2 or 4 adjacent columns take the
 * maxima of adjacent pairs while picking, from the accumulator or, with up to two rows inside the
 * input, straight from the tensor with nothing staged ({@link #pooled}); one input row per output
 * row (M5's 1-D 4 s4) is read from the tensor and reduced by clpool's rule itself in the lanes, exact
 * with no fix-up ({@link #pooledRow}). The zero-or-NaN flag is a
 * running int min and max of the results' magnitude bits, tested once per row (no branch per
 * vector); the fix-up runs where a result is NaN, or one is zero and the band's input holds a −0:
 * a NaN input gives a NaN result ({@code max} keeps NaN), and whether a −0 was loaded is a running
 * int min of the bits each load brings in, in {@link #down} and {@link #pooled} themselves (a
 * second pass over the rows, {@link #minusZeroOrNaN}, cost ReLU'd and all-zero data about what
 * the pooling did; branch {@code c3d}).</li>
 * </ul>
 * Arrays carry {@link #slack} floats beyond the band's so that loads and stores of whole vectors
 * past a row's end stay inside them; what they read there is never kept.
 */
final class VecPlaneMax {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Lanes i take lane 2i (modulo the lanes): the even lanes of a vector, in either half. */
    private static final VectorShuffle<Float> LOW = VectorShuffle.fromOp(S, i -> (2 * i) % S.length());
    /** Lanes i take lane 2i + 1 (modulo the lanes): the odd lanes of a vector, in either half. */
    private static final VectorShuffle<Float> LOW_ODD = VectorShuffle.fromOp(S, i -> (2 * i + 1) % S.length());
    /** The second half of the lanes. */
    private static final VectorMask<Float> UPPER = VectorMask.fromLong(S, -1L << (S.length() / 2));
    /** The int lanes of the same shape (the zero-or-NaN flag tests the results' bits). */
    private static final VectorSpecies<Integer> I = S.withLanes(int.class);

    private static final int MINUS_ZERO = 0x80000000;
    /** {@link #keep}'s flag: a result is ±0. */
    static final int ZERO = 1;
    /** {@link #keep}'s flag: a result is NaN. */
    static final int NAN = 2;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VecPlaneMax() {
    }

    /** Lanes of a float vector ({@link VecWidth#floats()}). */
    static int lanes() {
        return S.length();
    }

    /** Floats past a band's {@code rows * pitch} (and past its outputs) that its arrays must hold. */
    static int slack(int stride, int maxShift) {
        return (stride + 2) * S.length() + maxShift;
    }

    /**
     * The vertical pass of one band row: {@code acc[at + x] = max} over the {@code n} input rows
     * at {@code in[rows[k]]}, {@code k < n}, of their element x, for {@code x < width}
     * ({@code n >= 1}, {@code width >=} {@link #lanes()}): up to three rows folded in registers
     * per pass over the row, a copy for one. Returns whether any of those input elements is −0
     * (a running int min of the bits loaded: one lane operation per load, where the fix-up's own
     * pass over the rows cost ReLU'd and all-zero data half the pooling's time again).
     */
    static boolean down(float[] in, int[] rows, int n, float[] acc, int at, int width) {
        if (n == 1) {
            System.arraycopy(in, rows[0], acc, at, width);
            return minusZero(in, rows[0], width);
        }
        int last = n - 1;
        boolean minus = fold(in, rows[0], rows[1], rows[Math.min(2, last)], acc, at, width, false);
        for (int k = 3; k <= last; k += 2) {
            minus |= fold(in, rows[k], rows[Math.min(k + 1, last)], rows[k], acc, at, width, true);
        }
        return minus;
    }

    /**
     * {@link #down} for {@code n} band rows in one call ({@link PlanePlan.DownBand}): row r's
     * {@code rows[count + r]} input rows from {@code in[rows[r]]}, {@code step} apart, into
     * {@code acc} from {@code r * pitch + pad}. Returns whether any of those input elements is −0.
     */
    static boolean down(float[] in, int[] rows, int count, int n, int step, float[] acc, int pitch, int pad, int width) {
        boolean minus = false;
        for (int r = 0; r < n; r++) {
            int a = rows[r];
            int last = rows[count + r] - 1;
            int at = r * pitch + pad;
            if (last == 0) {
                System.arraycopy(in, a, acc, at, width);
                minus |= minusZero(in, a, width);
                continue;
            }
            minus |= fold(in, a, a + step, a + Math.min(2, last) * step, acc, at, width, false);
            for (int k = 3; k <= last; k += 2) {
                minus |= fold(in, a + k * step, a + Math.min(k + 1, last) * step, a + k * step, acc, at, width, true);
            }
        }
        return minus;
    }

    /**
     * {@code acc[at + x] = max(in[a + x], in[b + x], in[c + x])}, or also with its own value where
     * {@code into}; the last vector overlaps the one before where the width is not a multiple of
     * the lanes (idempotent). Returns whether any of the three rows' elements is −0 (the smallest
     * int of their bits is {@code 0x80000000} only for a −0).
     */
    private static boolean fold(float[] in, int a, int b, int c, float[] acc, int at, int width, boolean into) {
        int lanes = S.length();
        int end = width - lanes;
        IntVector low = IntVector.broadcast(I, Integer.MAX_VALUE);
        for (int x = 0; x < width; x += lanes) {
            if (x > end) {
                x = end;
            }
            FloatVector u = FloatVector.fromArray(S, in, a + x);
            FloatVector v = FloatVector.fromArray(S, in, b + x);
            FloatVector w = FloatVector.fromArray(S, in, c + x);
            low = low.min(u.reinterpretAsInts().min(v.reinterpretAsInts()).min(w.reinterpretAsInts()));
            FloatVector m = u.max(v).max(w);
            if (into) {
                m = m.max(FloatVector.fromArray(S, acc, at + x));
            }
            m.intoArray(acc, at + x);
        }
        return low.compare(VectorOperators.EQ, MINUS_ZERO).anyTrue();
    }

    /** Whether any of {@code a[from, from + width)} is −0 ({@code width >=} {@link #lanes()}). */
    private static boolean minusZero(float[] a, int from, int width) {
        int lanes = S.length();
        int end = width - lanes;
        IntVector low = IntVector.broadcast(I, Integer.MAX_VALUE);
        for (int x = 0; x < width; x += lanes) {
            low = low.min(FloatVector.fromArray(S, a, from + Math.min(x, end)).reinterpretAsInts());
        }
        return low.compare(VectorOperators.EQ, MINUS_ZERO).anyTrue();
    }

    /**
     * The horizontal pass: the maximum of {@code k} elements {@code step} apart at every position
     * {@code i < len - (k-1)*step} of {@code from}, by doubling as {@link PlaneMax#windows}; returns
     * the array holding it ({@code from} when k is 1, else {@code into}).
     */
    static float[] across(float[] from, int len, int k, int step, float[] into) {
        if (k == 1) {
            return from;
        }
        float[] cur = from;
        int q = 1;
        while (2 * q <= k) {
            shiftMax(cur, into, q * step, len - (2 * q - 1) * step);
            cur = into;
            q *= 2;
        }
        if (q < k) {
            shiftMax(cur, into, (k - q) * step, len - (k - 1) * step);
        }
        return into;
    }

    /** {@code into[i] = max(from[i], from[i + shift])} for {@code i < n} (rounded up to whole vectors); in place is fine. */
    private static void shiftMax(float[] from, float[] into, int shift, int n) {
        int lanes = S.length();
        for (int i = 0; i < n; i += lanes) {
            FloatVector.fromArray(S, from, i).max(FloatVector.fromArray(S, from, i + shift)).intoArray(into, i);
        }
    }

    /**
     * Output columns: {@code out[r*ow + ox] = full[r*pitch + ox*stride]} for {@code rows} rows;
     * where {@code pooled} (windows of {@code stride} adjacent columns, stride 2 or 4), the maximum
     * of the {@code stride} elements from there instead: the horizontal pass fused, {@code full}
     * being the vertical pass's accumulator. Returns {@link #ZERO} where a kept output is ±0, or'd
     * with {@link #NAN} where one is NaN (those the exact rule may give other bits for). A row of at least one vector of outputs ends with a
     * vector overlapping the one before; a shorter one is written in a whole vector, past its end
     * (rewritten by the next row).
     */
    static int keep(float[] full, int pitch, int rows, int ow, int stride, boolean pooled, float[] out) {
        int lanes = S.length();
        boolean whole = ow >= lanes;
        int[] map = stride == 1 || stride == 2 || stride == 4 ? null : indexMap(stride);
        int flags = 0;
        for (int r = 0; r < rows; r++) {
            flags |= keepRow(full, r * pitch, 0, ow, stride, pooled, map, out, r * ow);
        }
        return whole ? flags : flags(out, rows * ow);
    }

    /**
     * Outputs {@code [o0, o1)} of one row of {@link #keep}: {@code out[at + ox]} from
     * {@code full[from + ox * stride]}; the last vector overlaps the one before, or, where
     * {@code o1 - o0} is less than a vector, reaches back before {@code o0} (the input of
     * the outputs from {@code o1 - lanes} on must be there) or past {@code o1} where {@code o1 < lanes}. Returns
     * {@link #ZERO} and {@link #NAN} as {@link #keep} (meaningful where {@code o1 >= lanes}), from the lanes' smallest and largest
     * magnitude bits (branch-free: a compare and a branch per vector cost about a tenth of the picks
     * in M5's rows).
     */
    private static int keepRow(float[] full, int from, int o0, int o1, int stride, boolean pooled, int[] map,
                                   float[] out, int at) {
        int lanes = S.length();
        IntVector low = IntVector.broadcast(I, Integer.MAX_VALUE);
        IntVector high = IntVector.zero(I);
        for (int ox = o0; ox < o1; ox += lanes) {
            if (ox + lanes > o1 && o1 >= lanes) {
                ox = o1 - lanes;
            }
            int f = from + ox * stride;
            FloatVector v;
            if (stride == 1) {
                v = FloatVector.fromArray(S, full, f);
            } else if (stride == 2) {
                v = pooled ? pairs(full, f) : even(full, f);
            } else if (stride == 4) {
                v = pooled ? pairs(pairs(full, f), pairs(full, f + 2 * lanes))
                        : even(even(full, f), even(full, f + 2 * lanes));
            } else {
                v = FloatVector.fromArray(S, full, f, map, 0);
            }
            v.intoArray(out, at + ox);
            IntVector bits = v.reinterpretAsInts().and(0x7fffffff);
            low = low.min(bits);
            high = high.max(bits);
        }
        return (low.compare(VectorOperators.EQ, 0).anyTrue() ? ZERO : 0)
                | (high.compare(VectorOperators.GT, 0x7f800000).anyTrue() ? NAN : 0);
    }

    /**
     * Windows of {@code stride} (2 or 4) adjacent columns over one input row at float {@code from} of
     * the tensor's bytes {@code src} (float32, native order), every window inside the row
     * ({@code ow * stride} floats at most, {@code ow >=} {@link #lanes()}), reduced by clpool's rule
     * itself in the lanes ({@link #firstMax}), so the results are exact as computed: no zero-or-NaN
     * fix-up, no −0/NaN scan of the row, no cliff for ReLU'd or all-zero data. Read straight from
     * the tensor, nothing staged: with {@code Math.max} and its fix-up, the row had to be staged for
     * the scan (chunked copies, branch {@code cfwin2}); without, the loads overlap their memory
     * latency with the picks as the channels-last kernels' do (M5's 1-D 4 s4, one thread: 6.2 → 4.7
     * ms, ReLU'd and all-zero 7.1 → 4.8; staging the row in chunks for the same rule, 7.1 ms).
     * Outputs go to {@code out[at]}, the last vector overlapping the one before. Returns whether a
     * result is NaN: the float shuffles keep NaN payloads as compiled by C2, not in the interpreter's
     * and C1's fallback (which goes through {@code Float.floatToIntBits}), so the caller redoes NaN
     * results by the rule (a running sum of the results is NaN where one is, or, rarely, where +∞
     * meets −∞: one addition per vector).
     */
    static boolean pooledRow(ByteBuffer src, int from, int ow, int stride, float[] out, int at) {
        int lanes = S.length();
        int vb = lanes * Float.BYTES;
        FloatVector seen = FloatVector.zero(S);
        for (int ox = 0; ox < ow; ox += lanes) {
            if (ox + lanes > ow) {
                ox = ow - lanes;
            }
            int f = (from + ox * stride) * Float.BYTES;
            FloatVector v = firstMax(FloatVector.fromByteBuffer(S, src, f, ORDER),
                    FloatVector.fromByteBuffer(S, src, f + vb, ORDER));
            if (stride == 4) {
                v = firstMax(v, firstMax(FloatVector.fromByteBuffer(S, src, f + 2 * vb, ORDER),
                        FloatVector.fromByteBuffer(S, src, f + 3 * vb, ORDER)));
            }
            v.intoArray(out, at + ox);
            seen = seen.add(v);
        }
        return seen.compare(VectorOperators.NE, seen).anyTrue();
    }

    /**
     * Per adjacent pair of {@code a} then {@code b} (lanes 2i and 2i + 1), clpool's rule: the odd
     * element where it is strictly greater or a NaN while the even one is not, else the even one
     * (the first maximum, the first NaN, −0 against +0 kept). The rule is associative over
     * consecutive runs, so pairs of pairs give the first maximum of four. Two compares and two
     * blends (the odd one where the even one is not NaN, then the even one back where the odd one
     * is not above it), where {@code max} keeps Java's NaN and −0 rules in about as many; the same
     * as a mask {@code andNot}, which C2 left to its Java fallback here (boxed masks, 49 MB a call).
     */
    private static FloatVector firstMax(FloatVector a, FloatVector b) {
        FloatVector even = even(a, b);
        FloatVector odd = a.rearrange(LOW_ODD).blend(b.rearrange(LOW_ODD), UPPER);
        return even.blend(odd, even.compare(VectorOperators.EQ, even)).blend(even, odd.compare(VectorOperators.LE, even));
    }

    /**
     * Windows of 2 or 4 adjacent columns ({@code stride}) and one or two rows, read straight from
     * the tensor's bytes {@code src} (float32, native order), the vertical and horizontal passes
     * fused, nothing staged: band row r reads {@code rows[count + r]} (1 or 2) input rows from
     * float {@code rows[r]}, {@code step} floats apart, no padding, every window inside its row;
     * its {@code ow >=} {@link #lanes()} outputs go into the bytes {@code out} (float32, native order)
     * from float {@code outAt + r * ow} (no heap band copied out after). Reading the input once
     * here, as the channels-last kernels do, costs less than staging it (a bulk copy from memory,
     * then loads from L1): C3D's 1×2×2 max 12.3 → 8.4 ms on one thread (docs/performance.md,
     * branch {@code cfmax}). Returns whether the fix-up must run: a result is NaN, or a row has a
     * zero result and a −0 among the elements it loaded (a running int min of their bits, one lane
     * operation per load: the fix-up's question asked here, not by a second pass over the rows,
     * which cost ReLU'd and all-zero data about what the pooling cost; branch {@code c3d}).
     */
    static boolean pooled(ByteBuffer src, int[] rows, int count, int n, int step, int ow, int stride, ByteBuffer out,
                          int outAt) {
        int lanes = S.length();
        int vb = lanes * Float.BYTES;
        boolean fix = false;
        for (int r = 0; r < n; r++) {
            int second = rows[count + r] == 1 ? 0 : step * Float.BYTES;
            int base = rows[r] * Float.BYTES;
            IntVector low = IntVector.broadcast(I, Integer.MAX_VALUE);
            IntVector high = IntVector.zero(I);
            IntVector signs = IntVector.broadcast(I, Integer.MAX_VALUE);
            for (int ox = 0; ox < ow; ox += lanes) {
                if (ox + lanes > ow) {
                    ox = ow - lanes;
                }
                int f = base + ox * stride * Float.BYTES;
                FloatVector a = FloatVector.fromByteBuffer(S, src, f, ORDER);
                FloatVector b = FloatVector.fromByteBuffer(S, src, f + second, ORDER);
                FloatVector c = FloatVector.fromByteBuffer(S, src, f + vb, ORDER);
                FloatVector d = FloatVector.fromByteBuffer(S, src, f + vb + second, ORDER);
                signs = signs.min(a.reinterpretAsInts().min(b.reinterpretAsInts())
                        .min(c.reinterpretAsInts().min(d.reinterpretAsInts())));
                FloatVector v = pairs(a.max(b), c.max(d));
                if (stride == 4) {
                    a = FloatVector.fromByteBuffer(S, src, f + 2 * vb, ORDER);
                    b = FloatVector.fromByteBuffer(S, src, f + 2 * vb + second, ORDER);
                    c = FloatVector.fromByteBuffer(S, src, f + 3 * vb, ORDER);
                    d = FloatVector.fromByteBuffer(S, src, f + 3 * vb + second, ORDER);
                    signs = signs.min(a.reinterpretAsInts().min(b.reinterpretAsInts())
                            .min(c.reinterpretAsInts().min(d.reinterpretAsInts())));
                    v = pairs(v, pairs(a.max(b), c.max(d)));
                }
                v.intoByteBuffer(out, (outAt + r * ow + ox) << 2, ORDER);
                IntVector bits = v.reinterpretAsInts().and(0x7fffffff);
                low = low.min(bits);
                high = high.max(bits);
            }
            fix |= low.compare(VectorOperators.EQ, 0).anyTrue() && signs.compare(VectorOperators.EQ, MINUS_ZERO).anyTrue()
                    || high.compare(VectorOperators.GT, 0x7f800000).anyTrue();
        }
        return fix;
    }

    /** The maxima of the adjacent pairs of the two vectors from {@code full[f]}. */
    private static FloatVector pairs(float[] full, int f) {
        return pairs(FloatVector.fromArray(S, full, f), FloatVector.fromArray(S, full, f + S.length()));
    }

    /** The maxima of the adjacent pairs of {@code a}, then of {@code b}. */
    private static FloatVector pairs(FloatVector a, FloatVector b) {
        return even(a, b).max(a.rearrange(LOW_ODD).blend(b.rearrange(LOW_ODD), UPPER));
    }

    /** The even lanes of the two vectors from {@code full[f]}. */
    private static FloatVector even(float[] full, int f) {
        return even(FloatVector.fromArray(S, full, f), FloatVector.fromArray(S, full, f + S.length()));
    }

    /**
     * The even lanes of {@code a} then those of {@code b}: two one-vector shuffles and a blend (the
     * two-vector {@code rearrange(shuffle, other)} allocated on every call in JDK 17).
     */
    private static FloatVector even(FloatVector a, FloatVector b) {
        return a.rearrange(LOW).blend(b.rearrange(LOW), UPPER);
    }

    private static int[] indexMap(int stride) {
        int[] map = new int[S.length()];
        for (int i = 0; i < map.length; i++) {
            map[i] = i * stride;
        }
        return map;
    }

    /**
     * Whether any of {@code a[0, n)} is −0 or NaN (an input where the exact rule may give other
     * bits than {@code Math.max}), branch-free over blocks of {@link #BLOCK} vectors: the smallest
     * int of the floats' bits is {@code 0x80000000} only for a −0, and the largest magnitude bits
     * exceed {@code 0x7f800000} only for a NaN; two lane operations per vector, and two tests per
     * block. (Two compares and two tests per vector cost about as much as a pooling pass over the
     * same floats: C3D's 1×2×2 max on all-zero data 1.2x its random data's time.)
     * {@link PlaneMax}'s scalar scan reduced min(1/x) with branches that follow the data (ReLU'd
     * stem max: 2.4x the random data's time).
     */
    static boolean minusZeroOrNaN(float[] a, int n) {
        int lanes = S.length();
        int i = 0;
        while (i + lanes <= n) {
            int end = Math.min(n - lanes, i + (BLOCK - 1) * lanes);
            IntVector low = FloatVector.fromArray(S, a, i).reinterpretAsInts();
            IntVector high = low.and(0x7fffffff);
            for (i += lanes; i <= end; i += lanes) {
                IntVector bits = FloatVector.fromArray(S, a, i).reinterpretAsInts();
                low = low.min(bits);
                high = high.max(bits.and(0x7fffffff));
            }
            if (low.compare(VectorOperators.EQ, MINUS_ZERO).anyTrue()
                    || high.compare(VectorOperators.GT, 0x7f800000).anyTrue()) {
                return true;
            }
        }
        for (; i < n; i++) {
            if (a[i] != a[i] || Float.floatToRawIntBits(a[i]) == MINUS_ZERO) {
                return true;
            }
        }
        return false;
    }

    /** Vectors per block of {@link #minusZeroOrNaN}. */
    private static final int BLOCK = 32;

    /** {@link #ZERO} where any of {@code a[0, n)} is ±0, or'd with {@link #NAN} where one is NaN. */
    static int flags(float[] a, int n) {
        int flags = 0;
        for (int i = 0; i < n; i++) {
            flags |= a[i] == 0 ? ZERO : a[i] != a[i] ? NAN : 0;
        }
        return flags;
    }
}
