package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.Axis;
import dev.clpool.testing.Tolerance;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * When {@link VecPlaneMax}'s passes ask for {@link PlaneMax}'s zero-or-NaN fix-up: where a result
 * is NaN, or one is zero and the band loaded a −0 ({@link VecPlaneMax#pooled} and
 * {@link VecPlaneMax#down} answer while they load; no second pass over the input). All-+0 input,
 * ReLU'd data's zeros, must not ask for it; one −0 or NaN anywhere in a band must, or the results
 * differ from the scalar passes' (the exact rule keeps the first zero's sign and the first NaN).
 */
class VecPlaneMaxFixUpTest {
    private static final float NAN = Float.intBitsToFloat(0xffc00003);

    @BeforeEach
    void vectorKernels() {
        assumeTrue(VectorSupport.enabled(), "this JVM runs the scalar kernels only");
    }

    /** Two-row 2-wide and 4-wide windows from the tensor: +0 results alone need no fix-up, a −0 or NaN anywhere does. */
    @Test
    void pooled_asksForTheFixUpOnlyForMinusZeroOrNaN() {
        int lanes = VecWidth.floats();
        for (int stride : new int[] {2, 4}) {
            int ow = lanes + 3;                   // the last vector overlaps the one before
            int width = ow * stride;
            int[] rows = {0, 2 * width, 2, 2};    // two band rows of two input rows each
            float[] x = new float[4 * width];
            float[] out = new float[2 * ow];
            assertFalse(pooled(x, rows, ow, stride, width, out), "all +0, stride " + stride);
            for (int at = 0; at < x.length; at++) {
                for (float odd : new float[] {-0f, NAN}) {
                    float[] y = x.clone();
                    y[at] = odd;
                    assertTrue(pooled(y, rows, ow, stride, width, out), odd + " at " + at + ", stride " + stride);
                }
            }
            // A −0 in a band row whose results are all 1, a +0 result in the other: nothing to fix.
            float[] y = x.clone();
            Arrays.fill(y, 2 * width, 3 * width, 1f);
            y[3 * width + 5] = -0f;
            assertFalse(pooled(y, rows, ow, stride, width, out), "-0 under a window of result 1, stride " + stride);
            y[5] = -0f;
            assertTrue(pooled(y, rows, ow, stride, width, out), "-0 in the row with zero results, stride " + stride);
        }
    }

    /** The vertical pass says whether it loaded a −0: from any of up to four rows, any column, one row copied. */
    @Test
    void down_reportsEveryMinusZeroItLoads() {
        int width = 2 * VecWidth.floats() + 5;
        float[] in = new float[5 * width];
        float[] acc = new float[width];
        for (int n = 1; n <= 4; n++) {
            int[] rows = {0, width, 2 * width, 3 * width};
            assertFalse(VecPlaneMax.down(in, rows, n, acc, 0, width), "+0 only, " + n + " rows");
            for (int at = 0; at < n * width; at++) {
                float[] y = in.clone();
                y[at] = -0f;
                assertTrue(VecPlaneMax.down(y, rows, n, acc, 0, width), "-0 at " + at + " of " + n + " rows");
                assertEquals(0, Float.floatToRawIntBits(acc[at % width]) & 0x7fffffff, "the maximum stays a zero");
            }
            float[] y = in.clone();
            y[n * width] = -0f;                   // a row not read
            assertFalse(VecPlaneMax.down(y, rows, n, acc, 0, width), "-0 past the " + n + " rows read");
        }
    }

    /**
     * Through {@link PlaneMax}, vector against scalar, bit for bit: a band all +0 with one −0 or
     * NaN (and a second NaN), and all −0 with one +0, in every row of two planes at both ends and
     * where its second vector starts, for each path: fused
     * windows from the tensor (2×2 s2, 2×4 s(2,4)), the staged path with a depth window (2×2×2 s2),
     * the depth pass C3D's 2×2×2 runs as (2 s2 over rows, W kept), the horizontal pass's (3×3 s2 pad 1),
     * rows of one tap copied (2×2 s2 pad 1) and rows of fewer outputs than a vector.
     */
    @Test
    void planeMax_oneMinusZeroOrNaNInABandOfZeros_bitIdenticalToScalar() {
        int l = VecWidth.floats();
        Axis rows = new Axis(6, 3, 2, 2, 1, 0, 0);
        Axis[][] geometries = {
            {rows, new Axis(2 * l + 4, l + 2, 2, 2, 1, 0, 0)},
            {rows, new Axis(4 * l + 8, l + 2, 4, 4, 1, 0, 0)},
            {new Axis(4, 2, 2, 2, 1, 0, 0), rows, new Axis(2 * l + 4, l + 2, 2, 2, 1, 0, 0)},
            {new Axis(4, 2, 2, 2, 1, 0, 0), new Axis(3 * l, 3 * l, 1, 1, 1, 0, 0)},
            {new Axis(7, 4, 3, 2, 1, 1, 1), new Axis(2 * l + 5, l + 3, 3, 2, 1, 1, 1)},
            {new Axis(6, 4, 2, 2, 1, 1, 1), new Axis(2 * l + 4, l + 3, 2, 2, 1, 1, 1)},
            {rows, new Axis(l + 4, l / 2 + 2, 2, 2, 1, 0, 0)}};
        for (int g = 0; g < geometries.length; g++) {
            Axis[] axes = geometries[g];
            int size = 2;
            for (Axis a : axes) {
                size *= a.in();
            }
            for (float zero : new float[] {0f, -0f}) {
                float[] x = new float[size];
                Arrays.fill(x, zero);
                Tolerance.assertBitIdentical(VecPlaneMaxTest.max(axes, 2, x, true), VecPlaneMaxTest.max(axes, 2, x, false),
                        "geometry " + g + ", all " + zero);
                int w = axes[axes.length - 1].in();
                int[] columns = {0, 1, l - 1, l, w - 1};
                for (int at = 0; at < size; at += w) {
                    for (int column : columns) {
                        change(axes, x, at + column, zero, g);
                    }
                }
            }
        }
    }

    /**
     * Vector against scalar with {@code x[at]} changed to the other zero, then (among +0) to a NaN
     * with a second one row down and one column left, of the other sign and payload, then the two
     * swapped: the rule keeps the first in scan order; {@code Math.max} down the columns first
     * the other, or (C2's lanes) the one its sign picks, so one of the two orders tells.
     */
    private static void change(Axis[] axes, float[] x, int at, float zero, int g) {
        int w = axes[axes.length - 1].in();
        float other = Float.intBitsToFloat(0x7fc00005);
        float[][] pairs = zero == 0f && 1 / zero > 0 ? new float[][] {{-0f, 0f}, {NAN, other}, {other, NAN}}
                : new float[][] {{0f, -0f}};
        for (float[] pair : pairs) {
            float[] y = x.clone();
            y[at] = pair[0];
            if (at + w - 1 < y.length) {
                y[at + w - 1] = pair[1];
            }
            Tolerance.assertBitIdentical(VecPlaneMaxTest.max(axes, 2, y, true), VecPlaneMaxTest.max(axes, 2, y, false),
                    "geometry " + g + ", " + pair[0] + " at " + at + " among " + zero);
        }
    }

    private static boolean pooled(float[] x, int[] rows, int ow, int stride, int width, float[] out) {
        ByteBuffer raw = ChannelsFirstPoolTest.direct(x);
        ByteBuffer bytes = ChannelsFirstPoolTest.direct(out);
        boolean fix = VecPlaneMax.pooled(raw, rows, 2, 2, width, ow, stride, bytes, 0);
        bytes.asFloatBuffer().get(0, out);
        return fix;
    }
}
