package dev.clpool.testing;

import static org.junit.jupiter.api.Assertions.fail;

/** The comparisons of SEMANTICS.md's "Tolerances" section, with messages that locate the first difference. */
public final class Tolerance {
    /** Relative tolerance for everything but max: |got - want| <= 4e-6 * max(1, |want|). */
    public static final double REL = 4e-6;

    private Tolerance() {
    }

    public static boolean close(double got, double want, double rel) {
        if (Double.isNaN(want)) {
            return Double.isNaN(got);
        }
        if (Double.isInfinite(want)) {
            return got == want;
        }
        return Math.abs(got - want) <= rel * Math.max(1, Math.abs(want));
    }

    /** Within {@link #REL} element by element (NaN where want is NaN, infinities equal). */
    public static void assertClose(float[] got, double[] want, String what) {
        assertClose(got, want, REL, what);
    }

    /** Within {@code rel} of another float result (another backend's), element by element. */
    public static void assertClose(float[] got, float[] want, double rel, String what) {
        double[] w = new double[want.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = want[i];
        }
        assertClose(got, w, rel, what);
    }

    public static void assertClose(float[] got, double[] want, double rel, String what) {
        if (got.length != want.length) {
            fail(what + ": " + got.length + " elements, expected " + want.length);
        }
        for (int i = 0; i < got.length; i++) {
            if (!close(got[i], want[i], rel)) {
                fail(what + ": element " + i + " is " + got[i] + ", expected " + want[i] + " (tolerance " + rel + ")");
            }
        }
    }

    /** Bit-identical floats (max pooling): compares raw bits, so NaN payloads and -0.0 count. */
    public static void assertBitIdentical(float[] got, float[] want, String what) {
        if (got.length != want.length) {
            fail(what + ": " + got.length + " elements, expected " + want.length);
        }
        for (int i = 0; i < got.length; i++) {
            if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])) {
                fail(what + ": element " + i + " is " + got[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(got[i]))
                        + "), expected " + want[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(want[i])) + ")");
            }
        }
    }

    /** Max against the reference's widened floats: exact. */
    public static void assertExact(float[] got, double[] want, String what) {
        float[] w = new float[want.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) want[i];
        }
        assertBitIdentical(got, w, what);
    }
}
