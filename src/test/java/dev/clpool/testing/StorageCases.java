package dev.clpool.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.clpool.BFloat16;
import dev.clpool.DType;
import dev.clpool.Float16;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Tensor;
import java.nio.ShortBuffer;
import java.util.SplittableRandom;

/**
 * 16-bit inputs for the storage tests, and the comparisons those tests make. Inputs are the
 * random cases' float32 values rounded to the storage type, with a sprinkle of the type's own
 * special values: subnormals, values near its largest, ±0, ±infinity and NaNs with signs and
 * payloads.
 */
public final class StorageCases {
    /** The two 16-bit storage types. */
    public static final DType[] SIXTEEN_BIT = {DType.FLOAT16, DType.BFLOAT16};

    private StorageCases() {
    }

    /**
     * {@code x} rounded to {@code dtype}; where {@code special}, about one element in twelve is
     * replaced by one of the type's special values.
     */
    public static Tensor input(Tensor x, DType dtype, SplittableRandom r, boolean special) {
        Tensor t = x.convert(dtype);
        if (special) {
            ShortBuffer s = t.shorts();
            for (int i = 0; i < s.capacity(); i++) {
                if (r.nextInt(12) == 0) {
                    s.put(i, special(dtype, r));
                }
            }
        }
        return t;
    }

    /** One special 16-bit value of {@code dtype}, as raw bits. */
    public static short special(DType dtype, SplittableRandom r) {
        boolean half = dtype == DType.FLOAT16;
        int sign = r.nextBoolean() ? 0x8000 : 0;
        int fracBits = half ? 10 : 7;
        int expAll = half ? 0x7c00 : 0x7f80;
        int quiet = half ? 0x0200 : 0x0040;
        int frac = r.nextInt(1 << fracBits);
        switch (r.nextInt(8)) {
            case 0: case 1:
                return (short) (sign | Math.max(1, frac));                         // subnormal
            case 2: {
                // Large finite: the top two binades (float16 up to 65504; bfloat16 kept below 1e37
                // so that window sums stay finite even in float accumulation).
                int top = half ? 0x7bff : 0x7c6f;
                return (short) (sign | (top - r.nextInt(2 << fracBits)));
            }
            case 3:
                return (short) sign;                                              // ±0
            case 4:
                return (short) (sign | expAll);                                   // ±infinity
            case 5:
                return (short) (sign | expAll | quiet | r.nextInt(quiet));         // quiet NaN with payload
            default:
                return (short) (sign | (half ? 0x0400 : 0x0080) + r.nextInt(1 << fracBits)); // smallest normals
        }
    }

    /**
     * A device result {@code got} of pooling {@code x} (windowed by {@code spec}, or global where
     * {@code spec} is null) against the CPU path's {@code want}, as SEMANTICS.md's tolerances say:
     * max bit for bit; 16-bit averages and LP within one step; float32 ones within
     * {@link Tolerance#REL} of the float64 reference.
     */
    public static void assertMatchesCpu(PoolMode mode, Tensor got, Tensor want, Tensor x, PoolSpec spec, String what) {
        if (got.dtype() != DType.FLOAT32) {
            if (mode == PoolMode.MAX) {
                assertSameBits(got, want, what);
            } else {
                assertWithinOneStep(got, want, what);
            }
        } else if (mode == PoolMode.MAX) {
            Tolerance.assertBitIdentical(got.toArray(), want.toArray(), what);
        } else {
            double[] ref = spec != null ? NaiveReference.pool(x.toArray(), x.shape(), spec)
                    : NaiveReference.global(x.toArray(), x.shape(), mode);
            Tolerance.assertClose(got.toArray(), ref, what);
        }
    }

    /** Elements bit for bit (any storage type); names the first difference. */
    public static void assertSameBits(Tensor got, Tensor want, String what) {
        assertSame(got, want, false, what);
    }

