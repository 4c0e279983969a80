package dev.clpool.cpu;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.Axis;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.testing.NaiveReference;
import dev.clpool.testing.Tolerance;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * {@link VecPlaneLp}'s sums (through {@link PlaneLp} with {@code vector} on) against the scalar
 * loops (off) on the same channels-first planes, bit for bit (the same additions in the same
 * order), and against the double reference: random geometries (padding, dilation, strides 1–3
 * both ways, ceil mode), p of 1, 2, 3, 4 and 2.5, rank 3, and data with NaN payloads, infinities,
 * zeros of both signs, all-zero and constant planes.
 */
class VecPlaneLpTest {
    private static final double[] EXPONENTS = {1, 2, 3, 4, 2.5};

    @BeforeEach
    void vectorKernels() {
        assumeTrue(VectorSupport.enabled(), "this JVM runs the scalar kernels only");
    }

    @RepeatedTest(16)
    void vecPlaneLp_randomGeometry_bitsOfScalarAndCloseToReference(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(7500 + info.getCurrentRepetition());
        double p = EXPONENTS[info.getCurrentRepetition() % EXPONENTS.length];
        PoolSpec spec = LpWindowsTest.randomSpec(r, p);
        Shape s = VecPlaneMaxTest.shape(r, spec);
        int kind = info.getCurrentRepetition() % 5;
        float[] x = VecPlaneMaxTest.data(s.elementCount(), r, kind);
        Axis[] axes = VecPlaneMaxTest.axes(spec, s);
        String what = spec + " on " + s + ", kind " + kind;
        float[] vec = lp(axes, s.n(), x, p, true);
        Tolerance.assertBitIdentical(vec, lp(axes, s.n(), x, p, false), what + " (vector vs scalar)");
        Tolerance.assertClose(vec, NaiveReference.pool(x, s, spec), what + " (vector vs reference)");
    }

    @Test
    void vecPlaneLp_rankThreeAndOne_bitsOfScalar() {
        SplittableRandom r = new SplittableRandom(75);
        for (int kind = 0; kind < 5; kind++) {
            float[] x = VecPlaneMaxTest.data(3 * 5 * 9 * 37, r, kind);
            Axis[] rank3 = {new Axis(5, 3, 3, 2, 1, 1, 1), new Axis(9, 9, 3, 1, 1, 1, 1), new Axis(37, 37, 3, 1, 1, 1, 1)};
            Tolerance.assertBitIdentical(lp(rank3, 3, x, 2, true), lp(rank3, 3, x, 2, false), "3-D L2, kind " + kind);
            Axis[] rank1 = {new Axis(37, 18, 3, 2, 1, 1, 0)};
            Tolerance.assertBitIdentical(lp(rank1, 135, x, 3, true), lp(rank1, 135, x, 3, false), "1-D p=3 s2, kind " + kind);
            Axis[] narrow = {new Axis(37, 9, 4, 4, 1, 0, 0)};
            Tolerance.assertBitIdentical(lp(narrow, 135, x, 2, true), lp(narrow, 135, x, 2, false),
                    "1-D L2 4 s4, 9 outputs a row, kind " + kind);
            Axis[] fewer = {new Axis(9, 5, 3, 2, 1, 1, 1), new Axis(37, 5, 4, 8, 1, 0, 0)};
            Tolerance.assertBitIdentical(lp(fewer, 15, x, 2, true), lp(fewer, 15, x, 2, false),
                    "2-D L2, 5 outputs a row, kind " + kind);
        }
    }

    private static float[] lp(Axis[] axes, int planes, float[] x, double p, boolean vector) {
        PlanePlan plan = new PlanePlan(planes, axes);
        float[] y = new float[Math.toIntExact(planes * plan.outPlane)];
        Arrays.fill(y, -1f);
        PlaneLp lp = new PlaneLp(plan, p, vector);
        lp.run(FloatBuffer.wrap(x), FloatBuffer.wrap(y), 0, lp.rows(), Scratch.get());
        return y;
    }
}
