package dev.clpool.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API gather of max backward over one-channel planes (channels-first tensors viewed as
 * (N·C, H, W, 1)), the twin of {@link PlaneBackward}'s max bands; loaded only behind
 * {@link VectorSupport#ENABLED}.
 *
 * <p>Lanes run along an input row, from heap arrays ({@link PlaneMaxGather} stages a band's chosen
 * tap numbers and gradients). Each input element sums, from +0, the gradients of the outputs that
 * chose it, in the order the scalar path adds them (output rows ascending, then output columns
 * ascending), and is rounded to float once with one canonical NaN: the same bits. At column stride
 * 1 the outputs whose column tap {@code jx} lies on a vector of consecutive input columns are
 * consecutive output columns, so a tap's chosen numbers and gradients are two plain loads; at
 * stride 2 the even and the odd input columns (the two phases) are such vectors, each tap reaching
 * one phase. A phase's taps are listed once per row (an output row and a column offset each) and
 * run over the whole phase row a vector at a time; the two phase rows are then interleaved by two
 * single-source shuffles and a blend per vector (JDK 17 intrinsifies those, not the two-source
 * {@code rearrange}). Listing the taps per vector of columns instead, with a division per tap,
 * cost more than the sums. An output's gradient counts in a lane where its chosen tap number is
 * the tap on that lane's element and adds +0 elsewhere (which leaves a sum started at +0
 * unchanged); up to two terms are summed in float, which are the double sums' bits, more in double
 * lanes ({@link VecMaxBackward#sum}'s argument). Columns near the row's ends, whose windows reach
 * past the output columns, are summed one at a time in double. Method signatures use JDK types only.
 */
final class VecPlaneMaxGather {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> T = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** The lanes of a float vector that the low double vector widens. */
    private static final VectorMask<Float> LOW = F.indexInRange(0, D.length());
    /**
     * Lane i takes lane i/2 (the low half interleaved), or lanes/2 + i/2 (the high half); on ints:
     * JDK 17's C2 left the float {@code rearrange} here to its Java fallback (a shuffle's
     * {@code toArray} per call, a tenth of the time), while the int one is intrinsified.
     */
    private static final VectorShuffle<Integer> SPREAD_LOW = VectorShuffle.fromOp(T, i -> i / 2);
    private static final VectorShuffle<Integer> SPREAD_HIGH = VectorShuffle.fromOp(T, i -> T.length() / 2 + i / 2);
    /** The odd lanes. */
    private static final VectorMask<Integer> ODD = VectorMask.fromLong(T, 0xAAAAAAAAAAAAAAAAL);

    private VecPlaneMaxGather() {
    }

    /** Floats of {@link #row}'s {@code phases} scratch for rows of {@code iw} columns. */
    static int phaseFloats(int iw) {
        return iw + 2;
    }

    /**
     * One input row's gradients, from and into heap arrays.
     *
     * @param taps   chosen tap numbers ({@code jy·kw + jx}) of the band's output rows, staged
     * @param dy     the same output rows' gradients, staged at the same positions
     * @param dst    the input row's gradients: elements {@code 0..iw} are written
     * @param outAt  per output row whose windows hold this input row ({@code rows} of them, ascending): its
     *               first element in {@code taps} and {@code dy}
     * @param rowTap per such output row: the tap number of its window's column tap 0 in this input row
     * @param sw     column stride, 1 or 2
     * @param c0     input column of output column 0's tap 0 (negative where the columns are padded)
     * @param list   scratch of at least {@code 3·rows·kw} ints
     * @param phases scratch of at least {@link #phaseFloats}{@code (iw)} floats (stride 2)
     */
    static void row(int[] taps, float[] dy, float[] dst, int[] outAt, int[] rowTap, int rows, int kw, int dw, int sw,
                    int c0, int ow, int iw, int[] list, float[] phases) {
        int third = list.length / 3;
        // sw is 1 or 2: d % sw and d / sw as a mask and a shift.
        int odd = sw - 1;
        int half = (iw + 1) / 2;
        for (int phase = 0; phase < sw; phase++) {
            // Phase element i is input column i·sw + phase; a listed tap's output column is i + shift.
            int count = 0;
            int low = 0;
            int high = 0;
            for (int r = 0; r < rows; r++) {
                for (int jx = kw - 1; jx >= 0; jx--) {
                    int d = phase - c0 - jx * dw;
                    if ((d & odd) == 0) {
                        int shift = d >> odd;
                        list[count] = outAt[r] + shift;
                        list[third + count] = rowTap[r] + jx;
                        list[2 * third + count++] = shift;
                        low = Math.min(low, shift);
                        high = Math.max(high, shift);
                    }
                }
            }
            float[] to = sw == 1 ? dst : phases;
            int at = phase * half;
            int len = (iw - phase + odd) >> odd;
            // Vectors over [lo, hi): every listed output column of their lanes exists.
            int lo = Math.min(len, -low);
            int hi = Math.max(lo, Math.min(len, ow - high));
            if (hi - lo < F.length()) {
                hi = lo;
            }
            for (int i = lo; i < hi; i += F.length()) {
                int b = Math.min(i, hi - F.length());
                sum(taps, dy, list, third, count, b, to, at + b);
            }
            for (int i = 0; i < lo; i++) {
                to[at + i] = single(taps, dy, list, third, count, ow, i);
            }
            for (int i = hi; i < len; i++) {
                to[at + i] = single(taps, dy, list, third, count, ow, i);
            }
        }
        if (sw == 2) {
            interleave(phases, half, dst, iw);
        }
    }

    /** Input columns {@code 2i} from {@code phases[i]}, {@code 2i + 1} from {@code phases[half + i]}. */
    private static void interleave(float[] phases, int half, float[] dst, int iw) {
        int l = F.length();
        int end = 0;
        if (iw >= 2 * l) {
            int last = (iw - 2 * l) & ~1;
            for (int x = 0; ; x += 2 * l) {
                int b = Math.min(x, last);
                IntVector even = FloatVector.fromArray(F, phases, b / 2).reinterpretAsInts();
                IntVector oddLanes = FloatVector.fromArray(F, phases, half + b / 2).reinterpretAsInts();
                even.rearrange(SPREAD_LOW).blend(oddLanes.rearrange(SPREAD_LOW), ODD).reinterpretAsFloats()
                        .intoArray(dst, b);
                even.rearrange(SPREAD_HIGH).blend(oddLanes.rearrange(SPREAD_HIGH), ODD).reinterpretAsFloats()
                        .intoArray(dst, b + l);
                if (b == last) {
                    break;
                }
            }
            end = last + 2 * l;
        }
        for (int x = end; x < iw; x++) {
            dst[x] = phases[(x & 1) * half + (x >> 1)];
        }
    }

    /**
     * A vector of a phase's elements from {@code i}: its {@code count} listed contributions
     * ({@code list[k] + i}: the output element of lane 0; {@code list[third + k]}: the tap that lies
     * on the lanes' elements), written at {@code to[at]} with one canonical NaN.
     */
    private static void sum(int[] taps, float[] dy, int[] list, int third, int count, int i, float[] to, int at) {
        FloatVector r = FloatVector.zero(F);
        if (count <= 2) {
            for (int k = 0; k < count; k++) {
                r = r.add(contribution(taps, dy, list[k] + i, list[third + k]));
            }
        } else {
            DoubleVector low = DoubleVector.zero(D);
            DoubleVector high = DoubleVector.zero(D);
            for (int k = 0; k < count; k++) {
                FloatVector g = contribution(taps, dy, list[k] + i, list[third + k]);
                low = low.add(g.convertShape(VectorOperators.F2D, D, 0));
                high = high.add(g.convertShape(VectorOperators.F2D, D, 1));
            }
            r = ((FloatVector) high.convertShape(VectorOperators.D2F, F, -1))
                    .blend((FloatVector) low.convertShape(VectorOperators.D2F, F, 0), LOW);
        }
        r.blend(Float.NaN, r.compare(VectorOperators.NE, r)).intoArray(to, at);
    }

    /** The gradients at staged element {@code e} onwards in the lanes whose chosen tap is {@code tap}, +0 in the others. */
    private static FloatVector contribution(int[] taps, float[] dy, int e, int tap) {
        // Tap numbers compared as float bits (small non-negative ints: exact), so that the mask blends floats.
        FloatVector chosen = IntVector.fromArray(T, taps, e).reinterpretAsFloats();
        return FloatVector.zero(F).blend(FloatVector.fromArray(F, dy, e),
                chosen.compare(VectorOperators.EQ, Float.intBitsToFloat(tap)));
    }

    /** A phase's element {@code i}, summed in double as the scalar path forms it. */
    private static float single(int[] taps, float[] dy, int[] list, int third, int count, int ow, int i) {
        double acc = 0;
        for (int k = 0; k < count; k++) {
            int ox = i + list[2 * third + k];
            if (ox >= 0 && ox < ow && taps[list[k] + i] == list[third + k]) {
                acc += dy[list[k] + i];
            }
        }
        return CpuBackend.canonicalNaN((float) acc);
    }
}
