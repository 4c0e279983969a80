package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
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
 * Planes of {@value #MIN_FLOAT_PLANE} to {@value #MAX_FLOAT_PLANE} floats (4×4 to 11×11, a
 * classifier head's 7×7 among them) on 16-float vectors are summed in float first, 16 planes at a
 * time, with an a-priori certificate ({@link GapPlanes}); a plane it refuses is summed in double
 * as above. Loaded only where {@link VectorSupport#ENABLED}.
 */
final class VecPlaneGlobal {
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
    /** As many floats as {@link #DOUBLES} has lanes: each load widens into one double vector. */
    private static final VectorSpecies<Float> FLOATS =
            VectorSpecies.of(float.class, VectorShape.forBitSize(DOUBLES.vectorBitSize() / 2));
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Results per task item: a block of planes is one item of {@link CpuBackend#chunks}. */
    private static final int BLOCK_FLOATS = 1 << 14;
    /** The plane sizes {@link #floatSums(ByteBuffer, int, int, int, float[], float[], float[])} takes, in floats. */
    static final int MIN_FLOAT_PLANE = 16;
    /** The largest: eight vectors of a plane, three levels of pairs. */
    static final int MAX_FLOAT_PLANE = 128;
    /** Lanes of the float sums, which are also the planes summed at a time. */
    static final int PLANE_LANES = 16;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> INTS = F.withLanes(int.class);
    /** 16 zeros, then 16 all-ones: from index r, the lanes of a partial last leaf to keep (its last r). */
    private static final int[] KEEP = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
    private static final VectorMask<Float> ODD1 = high(1);
    private static final VectorMask<Float> ODD2 = high(2);
    private static final VectorMask<Float> ODD4 = high(4);
    private static final VectorMask<Float> ODD8 = high(8);

    private VecPlaneGlobal() {
    }

    /**
     * The average of each of {@code planes} planes of {@code size} floats in {@code in} (bytes in
     * native order, plane {@code i} at float {@code i * size}) into {@code out}.
     */
    static void avg(CpuBackend cpu, ByteBuffer in, FloatBuffer out, int planes, int size) {
        if (floatSums(size)) {
            floatAvg(cpu, in, out, planes, size);
            return;
        }
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

    /** Whether planes of {@code size} floats are summed in float first ({@link GapPlanes}): 16-float vectors, 16-128 floats. */
    static boolean floatSums(int size) {
        return F.length() == PLANE_LANES && size >= MIN_FLOAT_PLANE && size <= MAX_FLOAT_PLANE;
    }

    /** The lanes whose index has bit {@code bit} set. */
    private static VectorMask<Float> high(int bit) {
        boolean[] m = new boolean[F.length()];
        for (int i = 0; i < m.length; i++) {
            m[i] = (i & bit) != 0;
        }
        return VectorMask.fromArray(F, m, 0);
    }

    /**
     * {@link #avg} where {@link #floatSums(int)}: groups of {@value #PLANE_LANES} planes summed by
     * {@link #floatSums(ByteBuffer, int, int, int, float[], float[], float[])}, certified by
     * {@link GapPlanes.Certificate#certify}; a refused plane is summed in double ({@link #sum}).
     */
    private static void floatAvg(CpuBackend cpu, ByteBuffer in, FloatBuffer out, int planes, int size) {
        int per = Math.max(1, BLOCK_FLOATS / (PLANE_LANES * size)) * PLANE_LANES;
        GapPlanes.Certificate cert = GapPlanes.certificate(size);
        cpu.chunks((planes + per - 1) / per, (long) per * size, (from, to) -> {
            Scratch scratch = Scratch.get();
            float[] result = scratch.floats(0, per);
            float[] stash = scratch.floats(1, 2 * PLANE_LANES * PLANE_LANES);
            float[] s = scratch.floats(2, PLANE_LANES);
            float[] w = scratch.floats(3, PLANE_LANES);
            for (int b = from; b < to; b++) {
                int p0 = b * per;
                int count = Math.min(per, planes - p0);
                for (int g = 0; g < count; g += PLANE_LANES) {
                    int n = Math.min(PLANE_LANES, count - g);
                    floatSums(in, (p0 + g) * size, size, n, stash, s, w);
                    int refused = cert.certify(s, w, n, result, g);
                    for (int q = 0; refused != 0; q++, refused >>>= 1) {
                        if ((refused & 1) != 0) {
                            result[g + q] = CpuBackend.canonicalNaN((float) (sum(in, (p0 + g + q) * size, size) / size));
                        }
                    }
                }
                out.put(p0, result, 0, count);
            }
        });
    }

    /**
     * Float sums of {@code count} (at most {@value #PLANE_LANES}) planes of {@code size} floats
     * ({@link #floatSums(int)}) from float {@code at} of {@code src}: plane {@code q}'s sum into
     * {@code s[q]} and its bound's sum W into {@code w[q]} ({@link GapPlanes} has the proof);
     * planes past {@code count} are zero. Each plane is read as k = ⌈size/16⌉ leaf vectors: vector
     * {@code i < size/16} is floats 16i to 16i + 15, and a partial last one is the plane's last 16
     * floats with the lanes that the full vectors already hold set to +0. Leaves 2j and 2j + 1 are
     * added into the pair a_j (a lone last leaf is a pair of its own); the pairs are summed
     * lane-wise, {@code a0} (k ≤ 2), {@code a0 + a1} (k ≤ 4), {@code (a0 + a1) + a2} (k ≤ 6) or
     * {@code (a0 + a1) + (a2 + a3)}, and beside them the same tree of {@code |a_j|}. Then the 32
     * vectors (16 planes' sums, then their bounds) are folded pairwise in four butterfly levels
     * ({@link #fold}): after level m, lane {@code l} of a vector holds plane {@code l mod 2^m}'s
     * (of that vector's group) sum over its lanes {@code l - l mod 2^m} to
     * {@code l - l mod 2^m + 2^m - 1}; after the fourth, lane q is plane q's pairwise tree of its
     * 16 lanes ((l0 + l1) + (l2 + l3)) + ...: no lane reduction per plane (a chain of dependent
     * additions each). {@code stash} (at least 512 floats) holds the vectors between levels: no
     * vector crosses a call that C2 may leave out of line (it would box it; the first form, with
     * vectors returned from helpers, ran 2.4× slower than the double sums).
     */
    static void floatSums(ByteBuffer src, int at, int size, int count, float[] stash, float[] s, float[] w) {
        int half = PLANE_LANES * PLANE_LANES;
        for (int q = 0; q < count; q++) {
            plane(src, 4 * (at + q * size), size, stash, PLANE_LANES * q, half + PLANE_LANES * q);
        }
        if (count < PLANE_LANES) {
            java.util.Arrays.fill(stash, PLANE_LANES * count, half, 0f);
            java.util.Arrays.fill(stash, half + PLANE_LANES * count, 2 * half, 0f);
        }
        fold(stash, 16, 1, ODD1);
        fold(stash, 8, 2, ODD2);
        fold(stash, 4, 4, ODD4);
        fold(stash, 2, 8, ODD8);
        System.arraycopy(stash, 0, s, 0, PLANE_LANES);
        System.arraycopy(stash, PLANE_LANES, w, 0, PLANE_LANES);
    }

    /**
     * One butterfly level in place: vectors a = 2i and b = 2i + 1 of {@code stash} into vector i,
     * for i < {@code n}; lane l is a[l] + a[l + d] where bit d of l ({@code high}) is clear, and
     * b[l] + b[l - d] where it is set. The partners are read as the 16 floats from d past a, and
     * from d before b (the two lie side by side): no {@code rearrange}, which was slower.
     */
    private static void fold(float[] stash, int n, int d, VectorMask<Float> high) {
        for (int i = 0; i < n; i++) {
            FloatVector a = FloatVector.fromArray(F, stash, 32 * i);
            FloatVector b = FloatVector.fromArray(F, stash, 32 * i + 16);
            FloatVector up = FloatVector.fromArray(F, stash, 32 * i + d);
            FloatVector down = FloatVector.fromArray(F, stash, 32 * i + 16 - d);
            a.blend(b, high).add(up.blend(down, high)).intoArray(stash, 16 * i);
        }
    }

    /**
     * The plane at byte {@code o} ({@link #floatSums(ByteBuffer, int, int, int, float[], float[], float[])}):
     * its sums' vector into {@code stash} from float {@code sumAt}, its bounds' from {@code boundAt}.
     */
    private static void plane(ByteBuffer src, int o, int size, float[] stash, int sumAt, int boundAt) {
        int k = (size + 15) >>> 4;
        FloatVector a0 = pair(src, o, size, 0, k);
        if (k <= 2) {
            a0.intoArray(stash, sumAt);
            a0.abs().intoArray(stash, boundAt);
            return;
        }
        FloatVector a1 = pair(src, o, size, 1, k);
        FloatVector sum = a0.add(a1);
        FloatVector bound = a0.abs().add(a1.abs());
        if (k > 4) {
            FloatVector a2 = pair(src, o, size, 2, k);
            if (k <= 6) {
                sum = sum.add(a2);
                bound = bound.add(a2.abs());
            } else {
                FloatVector a3 = pair(src, o, size, 3, k);
                sum = sum.add(a2.add(a3));
                bound = bound.add(a2.abs().add(a3.abs()));
            }
        }
        sum.intoArray(stash, sumAt);
        bound.intoArray(stash, boundAt);
    }

    /** Pair {@code j} of the plane at byte {@code o}: leaves 2j and 2j + 1 added, or leaf 2j alone if it is the last. */
    private static FloatVector pair(ByteBuffer src, int o, int size, int j, int k) {
        FloatVector first = leaf(src, o, size, 2 * j);
        return 2 * j + 1 < k ? first.add(leaf(src, o, size, 2 * j + 1)) : first;
    }

    /** Leaf {@code i} of the plane of {@code size} floats at byte {@code o} (see {@link #floatSums(int)}'s kernel). */
    private static FloatVector leaf(ByteBuffer src, int o, int size, int i) {
        if (16 * i + 16 <= size) {
            return FloatVector.fromByteBuffer(F, src, o + 64 * i, ORDER);
        }
        // The last 16 floats; lanes below 16 - size % 16 are floats of leaf i - 1.
        FloatVector last = FloatVector.fromByteBuffer(F, src, o + 4 * (size - 16), ORDER);
        IntVector keep = IntVector.fromArray(INTS, KEEP, size % 16);
        return last.reinterpretAsInts().and(keep).reinterpretAsFloats();
    }
}
