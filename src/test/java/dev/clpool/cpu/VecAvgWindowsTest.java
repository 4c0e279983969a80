package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.NaiveReference;
import dev.clpool.testing.Tolerance;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * {@link VecAvgWindows} (through {@link AvgWindows#run(Tensor, Tensor, int, int, Scratch)}, which
 * sends the rows it cannot certify back to the scalar path) against its scalar twin and the
 * double reference, within SEMANTICS.md's tolerance, both run directly on the same inputs: random
 * geometries with either divisor rule, channel counts with and without a tail, and data that
 * needs the fallback (heavy cancellation, infinities, NaNs), all-zero, −0 and constant data.
 */
class VecAvgWindowsTest {
    @BeforeEach
    void vectorKernels() {
        assumeTrue(VectorSupport.enabled(), "this JVM runs the scalar kernels only");
    }

    @RepeatedTest(30)
    void vecAvg_randomGeometry_withinToleranceOfScalarAndReference(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(5500 + info.getCurrentRepetition());
        PoolSpec spec = VanHerkTest.randomSpec(r, PoolMode.AVG);
        Shape s = VecMaxWindowsTest.shape(r, spec);
        int kind = info.getCurrentRepetition() % 3;
        check(spec, s, data(s, r, kind), spec + " on " + s + " data " + kind);
    }

    @Test
    void vecAvg_zeroMinusZeroAndConstantWindows_averageToThatValueExactly() {
        Shape s = Shape.of(2, 7, 9, 37);
        PoolSpec spec = PoolSpec.avg(3, 3).stride(2).padding(Padding.of(1)).ceilMode(true).countIncludePad(false).build();
        float[] minusZero = new float[Math.toIntExact(s.elementCount())];
        Arrays.fill(minusZero, -0.0f);
        float[] constant = new float[minusZero.length];
        Arrays.fill(constant, 0.375f);
        for (float[] v : new float[][] {new float[minusZero.length], minusZero, constant}) {
            Tensor x = Tensor.of(s, v);
            // Sums of up to 9 equal terms are exact, and so is their division by the count.
            float[] got = vector(spec, s, x);
            for (int i = 0; i < got.length; i++) {
                assertTrue(got[i] == v[0], "constant " + v[0] + ": element " + i + " is " + got[i]);
            }
        }
    }

    /**
     * Windows whose rows overlap read a ring of staged input rows ({@link AvgWindows#sharesRows}):
     * rows wider than one column block (512 channels, 70 columns), a dilated 3×3, include-pad, and
     * rows redone on the scalar path between rows that still read the ring (a cancelling sum, an
     * infinity, a NaN and a window of −0 placed in the middle of the tensor).
     */
    @Test
    void vecAvg_overlappingRows_stagedRing_matchesScalarAndReference() {
        SplittableRandom r = new SplittableRandom(77);
        PoolSpec[] specs = {
            PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).build(),
            PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).countIncludePad(true).build(),
            PoolSpec.avg(3, 2).stride(2, 1).dilation(2, 1).build(),
            PoolSpec.avg(5, 3).stride(3, 2).padding(Padding.of(2)).ceilMode(true).build(),
        };
        Shape[] shapes = {Shape.of(2, 6, 70, 512), Shape.of(1, 9, 11, 40)};
        for (PoolSpec spec : specs) {
            for (Shape s : shapes) {
                assertTrue(new AvgWindows(spec.geometry(s), true).sharesRows(), spec + " shares rows");
                float[] v = data(s, r, 0).toArray();
                int mid = Math.toIntExact(s.offset(s.n() - 1, s.h() / 2, s.w() / 2, 0));
                v[mid] = 3e7f;
                v[mid + s.c()] = -3e7f;
                v[mid + 1] = Float.POSITIVE_INFINITY;
                v[mid + 2] = Float.NaN;
                int row = Math.toIntExact(s.offset(0, 1, 0, 0));
                Arrays.fill(v, row, row + 3 * s.c(), -0.0f);
                check(spec, s, Tensor.of(s, v), spec + " on " + s);
            }
        }
        // A ring of the window's rows beyond 4 MB: the direct reading.
        PoolSpec dilated = PoolSpec.avg(3, 3).stride(1).dilation(40, 1).padding(Padding.of(1)).build();
        Shape wide = Shape.of(1, 83, 110, 128);
        assertFalse(new AvgWindows(dilated.geometry(wide), true).sharesRows(), "ring too large");
        check(dilated, wide, data(wide, r, 2), dilated + " on " + wide);
    }

    @Test
    void row_cancellationOrInfinity_isNotCertified_andTheRowIsRedone() {
        Shape s = Shape.of(1, 4, 4, 16);
        PoolSpec spec = PoolSpec.avg(2, 2).stride(2).build();
        PoolGeometry g = spec.geometry(s);
        WindowPlan p = new WindowPlan(g);
        float[] divisor = {4f, 4f};
        AvgWindows avg = new AvgWindows(g, true);
        float[] perB = {avg.boundPerB(0, 0, 4, 3), avg.boundPerB(0, 1, 4, 3)};
        int[] at = new int[4];
        int[] rowAt = {0, s.w() * s.c() * Float.BYTES};
        float[] v = new float[Math.toIntExact(s.elementCount())];
        Arrays.fill(v, 0.5f);
        Tensor y = Tensor.allocate(g.output());
        assertTrue(VecAvgWindows.row(Tensor.of(s, v).buffer(), rowAt, y.buffer(), 0, p, 0, divisor, perB, 0, at), "benign");
        // 1e8 + 1 - 1e8 + 0: the float sum loses the 1 (averages 0 instead of 0.25).
        v[0] = 1e8f;
        v[1] = 1f;
        v[s.c()] = -1e8f;
        Tensor cancel = Tensor.of(s, v);
        assertFalse(VecAvgWindows.row(cancel.buffer(), rowAt, y.buffer(), 0, p, 0, divisor, perB, 0, at), "cancellation");
        assertEquals(0.25f, vector(spec, s, cancel)[0], 0f, "redone in double");
        v[0] = Float.POSITIVE_INFINITY;
        assertFalse(VecAvgWindows.row(Tensor.of(s, v).buffer(), rowAt, y.buffer(), 0, p, 0, divisor, perB, 0, at), "infinity");
    }

    /**
     * Kind 0: uniform in [-1, 1]; 1: a few large values of both signs among small ones (sums that
     * cancel, which the certificate must catch); 2: as 0 with sparse infinities and NaNs. Also
     * the gradients of {@link VecAvgBackwardTest}.
     */
    static Tensor data(Shape s, SplittableRandom r, int kind) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
            int k = r.nextInt(50);
            if (kind == 1 && k < 3) {
                v[i] = (k == 0 ? 3e7f : -3e7f) + v[i];
            } else if (kind == 2 && k == 0) {
                v[i] = r.nextBoolean() ? Float.NaN : (r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY);
            }
        }
        return Tensor.of(s, v);
    }

    private static void check(PoolSpec spec, Shape s, Tensor x, String what) {
        float[] vec = vector(spec, s, x);
        float[] ref = scalar(spec, s, x);
        Tolerance.assertClose(vec, NaiveReference.pool(x.toArray(), s, spec), what + " (vector vs reference)");
        Tolerance.assertClose(vec, ref, 2 * Tolerance.REL, what + " (vector vs scalar)");
        for (int i = 0; i < ref.length; i++) {
            if (Float.isNaN(ref[i])) {
                assertEquals(Float.floatToRawIntBits(ref[i]), Float.floatToRawIntBits(vec[i]), what + ": canonical NaN at " + i);
            }
        }
    }

    private static float[] scalar(PoolSpec spec, Shape s, Tensor x) {
        PoolGeometry g = spec.geometry(s);
        Tensor y = Tensor.allocate(g.output());
        new AvgWindows(g, true).run(x.floats(), y.floats(), 0, g.output().n() * g.output().h(), Scratch.get());
        return y.toArray();
    }

    private static float[] vector(PoolSpec spec, Shape s, Tensor x) {
        PoolGeometry g = spec.geometry(s);
        Tensor y = Tensor.allocate(g.output());
        AvgWindows avg = new AvgWindows(g, true);
        int rows = g.output().n() * g.output().h();
        int cut = rows / 2 + 1;
        avg.run(x, y, 0, Math.min(cut, rows), Scratch.get());
        avg.run(x, y, Math.min(cut, rows), rows, Scratch.get());
        return y.toArray();
    }
}
