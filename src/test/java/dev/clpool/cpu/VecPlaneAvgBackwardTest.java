package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.Padding;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.Tolerance;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * {@link VecPlaneAvgBackward} (through {@link PlaneBackward} with vectors, which sends the bands it
 * cannot certify back to its double sums) against {@link PlaneBackward}'s scalar average, both run
 * directly on the same gradients of one-channel planes: random geometries with either divisor rule
 * (overlapping and gapped windows, padding, ceil mode, dilation), widths with and without a tail
 * of the vector length, planes of several bands, and gradients that need the fallback
 * (cancellation, infinities, NaNs). The scalar sums are double, rounded once, so the vector path
 * must be within SEMANTICS.md's tolerance of them; NaNs are the canonical one.
 */
class VecPlaneAvgBackwardTest {
    @BeforeEach
    void vectorKernels() {
        assumeTrue(VectorSupport.enabled(), "this JVM runs the scalar kernels only");
    }

    @RepeatedTest(30)
    void avgBackward_randomGeometry_withinToleranceOfScalar(RepetitionInfo info) {
        int rep = info.getCurrentRepetition();
        SplittableRandom r = new SplittableRandom(7700 + rep);
        PoolSpec max = CpuArgmaxTest.randomSpec(r, rep % 2 == 0);
        PoolSpec spec = PoolSpec.avg(max.windowH(), max.windowW()).stride(max.strideH(), max.strideW())
                .dilation(max.dilationH(), max.dilationW()).padding(max.padding()).ceilMode(max.ceilMode())
                .countIncludePad(r.nextBoolean()).build();
        Shape s = rep % 10 == 0 ? Shape.of(1, 130 + r.nextInt(20), 120 + r.nextInt(20), 1)
                : Shape.of(1 + r.nextInt(4), 5 + r.nextInt(20), 12 + r.nextInt(30), 1);
        check(spec, s, rep % 3, r, spec + " on " + s);
    }

    @Test
    void avgBackward_denseNetAndInceptionWindows_withinToleranceOfScalar() {
        SplittableRandom r = new SplittableRandom(77);
        check(PoolSpec.avg(2, 2).stride(2).build(), Shape.of(3, 56, 56, 1), 0, r, "2x2 s2");
        check(PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).build(), Shape.of(2, 17, 35, 1), 1, r, "3x3 s1 p1");
        check(PoolSpec.avg(3, 3).stride(2).padding(Padding.of(1)).countIncludePad(true).build(), Shape.of(2, 16, 16, 1),
                2, r, "3x3 s2 p1");
    }

    @Test
    void avgBackward_cancellingColumnTaps_oneOutputRowPerInputRow_fallsBackToDouble() {
        // One output row per input row, 4 column taps: each gradient sums ±25000 quotients that cancel.
        PoolSpec spec = PoolSpec.avg(3, 4).stride(3, 1).build();
        Shape s = Shape.of(2, 9, 40, 1);
        float[] dy = new float[Math.toIntExact(spec.outputShape(s).elementCount())];
        SplittableRandom r = new SplittableRandom(78);
        for (int i = 0; i < dy.length; i++) {
            dy[i] = (i % 2 == 0 ? 3e5f : -3e5f) + (float) r.nextDouble(-1, 1);
        }
        check(spec, s, Tensor.of(spec.outputShape(s), dy), "cancelling 3x4 s(3,1)");
    }

    private static void check(PoolSpec spec, Shape s, int kind, SplittableRandom r, String what) {
        check(spec, s, VecAvgWindowsTest.data(spec.outputShape(s), r, kind), what + " data " + kind);
    }

    private static void check(PoolSpec spec, Shape s, Tensor dy, String what) {
        Tensor scalar = Tensor.allocate(s);
        Tensor vec = Tensor.allocate(s);
        CpuBackward.run(spec.geometry(s), null, dy, scalar, TestParallel.ONE_THREAD, true, false);
        CpuBackward.run(spec.geometry(s), null, dy, vec, TestParallel.ONE_THREAD, true, true);
        float[] want = scalar.toArray();
        float[] got = vec.toArray();
        Tolerance.assertClose(got, want, Tolerance.REL, what + " (vector vs scalar)");
        for (int i = 0; i < want.length; i++) {
            if (Float.isNaN(want[i])) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), what + ": NaN at " + i);
            }
        }
    }
}
