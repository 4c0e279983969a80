package dev.clpool.cpu;

import dev.clpool.testing.Tolerance;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link PlaneGlobal#max}'s halving folds for planes below {@link PlaneGlobal#LARGE_PLANE}, against
 * clpool's rule element by element: every plane size from 1 to 40 (odd halves, fewer than eight
 * left), CBAM's 3136, and planes whose maximum is a zero (signed zeros in any order, so the first
 * zero's sign decides) or a NaN with a payload (the first NaN decides), on one and on two threads;
 * and the same planes through {@link VecPlaneGlobal#max} where the Vector API is on (planes of at
 * least a vector), read from a direct buffer of exactly the planes' bytes.
 */
class PlaneGlobalMaxTest {
    /** Plane {@code p}'s values: all ≤ 0 with ±0 for a third of the planes, a NaN or two in another third. */
    private static float[] planes(int planes, int size, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[planes * size];
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < size; i++) {
                float x = (float) r.nextGaussian();
                v[p * size + i] = switch (p % 3) {
                    case 0 -> r.nextInt(4) == 0 ? (r.nextBoolean() ? 0f : -0f) : -Math.abs(x);
                    case 1 -> r.nextInt(Math.max(1, size / 2)) == 0
                            ? Float.intBitsToFloat((r.nextBoolean() ? 0x7fc00000 : 0xffc00000) | r.nextInt(1 << 22)) : x;
                    default -> x;
                };
            }
        }
        return v;
    }

    private static float[] reference(float[] v, int planes, int size) {
        float[] want = new float[planes];
        for (int p = 0; p < planes; p++) {
            float m = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < size; i++) {
                float x = v[p * size + i];
                m = (x > m || (x != x && m == m)) ? x : m;
            }
            want[p] = m;
        }
        return want;
    }

    @Test
    void everySmallSizeAndCbamsPlane_bitIdenticalToTheRule_oneAndTwoThreads() {
        int[] sizes = new int[42];
        for (int i = 0; i < 40; i++) {
            sizes[i] = i + 1;
        }
        sizes[40] = 3136;
        sizes[41] = PlaneGlobal.LARGE_PLANE - 1;
        sizes = java.util.stream.IntStream.concat(java.util.Arrays.stream(sizes), java.util.stream.IntStream.of(63, 64, 65, 79))
                .toArray();
        for (int size : sizes) {
            int planes = size > 100 ? 31 : 301;
            float[] v = planes(planes, size, size);
            float[] want = reference(v, planes, size);
            for (int threads = 1; threads <= 2; threads++) {
                FloatBuffer out = FloatBuffer.allocate(planes);
                try (CpuBackend b = new CpuBackend(threads)) {
                    PlaneGlobal.max(b, FloatBuffer.wrap(v), out, planes, size);
                }
                Tolerance.assertBitIdentical(out.array(), want, "global max, planes of " + size + ", " + threads + " threads");
                vectorMatches(v, want, planes, size, threads);
            }
        }
    }

    /** Planes of one repeated value (±0, ±∞, NaN payloads) and zeros of both signs after negatives: the rule's first zero or NaN. */
    @Test
    void constantAndZeroPlanes_bitIdenticalToTheRule() {
        float[] values = {0f, -0f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.intBitsToFloat(0xffc00123), -1f};
        int size = 49;
        int planes = values.length + 2;
        float[] v = new float[planes * size];
        for (int p = 0; p < values.length; p++) {
            java.util.Arrays.fill(v, p * size, (p + 1) * size, values[p]);
        }
        for (int i = 0; i < size; i++) {
            v[values.length * size + i] = i < 5 ? -2f : i % 2 == 0 ? -0f : 0f;
            v[(values.length + 1) * size + i] = i < 5 ? -2f : i == 7 ? Float.intBitsToFloat(0x7fc00042) : i % 3 == 0 ? 0f : Float.NaN;
        }
        float[] want = reference(v, planes, size);
        FloatBuffer out = FloatBuffer.allocate(planes);
        try (CpuBackend b = new CpuBackend(1)) {
            PlaneGlobal.max(b, FloatBuffer.wrap(v), out, planes, size);
        }
        Tolerance.assertBitIdentical(out.array(), want, "global max of constant and zero planes");
        vectorMatches(v, want, planes, size, 1);
    }

    /** {@link VecPlaneGlobal#max} over {@code v} from a direct buffer of exactly its bytes, where it runs, against {@code want}. */
    private static void vectorMatches(float[] v, float[] want, int planes, int size, int threads) {
        if (!VectorSupport.ENABLED || !VecPlaneGlobal.fitsMax(size)) {
            return;
        }
        ByteBuffer in = ByteBuffer.allocateDirect(v.length * Float.BYTES).order(ByteOrder.nativeOrder());
        in.asFloatBuffer().put(v);
        FloatBuffer out = FloatBuffer.allocate(planes);
        try (CpuBackend b = new CpuBackend(threads)) {
            VecPlaneGlobal.max(b, in, in.asFloatBuffer(), out, planes, size);
        }
        Tolerance.assertBitIdentical(out.array(), want, "vector global max, planes of " + size + ", " + threads + " threads");
    }
}
