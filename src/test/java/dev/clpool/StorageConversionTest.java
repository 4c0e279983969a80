package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Float16 and BFloat16 conversions against references written independently of them: each 16-bit
 * pattern's value from its fields in double arithmetic, and rounding as "the nearest representable
 * value, ties to the even pattern" found by binary search over all patterns. Exhaustive over the
 * 65536 patterns of each type; for float inputs, every exponent with every 16-bit fraction prefix
 * and the low-bit patterns that decide the rounding (zero, one, just below, at and just above the
 * tie, all ones), plus two million random floats.
 *
 * <p>The reference differences are exact in double: a float has 24 significant bits and a 16-bit
 * neighbour below it differs from it by less than one step of the 16-bit type, so the difference
 * has at most 24 bits.
 */
class StorageConversionTest {

    // ---- float16 ----

    /** Value of half bits b from the fields: (1024 + f) * 2^(e - 25), subnormal f * 2^-24. */
    private static double halfValue(int b) {
        int e = (b >>> 10) & 0x1f;
        int f = b & 0x3ff;
        double v = e == 0 ? f * 0x1p-24 : (1024 + f) * Math.pow(2, e - 25);
        return (b & 0x8000) != 0 ? -v : v;
    }

    /** The nearest half (ties to the even pattern) of a non-NaN float; 65536 stands in for infinity. */
    private static int halfReference(float x) {
        double a = Math.abs((double) x);
        int sign = (Float.floatToRawIntBits(x) >>> 16) & 0x8000;
        // Candidates 0 .. 0x7c00, values increasing with the pattern; 0x7c00 (infinity) counts as 65536.
        if (a >= 65536) {
            return sign | 0x7c00;
        }
        int lo = 0;
        int hi = 0x7c00;
        while (hi - lo > 1) { // invariant: v(lo) <= a < v(hi)
            int mid = (lo + hi) >>> 1;
            if (halfValue(mid) <= a) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        double vhi = hi == 0x7c00 ? 65536 : halfValue(hi);
        double below = a - halfValue(lo);
        double above = vhi - a;
        int r = below < above ? lo : below > above ? hi : (lo & 1) == 0 ? lo : hi;
        return sign | r;
    }

    @Test
    void float16_everyPattern_widensToItsValue_andRoundTrips() {
        for (int i = 0; i < 0x10000; i++) {
            final int b = i;
            float f = Float16.toFloat((short) b);
            int e = (b >>> 10) & 0x1f;
            int frac = b & 0x3ff;
            if (e == 0x1f && frac != 0) {
                int want = ((b & 0x8000) << 16) | 0x7fc00000 | (frac << 13);
                assertEquals(want, Float.floatToRawIntBits(f), () -> "NaN " + hex(b));
                // Quiet NaNs come back exactly, signalling ones quiet.
                assertEquals(b | 0x0200, Float16.fromFloat(f) & 0xffff, () -> "NaN round trip " + hex(b));
                continue;
            }
            double want = e == 0x1f ? ((b & 0x8000) != 0 ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY)
                    : halfValue(b);
            assertEquals(want, (double) f, () -> "value of " + hex(b));
            assertEquals((b & 0x8000) != 0, Float.floatToRawIntBits(f) < 0, () -> "sign of " + hex(b));
            assertEquals(b, Float16.fromFloat(f) & 0xffff, () -> "round trip " + hex(b));
        }
    }

    @Test
    void float16_rounding_matchesReference_atEveryExponentAndTie() {
        int[] lows = {0, 1, 0xfff, 0x1000, 0x1001, 0x1fff};
        for (int sign = 0; sign < 2; sign++) {
            for (int exp = 0; exp < 255; exp++) {
                for (int top = 0; top < 1024; top++) {
                    for (int low : lows) {
                        checkHalf((sign << 31) | (exp << 23) | (top << 13) | low);
                    }
                }
            }
        }
    }

    @Test
    void float16_rounding_matchesReference_forRandomFloats() {
        SplittableRandom r = new SplittableRandom(0xF16);
        for (int i = 0; i < 2_000_000; i++) {
            int bits = r.nextInt();
            if ((bits & 0x7fffffff) <= 0x7f800000) {
                checkHalf(bits);
            }
        }
        // Magnitudes where halves live, more densely.
        for (int i = 0; i < 1_000_000; i++) {
            checkHalf(Float.floatToRawIntBits((float) (r.nextDouble(-70000, 70000) * Math.pow(2, -r.nextInt(30)))));
        }
    }

    @Test
    void float16_literals() {
        assertHalf(0x3c00, 1.0f);
        assertHalf(0x3c00, 1 + 0x1p-11f);          // tie: to even 1.0
        assertHalf(0x3c02, 1 + 3 * 0x1p-11f);      // tie: to even 1 + 2^-9
        assertHalf(0x7bff, 65504f);
        assertHalf(0x7bff, Math.nextDown(65520f)); // just below the midpoint to 65536
        assertHalf(0x7c00, 65520f);                // the midpoint: to even, which is infinity
        assertHalf(0xfc00, -1e10f);
        assertHalf(0x7c00, Float.POSITIVE_INFINITY);
        assertHalf(0x0400, 0x1p-14f);              // smallest normal
        assertHalf(0x0400, Math.nextDown(0x1p-14f));
        assertHalf(0x0001, 0x1p-24f);              // smallest subnormal
        assertHalf(0x0000, 0x1p-25f);              // tie between 0 and 2^-24: even, zero
        assertHalf(0x0001, Math.nextUp(0x1p-25f));
        assertHalf(0x0002, 3 * 0x1p-25f);          // tie between 1 and 2 steps: even, 2
        assertHalf(0x8000, -0x1p-30f);             // underflow keeps the sign
        assertHalf(0x8000, -0.0f);
        assertHalf(0x0000, Float.MIN_VALUE);
        // NaN: quiet, sign and top payload bits kept.
        assertHalf(0x7e00, Float.intBitsToFloat(0x7fc00000));
        assertHalf(0xfe00, Float.intBitsToFloat(0xffc00001));
        assertHalf(0x7e00, Float.intBitsToFloat(0x7f800001)); // signalling, payload only in low bits: still NaN
        assertHalf(0x7f00, Float.intBitsToFloat(0x7fa00000)); // signalling with a top payload bit
        assertHalf(0x7fff, Float.intBitsToFloat(0x7fffffff));
        assertEquals(Float.floatToRawIntBits(Float.intBitsToFloat(0x7fc00000)),
                Float.floatToRawIntBits(Float16.toFloat((short) 0x7e00)));
        assertEquals(0x7fe02000, Float.floatToRawIntBits(Float16.toFloat((short) 0x7d01))); // sNaN widens quiet
    }

    private static void checkHalf(int bits) {
        float x = Float.intBitsToFloat(bits);
        int want = halfReference(x);
        int got = Float16.fromFloat(x) & 0xffff;
        if (got != want) {
            fail("float16 of " + x + " (0x" + Integer.toHexString(bits) + "): got " + hex(got) + ", want " + hex(want));
        }
    }

    private static void assertHalf(int want, float x) {
        assertEquals(hex(want), hex(Float16.fromFloat(x) & 0xffff), () -> "float16 of " + x);
        if ((Float.floatToRawIntBits(x) & 0x7fffffff) <= 0x7f800000) {
            assertEquals(hex(want), hex(halfReference(x)), () -> "reference for " + x);
        }
    }

    // ---- bfloat16 ----

    /** Value of bfloat16 bits b from the fields: (128 + f) * 2^(e - 134), subnormal f * 2^-133. */
    private static double bf16Value(int b) {
        int e = (b >>> 7) & 0xff;
        int f = b & 0x7f;
        double v = e == 0 ? f * 0x1p-133 : (128 + f) * Math.pow(2, e - 134);
        return (b & 0x8000) != 0 ? -v : v;
    }

    /** The nearest bfloat16 (ties to the even pattern) of a non-NaN float; 2^128 stands in for infinity. */
    private static int bf16Reference(float x) {
        double a = Math.abs((double) x);
        int sign = (Float.floatToRawIntBits(x) >>> 16) & 0x8000;
        if (a >= 0x1p128) {
            return sign | 0x7f80;
        }
        int lo = 0;
        int hi = 0x7f80;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (bf16Value(mid) <= a) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        double vhi = hi == 0x7f80 ? 0x1p128 : bf16Value(hi);
        double below = a - bf16Value(lo);
        double above = vhi - a;
        int r = below < above ? lo : below > above ? hi : (lo & 1) == 0 ? lo : hi;
        return sign | r;
    }

    @Test
    void bfloat16_everyPattern_widensToItsValue_andRoundTrips() {
        for (int i = 0; i < 0x10000; i++) {
            final int b = i;
            float f = BFloat16.toFloat((short) b);
            assertEquals(b << 16, Float.floatToRawIntBits(f), () -> "bits of " + hex(b));
            int e = (b >>> 7) & 0xff;
            int frac = b & 0x7f;
            if (e == 0xff && frac != 0) {
                assertTrue(Float.isNaN(f));
                assertEquals(b | 0x0040, BFloat16.fromFloat(f) & 0xffff, () -> "NaN round trip " + hex(b));
                continue;
            }
            double want = e == 0xff ? ((b & 0x8000) != 0 ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY)
                    : bf16Value(b);
            assertEquals(want, (double) f, () -> "value of " + hex(b));
            assertEquals(b, BFloat16.fromFloat(f) & 0xffff, () -> "round trip " + hex(b));
        }
    }

    @Test
    void bfloat16_rounding_matchesReference_atEveryExponentAndTie() {
        int[] lows = {0, 1, 0x7fff, 0x8000, 0x8001, 0xffff};
        for (int sign = 0; sign < 2; sign++) {
            for (int exp = 0; exp < 255; exp++) {
                for (int top = 0; top < 128; top++) {
                    for (int low : lows) {
                        checkBf16((sign << 31) | (exp << 23) | (top << 16) | low);
                    }
                }
            }
        }
    }

    @Test
    void bfloat16_rounding_matchesReference_forRandomFloats() {
        SplittableRandom r = new SplittableRandom(0xBF16);
        for (int i = 0; i < 2_000_000; i++) {
            int bits = r.nextInt();
            if ((bits & 0x7fffffff) <= 0x7f800000) {
                checkBf16(bits);
            }
        }
    }

    @Test
    void bfloat16_literals() {
        assertBf16(0x3f80, 1.0f);
        assertBf16(0x3f80, Float.intBitsToFloat(0x3f808000)); // tie: to even
        assertBf16(0x3f82, Float.intBitsToFloat(0x3f818000)); // tie: to even, up
        assertBf16(0x3f81, Float.intBitsToFloat(0x3f808001));
        assertBf16(0x7f7f, Float.intBitsToFloat(0x7f7f7fff));
        assertBf16(0x7f80, Float.MAX_VALUE);                  // beyond the midpoint to 2^128: infinity
        assertBf16(0xff80, -Float.MAX_VALUE);
        assertBf16(0x0001, Float.intBitsToFloat(0x00010000)); // subnormal
        assertBf16(0x0000, Float.intBitsToFloat(0x00008000)); // tie between 0 and the smallest subnormal
        assertBf16(0x0001, Float.intBitsToFloat(0x00008001));
        assertBf16(0x8000, -Float.MIN_VALUE);
        assertBf16(0x7fc0, Float.intBitsToFloat(0x7f800001)); // signalling NaN: quiet
        assertBf16(0xffe0, Float.intBitsToFloat(0xffa00000)); // sign and top payload kept
        assertBf16(0x7fc0, Float.NaN);
    }

    private static void checkBf16(int bits) {
        float x = Float.intBitsToFloat(bits);
        int want = bf16Reference(x);
        int got = BFloat16.fromFloat(x) & 0xffff;
        if (got != want) {
            fail("bfloat16 of " + x + " (0x" + Integer.toHexString(bits) + "): got " + hex(got) + ", want " + hex(want));
        }
    }

    private static void assertBf16(int want, float x) {
        assertEquals(hex(want), hex(BFloat16.fromFloat(x) & 0xffff), () -> "bfloat16 of " + x);
        if ((Float.floatToRawIntBits(x) & 0x7fffffff) <= 0x7f800000) {
            assertEquals(hex(want), hex(bf16Reference(x)), () -> "reference for " + x);
        }
    }

    // ---- DType ----

    @Test
    void dtype_round_isTheRoundTrip() {
        assertEquals(1.0f, DType.FLOAT16.round(1 + 0x1p-11f));
        assertEquals(1 + 0x1p-10f, DType.FLOAT16.round(1 + 0x1p-10f));
        assertEquals(Float.POSITIVE_INFINITY, DType.FLOAT16.round(70000f));
        assertEquals(1.0f, DType.BFLOAT16.round(1.00390625f)); // 1 + 2^-8: tie to even
        assertEquals(0.1f, DType.FLOAT32.round(0.1f));
        assertEquals(4, DType.FLOAT32.byteSize());
        assertEquals(2, DType.FLOAT16.byteSize());
        assertEquals(2, DType.BFLOAT16.byteSize());
        assertEquals("<f4", DType.FLOAT32.npyDescr().orElseThrow());
        assertEquals("<f2", DType.FLOAT16.npyDescr().orElseThrow());
        assertTrue(DType.BFLOAT16.npyDescr().isEmpty());
    }

    private static String hex(int b) {
        return String.format("0x%04x", b & 0xffff);
    }
}
