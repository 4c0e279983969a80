package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** The lanes of a float vector that the low double vector widens. */
    private static final VectorMask<Float> LOW = F.indexInRange(0, D.length());
    /**
     * Lane i takes lane i/2 (the low half interleaved), or lanes/2 + i/2 (the high half); on ints:
     * JDK 17's C2 left the float {@code rearrange} here to its Java fallback (a shuffle's
     * {@code toArray} per call, a tenth of the time), while the int one is intrinsified.
     */
    private static final VectorShuffle<Integer> SPREAD_LOW = VectorShuffle.fromOp(T, i -> i / 2);
    private static final VectorShuffle<Integer> SPREAD_HIGH = VectorShuffle.fromOp(T, i -> T.length() / 2 + i / 2);
    /** Lane i of the even elements of two vectors (a, b): a's 2i in the low half, b's 2i − lanes in the high half. */
    private static final VectorShuffle<Integer> EVENS = VectorShuffle.fromOp(T, i -> 2 * i % T.length());
    /** The same for the odd elements. */
    private static final VectorShuffle<Integer> ODDS = VectorShuffle.fromOp(T, i -> (2 * i + 1) % T.length());
    /** The lanes of the high half. */
    private static final VectorMask<Integer> HIGH = T.indexInRange(-T.length() / 2, T.length() / 2);
    /** The odd lanes. */
    private static final VectorMask<Integer> ODD = VectorMask.fromLong(T, 0xAAAAAAAAAAAAAAAAL);

    private VecPlaneMaxGather() {
    }

    /**
     * Input columns {@code 2i} from {@code src[even + i]}, {@code 2i + 1} from {@code src[odd + i]}, into
     * floats {@code [at, at + iw)} of {@code dst} (native order): two single-source shuffles and a blend per
     * vector, stored straight into the buffer, in overlapping blocks of two vectors, the rest one at a time.
     */
    static void interleave(float[] src, int even, int odd, ByteBuffer dst, int at, int iw) {
        int l = F.length();
        int end = 0;
        if (iw >= 2 * l) {
            int last = (iw - 2 * l) & ~1;
            for (int x = 0; ; x += 2 * l) {
                int b = Math.min(x, last);
                IntVector e = FloatVector.fromArray(F, src, even + b / 2).reinterpretAsInts();
                IntVector o = FloatVector.fromArray(F, src, odd + b / 2).reinterpretAsInts();
                e.rearrange(SPREAD_LOW).blend(o.rearrange(SPREAD_LOW), ODD).intoByteBuffer(dst, 4 * (at + b), ORDER);
                e.rearrange(SPREAD_HIGH).blend(o.rearrange(SPREAD_HIGH), ODD).intoByteBuffer(dst, 4 * (at + b + l), ORDER);
                if (b == last) {
                    break;
                }
            }
            end = last + 2 * l;
        }
        for (int x = end; x < iw; x++) {
            dst.putInt(4 * (at + x), Float.floatToRawIntBits(src[((x & 1) == 0 ? even : odd) + (x >> 1)]));
        }
    }

    /**
     * Columns {@code 2i} of the tensor row at float {@code at} of {@code src} (native order) to
     * {@code stage[even + i]}, {@code 2i + 1} to {@code stage[odd + i]}, as raw bits: the inverse of
     * {@link #interleave}, loaded straight from the buffer and split by two single-source int shuffles
     * and a blend per vector, in the same overlapping blocks of two vectors, the rest one at a time.
     */
    static void split(ByteBuffer src, int at, int iw, int[] stage, int even, int odd) {
        int l = T.length();
        int x = 0;
        if (iw >= 2 * l) {
            int last = (iw - 2 * l) & ~1;
            for (int b = 0; ; b += 2 * l) {
                int e = Math.min(b, last);
                IntVector a = IntVector.fromByteBuffer(T, src, 4 * (at + e), ORDER);
                IntVector c = IntVector.fromByteBuffer(T, src, 4 * (at + e + l), ORDER);
                a.rearrange(EVENS).blend(c.rearrange(EVENS), HIGH).intoArray(stage, even + e / 2);
                a.rearrange(ODDS).blend(c.rearrange(ODDS), HIGH).intoArray(stage, odd + e / 2);
                if (e == last) {
                    break;
                }
            }
            x = last + 2 * l;
        }
        for (; x < iw; x++) {
            stage[((x & 1) == 0 ? even : odd) + (x >> 1)] = src.getInt(4 * (at + x));
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

    /**
     * {@link #sum} of all four phase planes of a 3×3 window at stride 2 (dilation 1: ResNet's stem) at
     * once, a vector of each from {@code i}: every tap lies 0, 1, {@code pitch} or {@code pitch + 1}
     * elements back from the phase planes' element, so four loads of chosen numbers and four of
     * gradients serve the nine contributions (the planes one at a time load eighteen of each). Each
     * plane sums its own taps in {@link #sum}'s order (descending distance: ascending outputs), plane
     * (0, 0)'s four in double lanes, and is written at {@code to[at + k·planeGap]} with one canonical NaN.
     * The vectors are spelled out in this one method, none passed to a helper (JDK 17's C2 boxes them
     * where a call is not inlined).
     */
    static void stemSums(int[] taps, float[] dy, int pitch, int i, float[] to, int at, int planeGap) {
        FloatVector zero = FloatVector.zero(F);
        FloatVector c0 = IntVector.fromArray(T, taps, i).reinterpretAsFloats();
        FloatVector c1 = IntVector.fromArray(T, taps, i - 1).reinterpretAsFloats();
        FloatVector cp = IntVector.fromArray(T, taps, i - pitch).reinterpretAsFloats();
        FloatVector cq = IntVector.fromArray(T, taps, i - pitch - 1).reinterpretAsFloats();
        FloatVector g0 = FloatVector.fromArray(F, dy, i);
        FloatVector g1 = FloatVector.fromArray(F, dy, i - 1);
        FloatVector gp = FloatVector.fromArray(F, dy, i - pitch);
        FloatVector gq = FloatVector.fromArray(F, dy, i - pitch - 1);
        // Plane (0, 0): taps 8, 6, 2, 0 (distances pitch + 1, pitch, 1, 0).
        FloatVector a = zero.blend(gq, cq.compare(VectorOperators.EQ, Float.intBitsToFloat(8)));
        FloatVector b = zero.blend(gp, cp.compare(VectorOperators.EQ, Float.intBitsToFloat(6)));
        FloatVector c = zero.blend(g1, c1.compare(VectorOperators.EQ, Float.intBitsToFloat(2)));
        FloatVector d = zero.blend(g0, c0.compare(VectorOperators.EQ, Float.intBitsToFloat(0)));
        DoubleVector low = DoubleVector.zero(D).add(a.convertShape(VectorOperators.F2D, D, 0))
                .add(b.convertShape(VectorOperators.F2D, D, 0)).add(c.convertShape(VectorOperators.F2D, D, 0))
                .add(d.convertShape(VectorOperators.F2D, D, 0));
        DoubleVector high = DoubleVector.zero(D).add(a.convertShape(VectorOperators.F2D, D, 1))
                .add(b.convertShape(VectorOperators.F2D, D, 1)).add(c.convertShape(VectorOperators.F2D, D, 1))
                .add(d.convertShape(VectorOperators.F2D, D, 1));
        FloatVector r = ((FloatVector) high.convertShape(VectorOperators.D2F, F, -1))
                .blend((FloatVector) low.convertShape(VectorOperators.D2F, F, 0), LOW);
        r.blend(Float.NaN, r.compare(VectorOperators.NE, r)).intoArray(to, at);
        // Plane (0, 1): taps 7, 1 (distances pitch, 0).
        r = zero.add(zero.blend(gp, cp.compare(VectorOperators.EQ, Float.intBitsToFloat(7))))
                .add(zero.blend(g0, c0.compare(VectorOperators.EQ, Float.intBitsToFloat(1))));
        r.blend(Float.NaN, r.compare(VectorOperators.NE, r)).intoArray(to, at + planeGap);
        // Plane (1, 0): taps 5, 3 (distances 1, 0).
        r = zero.add(zero.blend(g1, c1.compare(VectorOperators.EQ, Float.intBitsToFloat(5))))
                .add(zero.blend(g0, c0.compare(VectorOperators.EQ, Float.intBitsToFloat(3))));
        r.blend(Float.NaN, r.compare(VectorOperators.NE, r)).intoArray(to, at + 2 * planeGap);
        // Plane (1, 1): tap 4 (distance 0).
        r = zero.add(zero.blend(g0, c0.compare(VectorOperators.EQ, Float.intBitsToFloat(4))));
        r.blend(Float.NaN, r.compare(VectorOperators.NE, r)).intoArray(to, at + 3 * planeGap);
    }

    /** The gradients at staged element {@code e} onwards in the lanes whose chosen tap is {@code tap}, +0 in the others. */
    private static FloatVector contribution(int[] taps, float[] dy, int e, int tap) {
        // Tap numbers compared as float bits (small non-negative ints: exact), so that the mask blends floats.
        FloatVector chosen = IntVector.fromArray(T, taps, e).reinterpretAsFloats();
        return FloatVector.zero(F).blend(FloatVector.fromArray(F, dy, e),
                chosen.compare(VectorOperators.EQ, Float.intBitsToFloat(tap)));
    }
}
