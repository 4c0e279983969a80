package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The global average of small channels-first planes ({@link PlaneGlobal}'s scalar loops, below
 * {@link PlaneGlobal#LARGE_PLANE}) in Vector API lanes, read straight from the tensor's direct
 * memory: each plane's floats are widened to double a vector at a time and summed lane-wise, the
 * lanes then added together, the tail in order. Double sums of at most
 * {@link PlaneGlobal#LARGE_PLANE} floats are far inside SEMANTICS.md's tolerance, as the scalar
 * loops' four double chains are; the two differ only in the order of the double additions.
 * Loaded only where {@link VectorSupport#ENABLED}.
 */
final class VecPlaneGlobal {
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
    /** As many floats as {@link #DOUBLES} has lanes: each load widens into one double vector. */
    private static final VectorSpecies<Float> FLOATS =
            VectorSpecies.of(float.class, VectorShape.forBitSize(DOUBLES.vectorBitSize() / 2));
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Results per task item: a block of planes is one item of {@link CpuBackend#chunks}. */
    private static final int BLOCK_FLOATS = 1 << 14;

    private VecPlaneGlobal() {
    }

    /**
     * The average of each of {@code planes} planes of {@code size} floats in {@code in} (bytes in
     * native order, plane {@code i} at float {@code i * size}) into {@code out}.
     */
    static void avg(CpuBackend cpu, ByteBuffer in, FloatBuffer out, int planes, int size) {
        int per = Math.max(1, BLOCK_FLOATS / size);
        cpu.chunks((planes + per - 1) / per, (long) per * size, (from, to) -> {
            float[] result = Scratch.get().floats(0, per);
            for (int b = from; b < to; b++) {
                int p0 = b * per;
                int count = Math.min(per, planes - p0);
                for (int q = 0; q < count; q++) {
                    result[q] = CpuBackend.canonicalNaN((float) (sum(in, (p0 + q) * size, size) / size));
                }
                out.put(p0, result, 0, count);
            }
        });
    }

    /** The double sum of the {@code size} floats from float {@code at} of {@code in}. */
    static double sum(ByteBuffer in, int at, int size) {
        int lanes = FLOATS.length();
        int end = at + size;
        int i = at;
        DoubleVector acc = DoubleVector.zero(DOUBLES);
        for (; i + lanes <= end; i += lanes) {
            acc = acc.add(FloatVector.fromByteBuffer(FLOATS, in, i * Float.BYTES, ORDER)
                    .convertShape(VectorOperators.F2D, DOUBLES, 0));
        }
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < end; i++) {
            s += in.getFloat(i * Float.BYTES);
        }
        return s;
    }
}
