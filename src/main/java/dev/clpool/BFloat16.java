package dev.clpool;

/**
 * bfloat16 conversions: a bfloat16 is the top 16 bits of a float32 (1 sign, 8 exponent and
 * 7 fraction bits), so it has float32's range with 8 significant bits.
 *
 * <ul>
 * <li>{@link #toFloat} appends 16 zero bits: exact, for every pattern (NaNs keep their bits).</li>
 * <li>{@link #fromFloat} rounds to nearest, ties to even, on the bits: float32 subnormals round to
 *     bfloat16 subnormals or zero, and magnitudes from 0x7f7f8000 (the midpoint between the largest
 *     bfloat16 and 2<sup>128</sup>) round to infinity.</li>
 * <li>NaN stays NaN: the result is quiet (bit 6 set) with the sign and the top 7 fraction bits of
 *     the input, so a quiet NaN round-trips exactly and a signalling one comes back quiet.</li>
 * </ul>
 * The kernels do the same (common.cl, {@code STORAGE == 2}).
 */
public final class BFloat16 {
    /** Raw bits of +∞. */
    public static final short POSITIVE_INFINITY = 0x7f80;
    /** Raw bits of the largest finite bfloat16, about 3.39e38. */
    public static final short MAX_VALUE = 0x7f7f;

    private BFloat16() {
    }

    /** The float of bfloat16 bits {@code b} (exact). */
    public static float toFloat(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    /** bfloat16 bits of {@code f} rounded to nearest, ties to even; NaN becomes a quiet NaN. */
    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }
}
