package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.clpool.BFloat16;
import dev.clpool.DType;
import dev.clpool.Float16;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.SplittableRandom;
import java.util.function.IntUnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link CpuBackend#convert} (blocked, over three threads) against {@link Float16} and
 * {@link BFloat16} element by element, which StorageConversionTest checks against independent
 * references: every 16-bit pattern widened, and float32 values around every rounding decision
 * narrowed — subnormal results, the smallest normal, ties to even on both sides, the overflow
 * threshold 65520, infinities and NaNs with payloads — scattered through a tensor large enough to
 * be split into ranges and blocks, with a ragged end. Both ways in the Vector API's lanes
 * ({@link VecStorageConversion}, where this JVM runs them: ScalarJvmTest checks that the test JVM
 * does) and in the scalar blocks.
 */
class BulkConversionTest {
    /** More than one block per range on three threads, and not a multiple of the block. */
    private static final Shape SHAPE = Shape.of(2, 300, 111, 3);
    private static CpuBackend cpu;

    @BeforeAll
    static void open() {
        cpu = new CpuBackend(3);
    }

    @AfterAll
    static void close() {
        cpu.close();
    }

    /** Each 16-bit type with the scalar blocks, and in vector lanes where this JVM has them. */
    static Stream<Arguments> paths() {
        return Stream.of(DType.FLOAT16, DType.BFLOAT16).flatMap(t -> VectorSupport.enabled()
                ? Stream.of(Arguments.of(t, false), Arguments.of(t, true)) : Stream.of(Arguments.of(t, false)));
    }

