package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link VecPlaneGlobal#avg} for planes of six to seven double vectors' floats ({@link #fits}: 48
 * to 55 floats with 512-bit vectors, so a classifier head's 7×7), in straight-line code: the six
 * whole vectors widened and added as a tree, and the plane's last vector's worth of floats read
 * from its end (overlapping the sixth) with the lanes already counted cleared by an AND of their
 * bits (exact, and an infinity or NaN there is counted once, in the sixth), one
 * {@code reduceLanes} per plane. Double sums as {@link VecPlaneGlobal#sum}, in another order:
 * nothing to certify.
 *
 * <p>Why a fixed shape: the loop of {@link VecPlaneGlobal#sum} (six trips and a scalar tail for
 * 7×7) spent more in C2's loop structure per plane than in the loads and additions. One thread,
 * ResNet-50's head channels-first (65,536 planes of 49), kernels alone: the loop 0.74–0.79 ms,
 * two chains in the loop 0.65–0.70, this form 0.57–0.58 (docs/performance.md, branch
 * {@code gapd}).
 */
final class SixVectorSums {
    private static final VectorSpecies<Double> DOUBLES = VecPlaneGlobal.DOUBLES;
    private static final VectorSpecies<Float> FLOATS = VecPlaneGlobal.FLOATS;
    private static final VectorSpecies<Long> BITS = LongVector.SPECIES_PREFERRED.withShape(DOUBLES.vectorShape());
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

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
        int lanes = DOUBLES.length();
        int step = lanes * Float.BYTES;
        int planeBytes = size * Float.BYTES;
        // Lane l of the last vector is float size − lanes + l: counted already unless l ≥ 7·lanes − size.
        LongVector keep = LongVector.zero(BITS).addIndex(1).compare(VectorOperators.GE, 7L * lanes - size)
                .toVector().reinterpretAsLongs();
        int q = 0;
        int b = p0 * planeBytes;
        // Each double vector from the lower half of the float vector starting there: it reads up to
        // lanes floats past the plane, so the tensor's last planes go to the loop below.
        for (; q < count && b + planeBytes + step <= in.limit(); q++, b += planeBytes) {
            DoubleVector a0 = widened(in, b);
            DoubleVector a1 = widened(in, b + step);
            DoubleVector a2 = widened(in, b + 2 * step);
            DoubleVector a3 = widened(in, b + 3 * step);
            DoubleVector a4 = widened(in, b + 4 * step);
            DoubleVector a5 = widened(in, b + 5 * step);
            DoubleVector t = widened(in, b + planeBytes - step).reinterpretAsLongs().and(keep).reinterpretAsDoubles();
            double s = a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(t)).reduceLanes(VectorOperators.ADD);
            result[q] = CpuBackend.canonicalNaN((float) (s / size));
        }
        // The same terms, the sixth and the last from the upper halves of float vectors inside the plane.
        for (; q < count; q++, b += planeBytes) {
            DoubleVector a0 = widened(in, b);
            DoubleVector a1 = widened(in, b + step);
            DoubleVector a2 = widened(in, b + 2 * step);
            DoubleVector a3 = widened(in, b + 3 * step);
            DoubleVector a4 = widened(in, b + 4 * step);
            DoubleVector a5 = upper(in, b + 4 * step);
            DoubleVector t = upper(in, b + planeBytes - 2 * step).reinterpretAsLongs().and(keep).reinterpretAsDoubles();
            double s = a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(t)).reduceLanes(VectorOperators.ADD);
            result[q] = CpuBackend.canonicalNaN((float) (s / size));
        }
    }

    /**
     * The first {@link #DOUBLES}-lanes floats of the float vector at byte {@code b} of {@code in},
     * widened: one double vector (the whole float vector must lie in the tensor).
     */
    private static DoubleVector widened(ByteBuffer in, int b) {
        return (DoubleVector) FloatVector.fromByteBuffer(FLOATS, in, b, ORDER).convertShape(VectorOperators.F2D, DOUBLES, 0);
    }

    /** The float vector at byte {@code b} of {@code in}, its upper half widened. */
    private static DoubleVector upper(ByteBuffer in, int b) {
        return (DoubleVector) FloatVector.fromByteBuffer(FLOATS, in, b, ORDER).convertShape(VectorOperators.F2D, DOUBLES, 1);
    }
}
