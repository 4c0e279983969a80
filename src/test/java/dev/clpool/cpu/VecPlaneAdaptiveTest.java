package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.Tolerance;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link VecPlaneAdaptive} (through {@link PlaneAdaptiveAvg} with vectors, which sums a unit it
 * cannot certify in double) against {@link PlaneAdaptiveAvg}'s double sums, both run directly on
 * the same one-channel planes: outputs that shrink and grow the plane (regions of one element,
 * overlapping regions, up to three sizes per axis), group counts with and without a tail of the
 * vector length, planes split into bands, and data that needs the fallback (cancellation,
 * infinities, NaNs). The double sums round once, so the vector path must be within SEMANTICS.md's
 * tolerance of them; NaNs are the canonical one.
 */
class VecPlaneAdaptiveTest {
    /** Planes, input h, w, output h, w. */
    private static final int[][] SIZES = {{37, 10, 10, 7, 7}, {5, 13, 13, 6, 6}, {3, 4, 5, 9, 11}, {2, 11, 7, 3, 2},
        {1, 120, 90, 100, 9}, {3, 1, 17, 1, 5}};

    @BeforeEach
    void vectorKernels() {
        assumeTrue(VectorSupport.enabled(), "this JVM runs the scalar kernels only");
    }

    @Test
    void adaptiveAvg_everySize_withinToleranceOfTheDoubleSums() {
        SplittableRandom r = new SplittableRandom(88);
        for (int[] size : SIZES) {
            for (int kind = 0; kind < 3; kind++) {
                Shape s = Shape.of(size[0], size[1], size[2], 1);
                Tensor x = VecAvgWindowsTest.data(s, r, kind);
                AdaptiveGeometry g = AdaptiveGeometry.of(PoolMode.AVG, s, size[3], size[4]);
                Tensor scalar = Tensor.allocate(g.output());
                Tensor vec = Tensor.allocate(g.output());
                CpuAdaptive.run(g, x, scalar, TestParallel.ONE_THREAD, true, false);
                CpuAdaptive.run(g, x, vec, TestParallel.ONE_THREAD, true, true);
                String what = s + " to " + size[3] + "x" + size[4] + ", data " + kind;
                float[] want = scalar.toArray();
                float[] got = vec.toArray();
                Tolerance.assertClose(got, want, Tolerance.REL, what + " (vector vs double sums)");
                for (int i = 0; i < want.length; i++) {
                    if (Float.isNaN(want[i])) {
                        assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                                what + ": NaN at " + i);
                    }
                }
            }
        }
    }
}
