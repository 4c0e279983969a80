package dev.clpool.cpu;

import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.util.SplittableRandom;

/** Data for the Vector API kernels' tests ({@link VecGlobalTest}, {@link VecAdaptiveTest}): every case the rules single out. */
final class VecTestData {
    /** The number of kinds {@link #data} makes. */
    static final int KINDS = 8;

    private VecTestData() {
    }

    /** The values {@link #everyFourTapOrder} combines: −∞, −0, +0, 1, and a NaN of each sign. */
    static final int ORDER_VALUES = 6;

    /**
     * Every order of −∞, −0, +0, 1, NaN and −NaN over the four taps of a 2×2 stride-2 window, in a
     * (1, 2, 12, 216) input: output column {@code ox}'s first tap holds value {@code ox}, and
     * channel {@code ch}'s other three taps the base-6 digits of {@code ch}, so the six output
     * columns of 216 channels (a tail vector) hold all 1296 orders. Each NaN's payload names its
     * tap, so a test sees which NaN was kept; the equal zeros and the two 1s in one window test
     * that the first of equal values stays.
     */
    static Tensor everyFourTapOrder() {
        int c = ORDER_VALUES * ORDER_VALUES * ORDER_VALUES;
        Shape s = Shape.of(1, 2, 2 * ORDER_VALUES, c);
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int ox = 0; ox < ORDER_VALUES; ox++) {
            for (int ch = 0; ch < c; ch++) {
                for (int tap = 0; tap < 4; tap++) {
                    int which = tap == 0 ? ox : ch / (tap == 1 ? 1 : tap == 2 ? ORDER_VALUES : ORDER_VALUES * ORDER_VALUES)
                            % ORDER_VALUES;
                    v[Math.toIntExact(s.offset(0, tap / 2, 2 * ox + tap % 2, ch))] = orderValue(which, tap);
                }
            }
        }
        return Tensor.of(s, v);
    }

    /**
     * Value number {@code which} (0 to {@code ORDER_VALUES − 1}) of {@link #everyFourTapOrder} at tap
     * {@code tap}: −∞, −0, +0, 1, a NaN and a −NaN, the NaNs' payloads naming the tap.
     */
    static float orderValue(int which, int tap) {
        return switch (which) {
            case 0 -> Float.NEGATIVE_INFINITY;
            case 1 -> -0f;
            case 2 -> 0f;
            case 3 -> 1f;
            case 4 -> Float.intBitsToFloat(0x7fc00000 | (tap + 1));
            default -> Float.intBitsToFloat(0xffc00000 | (tap + 1) << 8);
        };
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
