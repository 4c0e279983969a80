package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.Axis;
import dev.clpool.Padding;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.testing.NaiveReference;
import dev.clpool.testing.Tolerance;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link VecPlaneTriples} (through {@link PlaneMax} with {@code vector} on) against the scalar
 * bands, bit for bit, and the reference: 3×3 s2 windows with one padded column and row or none,
 * widths from one vector of outputs to several (a last vector overlapping the one before), odd
 * and even heights (a last window of two rows in ceil mode), bands of many rows and of one; every
 * data kind; then one −0 or NaN payload at every column of a row among zeros, where only the
 * exact rule tells which comes first.
 */
class VecPlaneTriplesTest {
    @BeforeEach
    void vectorKernels() {
        assumeTrue(VectorSupport.enabled(), "this JVM runs the scalar kernels only");
    }

    /** The stem's geometry over {@code h} × {@code w} with {@code pad} on each side (ceil mode where asked). */
    private static Axis[] stem(int h, int w, int pad, boolean ceil) {
        PoolSpec spec = PoolSpec.max(3, 3).stride(2).padding(Padding.of(pad)).ceilMode(ceil).build();
        return VecPlaneMaxTest.axes(spec, Shape.of(1, h, w, 1));
    }

    @Test
    void stemWindows_bitIdenticalToScalarAndReference() {
        int l = VecWidth.floats();
        SplittableRandom r = new SplittableRandom(913);
        int[][] cases = {{23, 2 * l, 1, 0}, {24, 2 * l + 2, 1, 0}, {9, 2 * l + 2, 0, 0}, {10, 4 * l + 3, 0, 1},
            {112, 112, 1, 0}, {7, 6 * l - 2, 1, 0}, {8, 2 * l + 7, 0, 1}};
        for (int[] c : cases) {
            Axis[] axes = stem(c[0], c[1], c[2], c[3] == 1);
            assertTrue(VecPlaneTriples.fits(new PlanePlan(1, axes)), Arrays.toString(axes));
            PoolSpec spec = PoolSpec.max(3, 3).stride(2).padding(Padding.of(c[2])).ceilMode(c[3] == 1).build();
            for (int kind = 0; kind < 5; kind++) {
                Shape s = Shape.of(3, c[0], c[1], 1);
                float[] x = VecPlaneMaxTest.data(s.elementCount(), r, kind);
                float[] vec = VecPlaneMaxTest.max(axes, 3, x, true);
                String what = Arrays.toString(c) + ", kind " + kind;
                Tolerance.assertBitIdentical(vec, VecPlaneMaxTest.max(axes, 3, x, false), what);
                Tolerance.assertExact(vec, NaiveReference.pool(x, s, spec), what + " (reference)");
            }
        }
    }

    @Test
    void fits_onlyTheStemsColumns() {
        int l = VecWidth.floats();
        Axis rows = new Axis(9, 4, 3, 2, 1, 0, 0);
        assertTrue(VecPlaneTriples.fits(new PlanePlan(1, new Axis[] {rows, new Axis(2 * l + 1, l, 3, 2, 1, 0, 0)})));
        // A padded column on the right, two on the left, too few outputs, column dilation, 2 rows, stride 1 rows.
        assertFalse(VecPlaneTriples.fits(new PlanePlan(1, new Axis[] {rows, new Axis(2 * l, l, 3, 2, 1, 0, 1)})));
        assertFalse(VecPlaneTriples.fits(new PlanePlan(1, new Axis[] {rows, new Axis(2 * l, l + 1, 3, 2, 1, 2, 0)})));
        assertFalse(VecPlaneTriples.fits(new PlanePlan(1, new Axis[] {rows, new Axis(2 * l - 1, l - 1, 3, 2, 1, 0, 0)})));
        assertFalse(VecPlaneTriples.fits(new PlanePlan(1, new Axis[] {rows, new Axis(4 * l + 1, l, 3, 2, 2, 0, 0)})));
        assertFalse(VecPlaneTriples.fits(new PlanePlan(1, new Axis[] {new Axis(8, 4, 2, 2, 1, 0, 0),
            new Axis(2 * l + 1, l, 3, 2, 1, 0, 0)})));
        assertFalse(VecPlaneTriples.fits(new PlanePlan(1, new Axis[] {new Axis(9, 7, 3, 1, 1, 0, 0),
            new Axis(2 * l + 1, l, 3, 2, 1, 0, 0)})));
        assertEquals(2 * l, VecPlaneTriples.prevFloats(l + 1));
    }

    /**
     * A −0 (or, among +0, a NaN with another of the other sign and payload one row down and one
     * column left, then the two swapped) at every column of every row of planes of ±0 and of −1:
     * the fix-up must see a −0 wherever it was loaded (a band's first row, a row shared between
     * windows, the padded first vector, the overlapping last one).
     */
    @Test
    void oneMinusZeroOrNaNAtEveryColumn_bitIdenticalToScalar() {
        int l = VecWidth.floats();
        float nan = Float.intBitsToFloat(0xffc00003);
        float other = Float.intBitsToFloat(0x7fc00005);
        for (Axis[] axes : new Axis[][] {stem(7, 2 * l + 4, 1, false), stem(6, 2 * l + 1, 0, false)}) {
            assertTrue(VecPlaneTriples.fits(new PlanePlan(2, axes)), Arrays.toString(axes));
            int h = axes[0].in();
            int w = axes[1].in();
            for (float base : new float[] {0f, -0f, -1f}) {
                float[] x = new float[2 * h * w];
                Arrays.fill(x, base);
                float[][] pairs = base == -1f ? new float[][] {{-0f, 0f}, {0f, -0f}}
                        : 1 / base > 0 ? new float[][] {{-0f, 0f}, {nan, other}, {other, nan}} : new float[][] {{0f, -0f}};
                for (int at = h * w; at < x.length; at++) {
                    for (float[] pair : pairs) {
                        float[] y = x.clone();
                        y[at] = pair[0];
                        if (at + w - 1 < y.length) {
                            y[at + w - 1] = pair[1];
                        }
                        Tolerance.assertBitIdentical(VecPlaneMaxTest.max(axes, 2, y, true),
                                VecPlaneMaxTest.max(axes, 2, y, false), pair[0] + " at " + at + " among " + base);
                    }
                }
            }
        }
    }
}
