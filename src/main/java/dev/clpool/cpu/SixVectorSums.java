package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link VecPlaneGlobal#avg} for planes of six to seven double vectors' floats ({@link #fits}: 48
 * to 55 floats with 512-bit vectors, so a classifier head's 7×7), in straight-line code: six whole
 * double vectors from three float vectors (each widened as its lower half and, its halves swapped
 * by a constant shuffle, its upper half: {@code convertShape} part 1 runs in Java on JDK 17) and
 * the plane's last double vector's worth of floats read from its end with the lanes already
 * counted cleared by an AND of their bits, added as a tree, one {@code reduceLanes} per plane.
 * Double sums as {@link VecPlaneGlobal#sum}, in another order: nothing to certify (where the plane's double sum is exact, as it is for any data whose floats
 * span fewer than 2^24 of exponent range, every order gives the same bits).
 *
 * <p>Why a fixed shape: the loop of {@link VecPlaneGlobal#sum} (six trips and a scalar tail for
 * 7×7) spent more in C2's loop structure per plane than in the loads and additions. One thread,
 * ResNet-50's head channels-first (65,536 planes of 49), kernels alone: the loop 0.74–0.79 ms,
 * two chains in the loop 0.65–0.70, six vectors and a masked seventh 0.57–0.58 (docs/performance.md,
 * branch {@code gapd}). The tensor's last plane, whose sixth vector would read past the tensor,
 * is summed by a scalar loop in another method: with its vector loop beside the hot one (run for
 * one or two planes a call, so cold), C2 kept the loop-invariant mask boxed and the mask's
 * {@code addIndex} and the cold loop's vectors ran in Java, 200 bytes a block of planes, 40 KB a
 * call on ResNet-50's head (branch {@code gap4}).
 */
final class SixVectorSums {
    private static final VectorSpecies<Double> DOUBLES = VecPlaneGlobal.DOUBLES;
    private static final VectorSpecies<Float> FLOATS = VecPlaneGlobal.FLOATS;
    private static final VectorSpecies<Long> BITS = LongVector.SPECIES_PREFERRED.withShape(DOUBLES.vectorShape());
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** A float vector's halves swapped: three buffer loads a plane instead of six (branch {@code gap4}). */
    private static final VectorShuffle<Float> SWAP =
            VectorShuffle.fromOp(FLOATS, i -> (i + FLOATS.length() / 2) % FLOATS.length());

    /**
     * A double vector's lanes of zero bits, then as many of one bits: read from {@code size − 6·lanes}
     * ({@link #fits}), lane l is all ones where l ≥ 7·lanes − size: one load a block of planes.
     */
    private static final long[] KEEP = new long[2 * DOUBLES.length()];

    static {
        java.util.Arrays.fill(KEEP, DOUBLES.length(), KEEP.length, -1L);
    }

    private SixVectorSums() {
    }

    /** Whether planes of {@code size} floats are summed here: six whole double vectors and a tail shorter than one. */
    static boolean fits(int size) {
        return size >= 6 * DOUBLES.length() && size < 7 * DOUBLES.length();
    }

    /**
     * The averages of planes {@code [p0, p0 + count)} of {@code size} floats ({@link #fits}) in
     * {@code in} (plane {@code i} at float {@code i * size}, native order) into {@code result} from 0,
     * a NaN as the canonical one.
     */
    static void averages(ByteBuffer in, int p0, int count, int size, float[] result) {
        int q = inside(in, p0, count, size, result);
        if (q < count) {
            nearEnd(in, p0, q, count, size, result);
        }
    }

    /**
     * The planes of {@link #averages} whose vectors lie in the tensor, from the first: returns how
     * many. Its own method, so that no vector is live where the hot loop ends.
     */
    private static int inside(ByteBuffer in, int p0, int count, int size, float[] result) {
        int step = DOUBLES.length() * Float.BYTES;
        int planeBytes = size * Float.BYTES;
        int q = 0;
        int b = p0 * planeBytes;
        // Lane l of the last vector is float size − lanes + l: counted already unless l ≥ 7·lanes − size.
        LongVector keep = LongVector.fromArray(BITS, KEEP, size - 6 * DOUBLES.length());
        // Each double vector is the lower half of a float vector, which reads up to a double
        // vector's floats past the plane: the tensor's last plane goes to the scalar loop below.
        for (; q < count && b + planeBytes + step <= in.limit(); q++, b += planeBytes) {
            FloatVector v0 = FloatVector.fromByteBuffer(FLOATS, in, b, ORDER);
            FloatVector v1 = FloatVector.fromByteBuffer(FLOATS, in, b + 2 * step, ORDER);
            FloatVector v2 = FloatVector.fromByteBuffer(FLOATS, in, b + 4 * step, ORDER);
            DoubleVector a0 = lo(v0);
            DoubleVector a1 = lo(v0.rearrange(SWAP));
            DoubleVector a2 = lo(v1);
            DoubleVector a3 = lo(v1.rearrange(SWAP));
            DoubleVector a4 = lo(v2);
            DoubleVector a5 = lo(v2.rearrange(SWAP));
            DoubleVector t = widened(in, b + planeBytes - step).reinterpretAsLongs().and(keep).reinterpretAsDoubles();
            double s = a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(t)).reduceLanes(VectorOperators.ADD);
            result[q] = CpuBackend.canonicalNaN((float) (s / size));
        }
        return q;
    }

    /** Planes {@code [q, count)} of {@link #averages}, the tensor's last: a double sum in order. */
    private static void nearEnd(ByteBuffer in, int p0, int q, int count, int size, float[] result) {
        int planeBytes = size * Float.BYTES;
        for (int b = (p0 + q) * planeBytes; q < count; q++, b += planeBytes) {
            double s = 0;
            for (int t = b; t < b + planeBytes; t += Float.BYTES) {
                s += in.getFloat(t);
            }
            result[q] = CpuBackend.canonicalNaN((float) (s / size));
        }
    }
    /** The lower half of {@code v}, widened. */
    private static DoubleVector lo(FloatVector v) {
        return (DoubleVector) v.convertShape(VectorOperators.F2D, DOUBLES, 0);
    }

    /**
     * The first {@link #DOUBLES}-lanes floats of the float vector at byte {@code b} of {@code in},
     * widened: one double vector (the whole float vector must lie in the tensor).
     */
    private static DoubleVector widened(ByteBuffer in, int b) {
        return (DoubleVector) FloatVector.fromByteBuffer(FLOATS, in, b, ORDER).convertShape(VectorOperators.F2D, DOUBLES, 0);
    }
}