    /**
     * Elements bit for bit, except that any NaN matches any NaN and -0.0 matches +0.0: for
     * averages, LP and gradients, whose NaN payloads and the sign of a zero sum SEMANTICS.md leaves
     * open (even one JVM's arithmetic may pick a different operand's payload once code is compiled;
     * a sum that starts at +0 turns a lone -0 into +0).
     */
    public static void assertSameValues(Tensor got, Tensor want, String what) {
        assertSame(got, want, true, what);
    }

    private static void assertSame(Tensor got, Tensor want, boolean anyNan, String what) {
        assertEquals(want.dtype(), got.dtype(), what + ": dtype");
        assertEquals(want.tensorShape(), got.tensorShape(), what + ": shape");
        if (got.dtype() == DType.FLOAT32) {
            float[] g = got.toArray();
            float[] w = want.toArray();
            for (int i = 0; i < g.length; i++) {
                boolean sameValue = anyNan && (g[i] == w[i] || (g[i] != g[i] && w[i] != w[i]));
                if (Float.floatToRawIntBits(g[i]) != Float.floatToRawIntBits(w[i]) && !sameValue) {
                    fail(what + ": element " + i + " is " + g[i] + ", expected " + w[i]);
                }
            }
            return;
        }
        ShortBuffer g = got.shorts();
        ShortBuffer w = want.shorts();
        for (int i = 0; i < g.capacity(); i++) {
            float gf = toFloat(got.dtype(), g.get(i));
            float wf = toFloat(want.dtype(), w.get(i));
            boolean sameValue = anyNan && (gf == wf || (Float.isNaN(gf) && Float.isNaN(wf)));
            if (g.get(i) != w.get(i) && !sameValue) {
                fail(what + ": element " + i + " is " + show(got.dtype(), g.get(i)) + ", expected "
                        + show(want.dtype(), w.get(i)));
            }
        }
    }

    /**
     * 16-bit elements that agree as SEMANTICS.md's tolerance allows once rounded: at most one step
     * of the type apart (adjacent patterns in value order, +0 and -0 the same), or, as floats,
     * within {@link Tolerance#REL} {@code * max(1, |want|)} (a sum that cancels to almost nothing
     * may differ by more than a step relative to itself); NaN exactly where the other has NaN.
     */
    public static void assertWithinOneStep(Tensor got, Tensor want, String what) {
        assertEquals(want.dtype(), got.dtype(), what + ": dtype");
        assertEquals(want.tensorShape(), got.tensorShape(), what + ": shape");
        ShortBuffer g = got.shorts();
        ShortBuffer w = want.shorts();
        for (int i = 0; i < g.capacity(); i++) {
            if (!withinOneStep(got.dtype(), g.get(i), w.get(i))) {
                fail(what + ": element " + i + " is " + show(got.dtype(), g.get(i)) + ", expected "
                        + show(want.dtype(), w.get(i)) + " within one step of " + got.dtype());
            }
        }
    }

    /** {@code got} agrees with {@code want} as in {@link #assertWithinOneStep}. */
    public static boolean withinOneStep(DType dtype, short got, short want) {
        float g = toFloat(dtype, got);
        float w = toFloat(dtype, want);
        if (Float.isNaN(g) || Float.isNaN(w)) {
            return Float.isNaN(g) && Float.isNaN(w);
        }
        return Math.abs(order(got) - order(want)) <= 1
                || (Float.isFinite(g) && Float.isFinite(w) && Tolerance.close(g, w, Tolerance.REL));
    }

    /** The position of a 16-bit pattern in value order: negative patterns below zero, ±0 both 0. */
    public static int order(short bits) {
        int b = bits & 0xffff;
        return (b & 0x8000) != 0 ? -(b & 0x7fff) : b;
    }

    public static float toFloat(DType dtype, short bits) {
        return dtype == DType.FLOAT16 ? Float16.toFloat(bits) : BFloat16.toFloat(bits);
    }

    public static String show(DType dtype, short bits) {
        return toFloat(dtype, bits) + " (0x" + String.format("%04x", bits & 0xffff) + ")";
    }
}
