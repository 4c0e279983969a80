package dev.clpool.cpu;

import dev.clpool.BFloat16;
import dev.clpool.DType;
import dev.clpool.Float16;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * Bulk conversion between 16-bit storage and float32 for the CPU path, bit for bit as
 * {@link Float16} and {@link BFloat16} convert one element (and so as {@code Tensor.convert}
 * does), but in blocks: each block of a range is copied from direct memory into a heap array in
 * one bulk copy, converted there by a loop the JIT compiles tightly, and copied out in one bulk
 * copy. The caller splits the elements into ranges over its threads.
 *
 * <ul>
 * <li>float16 to float32 is a lookup in a table of all 65536 patterns, made once from
 *     {@link Float16#toFloat}: exact, NaN payloads included, and as fast for subnormals, infinities
 *     and NaNs as for normal numbers.</li>
 * <li>bfloat16 to float32 is a shift.</li>
 * <li>float32 to float16 takes a branch-free path for results that are normal halves (ties to
 *     even by the carry trick of {@link Float16#fromFloat}) and {@link Float16#fromFloat} itself
 *     for the rest (zero, subnormal, overflow, infinity, NaN).</li>
 * <li>float32 to bfloat16 is {@link BFloat16#fromFloat}.</li>
 * </ul>
 */
final class StorageConversion {
    /** Elements per block: three arrays of this many stay in the L1/L2 cache. */
    static final int BLOCK = 4096;
    /** The float32 bits of every float16 pattern. */
    private static final int[] HALF_TO_FLOAT = new int[1 << 16];

    static {
        for (int h = 0; h < HALF_TO_FLOAT.length; h++) {
            HALF_TO_FLOAT[h] = Float.floatToRawIntBits(Float16.toFloat((short) h));
        }
    }

    private StorageConversion() {
    }

    /** Widens elements {@code [from, to)} of 16-bit {@code src} (stored as {@code type}) into float32 {@code dst}. */
    static void widen(DType type, ShortBuffer src, FloatBuffer dst, int from, int to) {
        short[] s = new short[Math.min(BLOCK, to - from)];
        float[] f = new float[s.length];
        for (int i0 = from; i0 < to; i0 += s.length) {
            int len = Math.min(s.length, to - i0);
            src.get(i0, s, 0, len);
            if (type == DType.FLOAT16) {
                halfToFloat(s, f, len);
            } else {
                bfloatToFloat(s, f, len);
            }
            dst.put(i0, f, 0, len);
        }
    }

    /** Rounds elements {@code [from, to)} of float32 {@code src} once into 16-bit {@code dst} (stored as {@code type}). */
    static void narrow(DType type, FloatBuffer src, ShortBuffer dst, int from, int to) {
        float[] f = new float[Math.min(BLOCK, to - from)];
        short[] s = new short[f.length];
        for (int i0 = from; i0 < to; i0 += f.length) {
            int len = Math.min(f.length, to - i0);
            src.get(i0, f, 0, len);
            if (type == DType.FLOAT16) {
                floatToHalf(f, s, len);
            } else {
                floatToBfloat(f, s, len);
            }
            dst.put(i0, s, 0, len);
        }
    }

    static void halfToFloat(short[] s, float[] f, int len) {
        for (int i = 0; i < len; i++) {
            f[i] = Float.intBitsToFloat(HALF_TO_FLOAT[s[i] & 0xffff]);
        }
    }

    private static void bfloatToFloat(short[] s, float[] f, int len) {
        for (int i = 0; i < len; i++) {
            f[i] = Float.intBitsToFloat(s[i] << 16);
        }
    }

    static void floatToHalf(float[] f, short[] s, int len) {
        for (int i = 0; i < len; i++) {
            int bits = Float.floatToRawIntBits(f[i]);
            int abs = bits & 0x7fffffff;
            // Magnitudes [2^-14, 65520) round to a normal half; the rest (rare in data) go the long way.
            if (abs >= 0x38800000 && abs < 0x477ff000) {
                int r = abs - 0x38000000;
                r += 0xfff + ((r >>> 13) & 1);
                s[i] = (short) (((bits >>> 16) & 0x8000) | (r >>> 13));
            } else {
                s[i] = Float16.fromFloat(f[i]);
            }
        }
    }

    private static void floatToBfloat(float[] f, short[] s, int len) {
        for (int i = 0; i < len; i++) {
            s[i] = BFloat16.fromFloat(f[i]);
        }
    }
}
