package dev.clpool.cpu;

import dev.clpool.BFloat16;
import dev.clpool.DType;
import dev.clpool.Float16;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link StorageConversion}'s conversions in Vector API lanes, read from and written to the
 * tensors' direct memory in place (no staging through heap arrays), bit for bit as {@link Float16}
 * and {@link BFloat16} convert one element. Bfloat16 is a shift one way and a rounding add on
 * the top 16 bits the other (a NaN made quiet instead). JDK 17 has no half-precision instructions in the Vector
 * API, so the lanes do {@link Float16}'s integer arithmetic: float16 to float32 rebiases the
 * exponent, with blends for zeros and subnormals (the fraction made a float from its bits and
 * scaled by 2<sup>-24</sup>, exact) and for infinities and NaNs (quiet, the payload kept); float32 to float16
 * rounds every lane by the normal-half carry trick, with blends where a vector holds zeros or
 * subnormal results (scaled by 2<sup>24</sup> and rounded to an integer in float arithmetic) or
 * overflow, infinities and NaNs. No lane falls back to the scalar path: a vector with one zero
 * did until 7c2a3e4, and backward gradients, which are mostly zero, converted at a fifth of the
 * speed (float16 stem backward 75 ms against 21 for float32).
 *
 * <p>The table lookup and the staged blocks of the scalar path cost 0.7 ns an element one way and
 * 2.5 ns the other on this project's test machine, against a float32 global average at about
 * 0.05: float16 rows ran 10-20x their float32 twins (docs/performance.md, branch {@code half}).
 */
final class VecStorageConversion {
    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> FLOATS =
            VectorSpecies.of(float.class, VectorShape.forBitSize(INTS.vectorBitSize()));
    private static final VectorSpecies<Short> HALVES =
            VectorSpecies.of(short.class, VectorShape.forBitSize(INTS.vectorBitSize() / 2));
    private static final int LANES = INTS.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /**
     * Elements per call of the inner loops. Until C2 compiles it, Vector API code runs interpreted
     * and boxed at tens of microseconds a vector: in a fresh JVM the first conversion of 1.5
     * million float16 elements took 3.2-3.6 s either way, but with one long loop per range the
     * second call still ran the old code (44 ms), in blocks it ran compiled (0.8 ms; 0.4 steady).
     */
    private static final int BLOCK = 512;

    private VecStorageConversion() {
    }

    /** Widens elements {@code [from, to)} of 16-bit {@code src} (stored as {@code type}) into float32 {@code dst} (element indices). */
    static void widen(DType type, ByteBuffer src, ByteBuffer dst, int from, int to) {
        for (int b = from; b < to; b += BLOCK) {
            if (type == DType.FLOAT16) {
                halfToFloat(src, dst, b, Math.min(to, b + BLOCK));
            } else {
                bfloatToFloat(src, dst, b, Math.min(to, b + BLOCK));
            }
        }
    }

    private static void bfloatToFloat(ByteBuffer src, ByteBuffer dst, int from, int to) {
        int i = from;
        for (; i <= to - LANES; i += LANES) {
            IntVector h = (IntVector) ShortVector.fromByteBuffer(HALVES, src, i * Short.BYTES, ORDER)
                    .convertShape(VectorOperators.S2I, INTS, 0);
            h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoByteBuffer(dst, i * Float.BYTES, ORDER);
        }
        for (; i < to; i++) {
            dst.putFloat(i * Float.BYTES, BFloat16.toFloat(src.getShort(i * Short.BYTES)));
        }
    }

    /**
     * Float16 to float32 bits. A vector of normal halves (nearly all) is rebiased and stored; one
     * with a zero, subnormal, infinity or NaN takes the blends in a branch that stores its own
     * result, so that no vector value is merged across the branch. JDK 17's C2 boxed the vectors of
     * the form that blended into one variable under {@code if (anyTrue())} and took the rebias in a
     * helper method, in some JVMs and not others (4.9 MB allocated a call on VGG-16's head, 0.81-0.89
     * against 0.27-0.29 ms, one run in three of the same jar): a vector merged across a branch, or
     * returned from a call that is not inlined, is an object.
     */
    private static void halfToFloat(ByteBuffer src, ByteBuffer dst, int from, int to) {
        int i = from;
        for (; i <= to - LANES; i += LANES) {
            IntVector h = (IntVector) ShortVector.fromByteBuffer(HALVES, src, i * Short.BYTES, ORDER)
                    .convertShape(VectorOperators.S2I, INTS, 0);
            IntVector mag = h.and(0x7fff);
            IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
            // Normal halves: the exponent rebiased from 15 to 127, the fraction moved up 13 bits.
            IntVector normal = mag.lanewise(VectorOperators.LSHL, 13).add(112 << 23);
            VectorMask<Integer> tiny = mag.compare(VectorOperators.LT, 0x0400);
            VectorMask<Integer> special = mag.compare(VectorOperators.GE, 0x7c00);
            if (!tiny.or(special).anyTrue()) {
                normal.or(sign).reinterpretAsFloats().intoByteBuffer(dst, i * Float.BYTES, ORDER);
                continue;
            }
            IntVector frac = h.and(0x3ff);
            // Zero or subnormal: fraction × 2^-24, exact in float.
            // (2^23 + fraction, as float bits) - 2^23 is the fraction as a float, with no conversion.
            IntVector sub = frac.or(0x4b000000).reinterpretAsFloats().sub(0x1p23f).mul(0x1p-24f).reinterpretAsInts();
            // Infinity, or NaN made quiet with its payload: the exponent all ones.
            IntVector quiet = IntVector.zero(INTS).blend(0x00400000, frac.compare(VectorOperators.NE, 0));
            IntVector inf = frac.lanewise(VectorOperators.LSHL, 13).or(0x7f800000).or(quiet);
            normal.blend(sub, tiny).blend(inf, special).or(sign).reinterpretAsFloats()
                    .intoByteBuffer(dst, i * Float.BYTES, ORDER);
        }
        for (; i < to; i++) {
            dst.putFloat(i * Float.BYTES, Float16.toFloat(src.getShort(i * Short.BYTES)));
        }
    }

