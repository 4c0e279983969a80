package dev.clpool.cpu;

import java.util.SplittableRandom;

/** Data for the Vector API kernels' tests ({@link VecGlobalTest}, {@link VecAdaptiveTest}): every case the rules single out. */
final class VecTestData {
    /** The number of kinds {@link #data} makes. */
    static final int KINDS = 8;

    private VecTestData() {
    }

    /**
     * {@code count} floats of kind {@code kind}: 0 Gaussian, 1 ≤ 0 with ±0 ties, 2 NaNs with
     * payloads, 3 ±∞, 4 all +0, 5 all −0, 6 constant, 7 sums that cancel (±3e7 plus Gaussian).
     */
    static float[] data(int kind, int count, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            float x = (float) r.nextGaussian();
            v[i] = switch (kind) {
                case 0 -> x;
                case 1 -> r.nextInt(3) == 0 ? (r.nextBoolean() ? 0f : -0f) : -Math.abs(x);
                case 2 -> r.nextInt(9) == 0
                        ? Float.intBitsToFloat((r.nextBoolean() ? 0x7fc00000 : 0xffc00000) | r.nextInt(1 << 22)) : x;
                case 3 -> r.nextInt(9) == 0 ? (r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY) : x;
                case 4 -> 0f;
                case 5 -> -0f;
                case 6 -> 2.75f;
                default -> (r.nextBoolean() ? 3e7f : -3e7f) + x;
            };
        }
        return v;
    }
}
