package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.Axis;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.testing.NaiveReference;
import dev.clpool.testing.Tolerance;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * {@link VecPlaneAvg}'s passes (through {@link PlaneAvg} with {@code vector} on) against the
 * scalar passes (off) and the double reference on the same channels-first planes, within
 * SEMANTICS.md's tolerance: random geometries with either divisor rule (the fused stride-1 pass
 * and the general one), rank 1 and 3, and data the certificate must send to double (cancellation,
 * infinities, NaNs), all-zero, −0 and constant data.
 */
class VecPlaneAvgTest {
    @BeforeEach
    void vectorKernels() {
        assumeTrue(VectorSupport.enabled(), "this JVM runs the scalar kernels only");
    }

    @RepeatedTest(20)
    void vecPlaneAvg_randomGeometry_withinToleranceOfScalarAndReference(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(7300 + info.getCurrentRepetition());
        PoolSpec spec = VanHerkTest.randomSpec(r, PoolMode.AVG);
        Shape s = VecPlaneMaxTest.shape(r, spec);
        float[] x = data(s.elementCount(), r, info.getCurrentRepetition() % 4);
        Axis[] axes = VecPlaneMaxTest.axes(spec, s);
        String what = spec + " on " + s;
        float[] vec = avg(axes, s.n(), x, spec.countIncludePad(), true);
        float[] scalar = avg(axes, s.n(), x, spec.countIncludePad(), false);
        Tolerance.assertClose(vec, NaiveReference.pool(x, s, spec), what + " (vector vs reference)");
        Tolerance.assertClose(vec, scalar, 2 * Tolerance.REL, what + " (vector vs scalar)");
        for (int i = 0; i < vec.length; i++) {
            if (Float.isNaN(scalar[i])) {
                assertEquals(Float.floatToRawIntBits(scalar[i]), Float.floatToRawIntBits(vec[i]), what + ": canonical NaN at " + i);
            }
        }
    }

    @Test
    void vecPlaneAvg_rankOneAndThree_withinToleranceOfScalar() {
        SplittableRandom r = new SplittableRandom(73);
        for (int kind = 0; kind < 4; kind++) {
            float[] x = data(3 * 5 * 9 * 83, r, kind);
            Axis[] rank1 = {new Axis(83, 20, 4, 4, 1, 0, 0)};
            Tolerance.assertClose(avg(rank1, 135, x, false, true), avg(rank1, 135, x, false, false), 2 * Tolerance.REL,
                    "1-D 4 s4, kind " + kind);
            Axis[] rank3 = {new Axis(5, 3, 3, 2, 1, 1, 1), new Axis(9, 9, 5, 1, 1, 2, 2), new Axis(83, 83, 3, 1, 1, 1, 1)};
            Tolerance.assertClose(avg(rank3, 3, x, true, true), avg(rank3, 3, x, true, false), 2 * Tolerance.REL,
                    "3-D 3x5x3 s(2,1,1), kind " + kind);
        }
    }

    /**
     * Kind 0: uniform; 1: large values of both signs among small ones (sums that cancel); 2: with
     * NaNs and infinities; 3: {@link VecPlaneMaxTest#data}'s ties, zeros of both signs, all-zero or
     * constant.
     */
    private static float[] data(long count, SplittableRandom r, int kind) {
        if (kind == 3) {
            return VecPlaneMaxTest.data(count, r, 1 + r.nextInt(4));
        }
        float[] v = new float[Math.toIntExact(count)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
            int k = r.nextInt(50);
            if (kind == 1 && k < 3) {
                v[i] += k == 0 ? 3e7f : -3e7f;
            } else if (kind == 2 && k == 0) {
                v[i] = r.nextBoolean() ? Float.NaN : (r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY);
            }
        }
        return v;
    }

    private static float[] avg(Axis[] axes, int planes, float[] x, boolean includePad, boolean vector) {
        PlanePlan p = new PlanePlan(planes, axes);
        float[] y = new float[Math.toIntExact(planes * p.outPlane)];
        Arrays.fill(y, Float.NaN);
        // Exactly the input's and the output's bytes: a load or a store past either end throws.
        ByteBuffer raw = ChannelsFirstPoolTest.direct(x);
        ByteBuffer rawOut = ChannelsFirstPoolTest.direct(y);
        FloatBuffer out = rawOut.asFloatBuffer();
        new PlaneAvg(p, includePad, vector).run(raw, rawOut, raw.asFloatBuffer(), out, 0, p.bands(), Scratch.get());
        out.get(0, y);
        return y;
    }
}