    @ParameterizedTest(name = "{0} vectors={1}")
    @MethodSource("paths")
    void widening_everyPattern_isExact(DType type, boolean vectors) {
        Tensor src = Tensor.allocate(SHAPE, type);
        ShortBuffer s = src.shorts();
        for (int i = 0; i < s.capacity(); i++) {
            s.put(i, (short) (i * 40503)); // every pattern, in an order that spreads them over the ranges
        }
        Tensor got = Tensor.allocate(SHAPE);
        cpu.convert(src, got, vectors);
        FloatBuffer g = got.floats();
        for (int i = 0; i < s.capacity(); i++) {
            short h = s.get(i);
            float want = type == DType.FLOAT16 ? Float16.toFloat(h) : BFloat16.toFloat(h);
            int at = i;
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(g.get(i)),
                    () -> type.word() + " pattern 0x" + Integer.toHexString(h & 0xffff) + " at " + at);
        }
    }

    @ParameterizedTest(name = "{0} vectors={1}")
    @MethodSource("paths")
    void narrowing_edgeCasesAndRandom_roundAsOneElement(DType type, boolean vectors) {
        int[] edges = edgeBits();
        SplittableRandom r = new SplittableRandom(12);
        assertNarrowedAsOneElement(type, vectors, i -> {
            int bits = i % 3 == 0 ? edges[(i / 3) % edges.length] : r.nextInt();
            if (i % 3 == 1) {
                bits = (bits & 0x87ffffff) | 0x38000000; // exponents around float16's normal range
            }
            return bits;
        });
    }

    /**
     * Only values that round to normal halves, most of them ties or next to one: whole vectors of
     * them take the lanes' rounding (the test above puts an edge case in nearly every vector).
     */
    @ParameterizedTest(name = "{0} vectors={1}")
    @MethodSource("paths")
    void narrowing_normalHalvesOnly_tiesToEven(DType type, boolean vectors) {
        int[] low13 = {0x1000, 0x0fff, 0x1001, 0, 0x1fff};
        SplittableRandom r = new SplittableRandom(13);
        assertNarrowedAsOneElement(type, vectors, i -> {
            int exp = 113 + r.nextInt(30); // 2^-14 up to 2^15: float16's normal exponents
            return (r.nextInt(2) << 31) | (exp << 23) | (r.nextInt(1 << 10) << 13)
                    | (i % 5 == 4 ? r.nextInt(1 << 13) : low13[i % 5]);
        });
    }

    /**
     * Whole vectors of values below float16's normal range (zeros, subnormal results, ties between
     * subnormals, values that round up into the smallest normal), of zeros with a few normal
     * values (a max backward's gradient), and of overflow, infinities and NaNs: the lanes' blends
     * for each, not one edge case among normal values.
     */
    @ParameterizedTest(name = "{0} vectors={1}")
    @MethodSource("paths")
    void narrowing_wholeVectorsOfSmallZeroOrSpecialValues_roundAsOneElement(DType type, boolean vectors) {
        SplittableRandom r = new SplittableRandom(14);
        int third = (int) (SHAPE.elementCount() / 3);
        assertNarrowedAsOneElement(type, vectors, i -> {
            int sign = r.nextInt(2) << 31;
            if (i < third) {
                // Below 2^-14, from float subnormals up; every fourth a tie between two subnormal halves.
                int abs = r.nextInt(0x38800000);
                if (i % 4 == 0) {
                    abs = Float.floatToRawIntBits((2 * r.nextInt(1024) + 1) * 0x1p-25f);
                }
                return sign | abs;
            } else if (i < 2 * third) {
                return i % 29 == 0 ? sign | (0x38000000 + r.nextInt(0x0f000000)) : (i % 7 == 0 ? sign : 0);
            }
            return sign | (0x477ff000 + r.nextInt(0x7fffffff - 0x477ff000));
        });
    }

    /**
     * A float32 tensor whose element {@code i} has the bits {@code bitsAt(i)} (called in order),
     * narrowed to {@code type} in bulk, gives each element's {@link Float16}/{@link BFloat16} rounding.
     */
    private static void assertNarrowedAsOneElement(DType type, boolean vectors, IntUnaryOperator bitsAt) {
        Tensor src = Tensor.allocate(SHAPE);
        FloatBuffer in = src.floats();
        for (int i = 0; i < in.capacity(); i++) {
            in.put(i, Float.intBitsToFloat(bitsAt.applyAsInt(i)));
        }
        Tensor got = Tensor.allocate(SHAPE, type);
        cpu.convert(src, got, vectors);
        FloatBuffer f = src.floats();
        ShortBuffer g = got.shorts();
        for (int i = 0; i < f.capacity(); i++) {
            float x = f.get(i);
            short want = type == DType.FLOAT16 ? Float16.fromFloat(x) : BFloat16.fromFloat(x);
            assertEquals(want, g.get(i), () -> type.word() + " of 0x" + Integer.toHexString(Float.floatToRawIntBits(x)));
        }
    }

    /** The float32 bit patterns (both signs) where float16 rounding decides something. */
    private static int[] edgeBits() {
        int[] base = {
            0, 1, 0x007fffff, 0x00800000, // zero, float subnormals, smallest normal float
            0x33000000, 0x33000001, 0x337fffff, 0x33800000, 0x33c00000, // 2^-25 (tie to zero), just above, 2^-24, 1.5 * 2^-24
            0x34200000, 0x34400000, // 2.5 * 2^-24 (tie to 2), 3 * 2^-24
            0x387fc000, 0x387fe000, 0x387fffff, 0x38800000, 0x38801000, // largest subnormal, ties into the smallest normal
            0x3f800000, 0x3f801000, 0x3f803000, 0x3f801001, 0x3f802fff, // 1, ties to even down and up, near ties
            0x477fe000, 0x477fefff, 0x477ff000, 0x477fffff, 0x47800000, // 65504, below and at 65520, 2^16
            0x7f7fffff, 0x7f800000, 0x7f800001, 0x7fc00000, 0x7fffffff, 0x7fa01234, // max float, inf, NaNs
        };
        int[] both = new int[2 * base.length];
        for (int i = 0; i < base.length; i++) {
            both[2 * i] = base[i];
            both[2 * i + 1] = base[i] | 0x80000000;
        }
        return both;
    }

    @Test
    void sameTypeAndSixteenToSixteen_copyOrRoundAsConvertInto() {
        Tensor half = Tensor.allocate(SHAPE, DType.FLOAT16);
        ShortBuffer s = half.shorts();
        for (int i = 0; i < s.capacity(); i++) {
            s.put(i, (short) (i * 7919));
        }
        Tensor want = half.convert(DType.BFLOAT16);
        Tensor got = Tensor.allocate(SHAPE, DType.BFLOAT16);
        cpu.convert(half, got);
        assertEquals(want.shorts(), got.shorts());
        Tensor copy = Tensor.allocate(SHAPE, DType.FLOAT16);
        cpu.convert(half, copy);
        assertEquals(half.shorts(), copy.shorts());
    }

    @Test
    void differentSizes_areRefused() {
        Tensor a = Tensor.allocate(Shape.of(1, 2, 2, 3), DType.FLOAT16);
        Tensor b = Tensor.allocate(Shape.of(1, 2, 2, 4));
        assertThrows(IllegalArgumentException.class, () -> cpu.convert(a, b));
    }
}
