package dev.clpool.cpu;

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
 * {@link VecMaxWindows} against its scalar twin {@link MaxWindows} (and the naive reference), bit
 * for bit, both run directly on the same inputs: random geometries (strides, dilations, padding,
 * ceil mode), channel counts that fill one vector, several, four and a tail, and enough to be
 * reduced tap by tap, on signed zeros with NaNs of distinct payloads, ties, all-zero and constant
 * data.
 */
class VecMaxWindowsTest {
    @BeforeEach
    void vectorKernels() {
        assumeTrue(VectorSupport.enabled(), "this JVM runs the scalar kernels only");
    }

    @RepeatedTest(30)
    void vecMax_randomGeometry_bitIdenticalToScalarAndReference(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(4400 + info.getCurrentRepetition());
        PoolSpec spec = VanHerkTest.randomSpec(r, PoolMode.MAX);
        Shape s = shape(r, spec);
        int kind = info.getCurrentRepetition() % 4;
        Tensor x = kind < 2 ? CpuFastPathTest.zerosAndNans(s, info.getCurrentRepetition(), kind == 0) : ties(s, r);
        check(spec, s, x, spec + " on " + s + " data " + kind);
    }

    @RepeatedTest(8)
    void vecMax_manyChannels_tapByTap_bitIdenticalToScalarAndReference(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(4500 + info.getCurrentRepetition());
        PoolSpec spec = VanHerkTest.randomSpec(r, PoolMode.MAX);
        Shape small = shape(r, spec);
        // From VecMaxWindows.TAP_MAJOR_CHANNELS up, with and without a tail vector.
        Shape s = Shape.of(small.n(), small.h(), small.w(), VecMaxWindows.TAP_MAJOR_CHANNELS + r.nextInt(48));
        int kind = info.getCurrentRepetition() % 4;
        Tensor x = kind < 2 ? CpuFastPathTest.zerosAndNans(s, info.getCurrentRepetition(), kind == 0) : ties(s, r);
        check(spec, s, x, spec + " on " + s + " data " + kind);
        check(PoolSpec.max(2, 2).stride(2).build(), s, x, "2x2 s2 on " + s + " data " + kind);
    }

    @Test
    void vecMax_twoByTwo_everyOrderOfNansZerosAndInfinities_bitIdenticalToScalarAndReference() {
        Tensor x = VecTestData.everyFourTapOrder();
        Shape s = x.shape();
        check(PoolSpec.max(2, 2).stride(2).build(), s, x, "every order of four taps");
        check(PoolSpec.max(2, 2).stride(1).ceilMode(true).build(), s, x, "2x2 s1 over every order of four taps");
    }

    @Test
    void vecMax_allZeroConstantAndSignedZeroRows_keepTheFirstZeroOrValue() {
        Shape s = Shape.of(2, 7, 9, 37);
        PoolSpec k3 = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).ceilMode(true).build();
        PoolSpec k2 = PoolSpec.max(2, 2).stride(2).build();
        float[] minusZero = new float[Math.toIntExact(s.elementCount())];
        Arrays.fill(minusZero, -0.0f);
        float[] constant = new float[minusZero.length];
        Arrays.fill(constant, 0.75f);
        // -0 in even rows then +0: every window's first zero in scan order is -0 where it starts on an even row.
        float[] rows = new float[minusZero.length];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = (i / (s.w() * s.c())) % 2 == 0 ? -0.0f : 0.0f;
        }
        for (PoolSpec spec : new PoolSpec[] {k3, k2}) {
            check(spec, s, Tensor.allocate(s), "all +0, " + spec);
            check(spec, s, Tensor.of(s, minusZero), "all -0, " + spec);
            check(spec, s, Tensor.of(s, constant), "constant, " + spec);
            check(spec, s, Tensor.of(s, rows), "-0 rows then +0 rows, " + spec);
        }
    }

    @Test
    void fits_needsOneVectorOfChannels_andTheBackendKeepsFewChannelsScalar() {
        assertFalse(VectorSupport.fits(1));
        assertFalse(VectorSupport.fits(15));
        assertTrue(VectorSupport.fits(16));
        // Few channels (and the one-channel views) stay on the scalar path through MaxWindows.run.
        Shape s = Shape.of(1, 12, 12, 3);
        PoolSpec spec = PoolSpec.max(2, 2).stride(2).build();
        Tensor x = CpuFastPathTest.zerosAndNans(s, 5, true);
        Tensor y = Tensor.allocate(spec.outputShape(s));
        PoolGeometry g = spec.geometry(s);
        new MaxWindows(g).run(x, y, 0, g.output().n() * g.output().h(), Scratch.get());
        Tolerance.assertExact(y.toArray(), NaiveReference.pool(x.toArray(), s, spec), "3 channels");
    }

    /**
     * An input at least one effective window tall and wide (up to 5 more), with 16 to 75 channels:
     * one vector, several, four and more, with and without a tail.
     */
    static Shape shape(SplittableRandom r, PoolSpec spec) {
        int eh = (spec.windowH() - 1) * spec.dilationH() + 1;
        int ew = (spec.windowW() - 1) * spec.dilationW() + 1;
        return Shape.of(1 + r.nextInt(2), eh + r.nextInt(6), ew + r.nextInt(6), 16 + r.nextInt(60));
    }

    /** Small integers: many equal maxima in a window, among them zeros of both signs. */
    private static Tensor ties(Shape s, SplittableRandom r) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            int k = r.nextInt(4) - 2;
            v[i] = k == 0 && r.nextBoolean() ? -0.0f : k;
        }
        return Tensor.of(s, v);
    }

    private static void check(PoolSpec spec, Shape s, Tensor x, String what) {
        PoolGeometry g = spec.geometry(s);
        int rows = g.output().n() * g.output().h();
        Tensor scalar = Tensor.allocate(g.output());
        new MaxWindows(g).run(x.floats(), scalar.floats(), 0, rows, Scratch.get());
        Tensor vec = Tensor.allocate(g.output());
        WindowPlan p = new WindowPlan(g);
        // In two ranges, the first ending inside a batch item, as the backend's chunks may.
        int cut = rows / 2 + 1;
        VecMaxWindows.run(x.buffer(), vec.buffer(), p, 0, Math.min(cut, rows));
        VecMaxWindows.run(x.buffer(), vec.buffer(), p, Math.min(cut, rows), rows);
        Tolerance.assertBitIdentical(vec.toArray(), scalar.toArray(), what + " (vector vs scalar)");
        Tolerance.assertExact(vec.toArray(), NaiveReference.pool(x.toArray(), s, spec), what + " (vector vs reference)");
    }
}