    /** Rounds float32 elements {@code [from, to)} of {@code src} once into 16-bit {@code dst} (stored as {@code type}; element indices). */
    static void narrow(DType type, ByteBuffer src, ByteBuffer dst, int from, int to) {
        for (int b = from; b < to; b += BLOCK) {
            if (type == DType.FLOAT16) {
                floatToHalf(src, dst, b, Math.min(to, b + BLOCK));
            } else {
                floatToBfloat(src, dst, b, Math.min(to, b + BLOCK));
            }
        }
    }

    private static void floatToBfloat(ByteBuffer src, ByteBuffer dst, int from, int to) {
        int i = from;
        for (; i <= to - LANES; i += LANES) {
            IntVector bits = FloatVector.fromByteBuffer(FLOATS, src, i * Float.BYTES, ORDER).reinterpretAsInts();
            // Round to nearest, ties to even, on the top 16 bits; a NaN keeps its top bits, made quiet.
            IntVector r = bits.add(bits.lanewise(VectorOperators.LSHR, 16).and(1).add(0x7fff))
                    .lanewise(VectorOperators.LSHR, 16);
            VectorMask<Integer> nan = bits.and(0x7fffffff).compare(VectorOperators.GT, 0x7f800000);
            r = r.blend(bits.lanewise(VectorOperators.LSHR, 16).or(0x0040), nan);
            ((ShortVector) r.convertShape(VectorOperators.I2S, HALVES, 0)).intoByteBuffer(dst, i * Short.BYTES, ORDER);
        }
        for (; i < to; i++) {
            dst.putShort(i * Short.BYTES, BFloat16.fromFloat(src.getFloat(i * Float.BYTES)));
        }
    }

    private static void floatToHalf(ByteBuffer src, ByteBuffer dst, int from, int to) {
        int i = from;
        for (; i <= to - LANES; i += LANES) {
            IntVector bits = FloatVector.fromByteBuffer(FLOATS, src, i * Float.BYTES, ORDER).reinterpretAsInts();
            IntVector abs = bits.and(0x7fffffff);
            // Magnitudes [2^-14, 65520) round to a normal half: rebias, add the carry for ties to even, shift.
            IntVector r = abs.sub(0x38000000);
            r = r.add(r.lanewise(VectorOperators.LSHR, 13).and(1).add(0xfff));
            IntVector h = r.lanewise(VectorOperators.LSHR, 13);
            IntVector sign = bits.lanewise(VectorOperators.LSHR, 16).and(0x8000);
            VectorMask<Integer> small = abs.compare(VectorOperators.LT, 0x38800000);
            VectorMask<Integer> large = abs.compare(VectorOperators.GE, 0x477ff000);
            if (!small.or(large).anyTrue()) {
                ((ShortVector) h.or(sign).convertShape(VectorOperators.I2S, HALVES, 0))
                        .intoByteBuffer(dst, i * Short.BYTES, ORDER);
                continue;
            }
            // Below 2^-14: a subnormal half or zero, round(|f| · 2^24) to nearest even. The
            // product is exact (below 1024), and adding 2^23 rounds it to an integer as IEEE
            // addition does, ties to even, left in the sum's low fraction bits (1024 is the
            // smallest normal's bits: also right). This branch stores its own result (see halfToFloat).
            IntVector sub = abs.reinterpretAsFloats().mul(0x1p24f).add(0x1p23f).reinterpretAsInts().sub(0x4b000000);
            // 65520 and up round to infinity; a NaN stays quiet with the top of its payload.
            IntVector nan = abs.lanewise(VectorOperators.LSHR, 13).and(0x3ff).or(0x7e00);
            IntVector inf = nan.blend(0x7c00, abs.compare(VectorOperators.LE, 0x7f800000));
            IntVector edge = h.blend(sub, small).blend(inf, large).or(sign);
            ((ShortVector) edge.convertShape(VectorOperators.I2S, HALVES, 0)).intoByteBuffer(dst, i * Short.BYTES, ORDER);
        }
        for (; i < to; i++) {
            dst.putShort(i * Short.BYTES, Float16.fromFloat(src.getFloat(i * Float.BYTES)));
        }
    }
}
