package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The global average and max of small channels-first planes ({@link PlaneGlobal}'s scalar loops,
 * below {@link PlaneGlobal#LARGE_PLANE}) in Vector API lanes, read straight from the tensor's
 * direct memory. Average: each plane's floats are widened to double a vector at a time and summed
 * lane-wise, the lanes then added together, the tail in order. Double sums of at most
 * {@link PlaneGlobal#LARGE_PLANE} floats are far inside SEMANTICS.md's tolerance, as the scalar
 * loops' four double chains are; the two differ only in the order of the double additions. Max
 * ({@link #max}): {@code Math.max} lanes, then the rule's fix-up of {@link PlaneGlobal#max}.
 * Loaded only where {@link VectorSupport#ENABLED}.
 */
final class VecPlaneGlobal {
    static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
    /**
     * The float species of {@link #DOUBLES}' shape (the preferred one, twice its lanes): each load
     * widens into two double vectors, {@code convertShape} parts 0 and 1. Not a float species of
     * half that shape: a second float species in the JVM gives JDK 17's shared
     * {@code FloatSpecies.dummyVector} class-check traps, which C2 adds up once per inlined call,
     * so that large kernels elsewhere (the 16×16 transposes of {@link VecAdaptive}) stopped
     * predicting types and boxed their vectors (docs/cpu-internals.md, "One float species").
     */
    static final VectorSpecies<Float> FLOATS = VectorSpecies.of(float.class, DOUBLES.vectorShape());
    /** The preferred float species, for {@link #max}. */
    private static final VectorSpecies<Float> MAX_FLOATS = FloatVector.SPECIES_PREFERRED;
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
        if (SixVectorSums.fits(size)) {
            perPlane(cpu, out, planes, size, (p0, count, result) -> SixVectorSums.averages(in, p0, count, size, result));
            return;
        }
        perPlane(cpu, out, planes, size, (p0, count, result) -> {
            for (int q = 0; q < count; q++) {
                result[q] = CpuBackend.canonicalNaN((float) (sum(in, (p0 + q) * size, size) / size));
            }
        });
    }

    /** The results of planes {@code [p0, p0 + count)} into {@code result} from 0. */
    @FunctionalInterface
    private interface PlaneResults {
        void of(int p0, int count, float[] result);
    }

    /** {@code r} of each of {@code planes} planes of {@code size} floats into {@code out}, a block of planes a task item. */
    private static void perPlane(CpuBackend cpu, FloatBuffer out, int planes, int size, PlaneResults r) {
        int per = Math.max(1, BLOCK_FLOATS / size);
        cpu.chunks((planes + per - 1) / per, (long) per * size, (from, to) -> {
            float[] result = Scratch.get().floats(0, per);
            for (int b = from; b < to; b++) {
                int p0 = b * per;
                int count = Math.min(per, planes - p0);
                r.of(p0, count, result);
                out.put(p0, result, 0, count);
            }
        });
    }

    /**
     * The maximum of each of {@code planes} planes of {@code size} floats (at least a vector) in
     * {@code in} (its floats also {@code floats}, for the fix-up), by clpool's rule, into
     * {@code out}: each plane folded with the Vector API's {@code MAX} ({@code Math.max} per lane)
     * in four independent vectors read from the tensor, the
     * last vector overlapping the one before (max is idempotent), then across the lanes; a zero or
     * NaN result becomes the plane's first zero or NaN ({@link PlaneGlobal#firstZeroOrNaN}), the
     * only results whose bits {@code Math.max} may choose differently from the rule. It replaces the
     * scalar path's halving folds through two staged heap copies of each plane, which read CBAM's
     * 56×56 planes at well under memory speed.
     */
    static void max(CpuBackend cpu, ByteBuffer in, FloatBuffer floats, FloatBuffer out, int planes, int size) {
        perPlane(cpu, out, planes, size, (p0, count, result) -> {
            for (int q = 0; q < count; q++) {
                int at = (p0 + q) * size;
                float m = maxOf(in, at, size);
                result[q] = m > 0 || m < 0 ? m : PlaneGlobal.firstZeroOrNaN(floats, at, size, m);
            }
        });
    }

    /** {@code Math.max} over the {@code size} floats (at least a vector) from float {@code at} of {@code in}. */
    private static float maxOf(ByteBuffer in, int at, int size) {
        int l = MAX_FLOATS.length();
        int end = at + size;
        FloatVector a = maxLoad(in, at);
        FloatVector b = a;
        FloatVector c = a;
        FloatVector d = a;
        int i = at + l;
        for (; i + 4 * l <= end; i += 4 * l) {
            a = a.lanewise(VectorOperators.MAX, maxLoad(in, i));
            b = b.lanewise(VectorOperators.MAX, maxLoad(in, i + l));
            c = c.lanewise(VectorOperators.MAX, maxLoad(in, i + 2 * l));
            d = d.lanewise(VectorOperators.MAX, maxLoad(in, i + 3 * l));
        }
        for (; i + l <= end; i += l) {
            a = a.lanewise(VectorOperators.MAX, maxLoad(in, i));
        }
        if (i < end) {
            b = b.lanewise(VectorOperators.MAX, maxLoad(in, end - l));
        }
        return a.lanewise(VectorOperators.MAX, b).lanewise(VectorOperators.MAX, c.lanewise(VectorOperators.MAX, d))
                .reduceLanes(VectorOperators.MAX);
    }

    private static FloatVector maxLoad(ByteBuffer in, int at) {
        return FloatVector.fromByteBuffer(MAX_FLOATS, in, at * Float.BYTES, ORDER);
    }

    /** Floats a plane needs for {@link #max}: a whole vector. */
    static boolean fitsMax(int size) {
        return size >= MAX_FLOATS.length();
    }

    /**
     * The double sum of the {@code size} floats from float {@code at} of {@code in}: lane l of the
     * accumulator adds float {@code at + k·half + l} for k = 0, 1, … in order (half = {@link #DOUBLES}'
     * lanes), each term the lower half of the float vector that starts there (it may read past
     * the plane, not past the tensor), or near the tensor's end the upper half of the one that ends
     * there; then the lanes, then the tail in order.
     */
    static double sum(ByteBuffer in, int at, int size) {
        int half = DOUBLES.length();
        int end = at + size;
        int room = in.limit() / Float.BYTES - 2 * half;
        int i = at;
        DoubleVector acc = DoubleVector.zero(DOUBLES);
        for (; i + half <= end && i <= room; i += half) {
            acc = acc.add((DoubleVector) FloatVector.fromByteBuffer(FLOATS, in, i * Float.BYTES, ORDER)
                    .convertShape(VectorOperators.F2D, DOUBLES, 0));
        }
        for (; i + half <= end; i += half) {
            if (i >= half) {
                acc = acc.add((DoubleVector) FloatVector.fromByteBuffer(FLOATS, in, (i - half) * Float.BYTES, ORDER)
                        .convertShape(VectorOperators.F2D, DOUBLES, 1));
            } else {
                acc = acc.add(DoubleVector.fromArray(DOUBLES, widened(in, i, half), 0));
            }
        }
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < end; i++) {
            s += in.getFloat(i * Float.BYTES);
        }
        return s;
    }

    /** Floats {@code [i, i + n)} of {@code in} as doubles (a buffer too short for a whole float vector). */
    private static double[] widened(ByteBuffer in, int i, int n) {
        double[] w = new double[n];
        for (int l = 0; l < n; l++) {
            w[l] = in.getFloat((i + l) * Float.BYTES);
        }
        return w;
    }
}
