package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
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
 * {@link VecAvgBackward} (through {@link AvgBackwardRows#run(Tensor, Tensor, CpuBackward.Parallel)},
 * which sends the rows it cannot certify back to the scalar path) against its scalar twin, both
 * run directly on the same gradients: random geometries with either divisor rule (overlapping and
 * gapped windows, padding, ceil mode, dilation), channel counts with and without a tail, and
 * gradients that need the fallback (cancellation, infinities, NaNs). Both are within SEMANTICS.md's
 * tolerance of the exact gradient, so within twice it of each other; NaNs are the canonical one.
 */
class VecAvgBackwardTest {
    @BeforeEach
    void vectorKernels() {
        assumeTrue(VectorSupport.enabled(), "this JVM runs the scalar kernels only");
    }

    @RepeatedTest(30)
    void vecAvgBackward_randomGeometry_withinToleranceOfScalar(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(6600 + info.getCurrentRepetition());
        PoolSpec spec = VanHerkTest.randomSpec(r, PoolMode.AVG);
        Shape s = VecMaxWindowsTest.shape(r, spec);
        check(spec, s, info.getCurrentRepetition() % 3, r, spec + " on " + s);
    }

    @Test
    void vecAvgBackward_denseNetAndInceptionWindows_withinToleranceOfScalar() {
        SplittableRandom r = new SplittableRandom(66);
        check(PoolSpec.avg(2, 2).stride(2).build(), Shape.of(2, 8, 8, 35), 0, r, "2x2 s2");
        check(PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).build(), Shape.of(1, 7, 7, 64), 1, r, "3x3 s1 p1");
    }

    private static void check(PoolSpec spec, Shape s, int kind, SplittableRandom r, String what) {
        PoolGeometry g = spec.geometry(s);
        Tensor dy = VecAvgWindowsTest.data(g.output(), r, kind);
        CpuBackward.Inverse rows = new CpuBackward.Inverse(g.rows());
        CpuBackward.Inverse cols = new CpuBackward.Inverse(g.cols());
        Tensor scalar = Tensor.allocate(s);
        new AvgBackwardRows(g, rows, cols).run(dy.floats(), scalar.floats(), TestParallel.ONE_THREAD);
        Tensor vec = Tensor.allocate(s);
        new AvgBackwardRows(g, rows, cols).run(dy, vec, TestParallel.ONE_THREAD);
        float[] want = scalar.toArray();
        float[] got = vec.toArray();
        Tolerance.assertClose(got, want, 2 * Tolerance.REL, what + " data " + kind + " (vector vs scalar)");
        for (int i = 0; i < want.length; i++) {
            if (Float.isNaN(want[i])) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), what + ": NaN at " + i);
            }
        }
    }
}
