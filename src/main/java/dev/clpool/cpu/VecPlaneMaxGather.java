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
 * <p>Lanes run along a band's phase planes laid out flat ({@link PlaneMaxGather} stages the band's
 * chosen tap numbers and gradients at the outputs' positions, one pitch for every row): each tap
 * that lies on a phase plane's elements is a fixed distance back to the outputs holding it, so a
 * vector of elements sums, from +0, two plain loads per tap (chosen numbers and gradients), in the
 * order the scalar path adds them (output rows ascending, then output columns ascending), and is
 * rounded to float once with one canonical NaN: the same bits. An output's gradient counts in a lane
 * where its chosen tap number is the tap on that lane's element and adds +0 elsewhere (which leaves a
 * sum started at +0 unchanged); up to two terms are summed in float, which are the double sums'
 * bits, more in double lanes ({@link VecMaxBackward#sum}'s argument). At column stride 2 the even and
 * odd columns' planes are interleaved back into input rows by two single-source shuffles and a blend
 * per vector (JDK 17 intrinsifies those, not the two-source {@code rearrange}). Method signatures use
 * JDK types only.
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

    /**
     * Input columns {@code 2i} from {@code src[even + i]}, {@code 2i + 1} from {@code src[odd + i]}, into
     * {@code dst[at, at + iw)}: two single-source shuffles and a blend per vector, in overlapping blocks of
     * two vectors, the rest one at a time.
     */
    static void interleave(float[] src, int even, int odd, float[] dst, int at, int iw) {
        int l = F.length();
        int end = 0;
        if (iw >= 2 * l) {
            int last = (iw - 2 * l) & ~1;
            for (int x = 0; ; x += 2 * l) {
                int b = Math.min(x, last);
                IntVector e = FloatVector.fromArray(F, src, even + b / 2).reinterpretAsInts();
                IntVector o = FloatVector.fromArray(F, src, odd + b / 2).reinterpretAsInts();
                e.rearrange(SPREAD_LOW).blend(o.rearrange(SPREAD_LOW), ODD).reinterpretAsFloats().intoArray(dst, at + b);
                e.rearrange(SPREAD_HIGH).blend(o.rearrange(SPREAD_HIGH), ODD).reinterpretAsFloats()
                        .intoArray(dst, at + b + l);
                if (b == last) {
                    break;
                }
            }
            end = last + 2 * l;
        }
        for (int x = end; x < iw; x++) {
            dst[at + x] = src[((x & 1) == 0 ? even : odd) + (x >> 1)];
        }
    }

    /**
     * A vector of a phase plane's elements from {@code i}: its {@code count} listed contributions
     * ({@code list[k] + i}: the output element of lane 0; {@code list[third + k]}: the tap that lies
     * on the lanes' elements), written at {@code to[at]} with one canonical NaN.
     */
    static void sum(int[] taps, float[] dy, int[] list, int third, int count, int i, float[] to, int at) {
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
}
