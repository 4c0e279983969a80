package dev.clpool;

/**
 * IEEE 754 binary16 ("half") conversions, bit for bit as OpenCL's {@code vload_half} and
 * {@code vstore_half_rte} and the x86 F16C instructions perform them (Java 17 has no
 * {@code Float.floatToFloat16}).
 *
 * <ul>
 * <li>{@link #toFloat} is exact for every non-NaN value (each half is a float).</li>
 * <li>{@link #fromFloat} rounds to nearest, ties to even: magnitudes from 65520 (the midpoint
 *     between the largest half, 65504, and 2<sup>16</sup>) round to infinity; below 2<sup>-14</sup>
 *     the result is subnormal (steps of 2<sup>-24</sup>), and 2<sup>-25</sup> and less round to zero,
 *     keeping the sign.</li>
 * <li>NaN stays NaN in both directions: the result is quiet (the fraction's top bit set), with the
 *     sign and the top fraction bits of the input (a float NaN keeps its top 10 fraction bits).
 *     A quiet NaN therefore round-trips half → float → half exactly; a signalling one comes back
 *     quiet.</li>
 * </ul>
 */
public final class Float16 {
    /** Raw bits of +∞. */
    public static final short POSITIVE_INFINITY = 0x7c00;
    /** Raw bits of the largest finite half, 65504. */
    public static final short MAX_VALUE = 0x7bff;

    private Float16() {
    }

    /** The float of half bits {@code h} (exact; a NaN becomes a quiet float NaN with the same sign and payload). */
    public static float toFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int frac = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(frac == 0 ? sign | 0x7f800000 : sign | 0x7fc00000 | (frac << 13));
        }
        if (exp == 0) {
            // Zero or subnormal: frac * 2^-24, exact in float.
            float v = Math.scalb((float) frac, -24);
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (frac << 13));
    }

    /** Half bits of {@code f} rounded to nearest, ties to even (see the class comment for NaN, overflow and subnormals). */
    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7fffffff;
        if (abs > 0x7f800000) {
            return (short) (sign | 0x7e00 | ((abs >>> 13) & 0x3ff)); // NaN: quiet, top payload bits
        }
        if (abs >= 0x477ff000) {
            return (short) (sign | 0x7c00); // >= 65520 (and infinity): infinity
        }
        if (abs >= 0x38800000) {
            // Normal half (>= 2^-14): rebias the exponent (127 -> 15), round the 23-bit fraction to 10.
            int r = abs - 0x38000000;
            r += 0xfff + ((r >>> 13) & 1);
            return (short) (sign | (r >>> 13));
        }
        if (abs <= 0x33000000) {
            return (short) sign; // <= 2^-25: zero (2^-25 itself is a tie, and zero is even)
        }
        // Subnormal half: round(|f| / 2^-24). |f| = m * 2^(e - 150) with the 24-bit significand m.
        int e = abs >>> 23;
        int m = (abs & 0x7fffff) | 0x800000;
        int shift = 126 - e; // 14 .. 24
        int q = m >>> shift;
        int rem = m & ((1 << shift) - 1);
        int halfway = 1 << (shift - 1);
        if (rem > halfway || (rem == halfway && (q & 1) != 0)) {
            q++; // may carry into the smallest normal, 0x0400: still right
        }
        return (short) (sign | q);
    }
}
