package dev.clpool;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * A by-hand sanity check, not a test and not a benchmark: does a loop of allocating calls whose
 * results are closed cost about what the into-existing form costs? Prints the median milliseconds
 * per call of each form (and of allocating calls whose results are dropped), alternating the forms
 * round by round. Run after {@code mvn -o test-compile}:
 *
 * <pre>
 * mvn -q -o dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp target/classes:target/test-classes:$(cat /tmp/cp.txt) dev.clpool.SteadyStateCheck [rounds]
 * </pre>
 *
 * The shape is 32×112×112×64 float32 (max 3×3 s2 p1: a 25.7 MB output) on the CPU path.
 */
public final class SteadyStateCheck {
    private static final int CALLS = 5;

    private SteadyStateCheck() {
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        Shape s = Shape.of(32, 112, 112, 64);
        float[] v = new float[Math.toIntExact(s.elementCount())];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        Tensor x = Tensor.of(s, v);
        PoolSpec spec = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
        Shape os = spec.outputShape(s);
        Tensor dy = Tensor.of(os, Arrays.copyOf(v, Math.toIntExact(os.elementCount())));
        // Dropped results run on an engine of their own: a dropped result keeps the block it took
        // until the collector finds it, which on a shared engine would leave the closed form
        // without an idle one now and then.
        try (PoolingEngine e = PoolingEngine.builder().backend(BackendChoice.CPU).build();
             PoolingEngine d = PoolingEngine.builder().backend(BackendChoice.CPU).build();
             Tensor out = Tensor.allocate(os);
             Tensor dx = Tensor.allocate(s);
             Tensor adaptiveOut = Tensor.allocate(Shape.of(32, 7, 7, 64));
             Tensor globalOut = Tensor.allocate(Shape.of(32, 1, 1, 64));
             Indices idx = Indices.allocate(os, IndexConvention.NHWC)) {
            System.out.println("CPU path, " + e.backendDescription() + ", input " + s + ", median ms per call of "
                    + rounds + " rounds x " + CALLS + " calls");
            System.out.printf("%-16s %12s %12s %12s%n", "operation", "into", "closed", "dropped");
            row(rounds, "pool", () -> e.pool(x, spec, out), () -> e.pool(x, spec), () -> d.pool(x, spec));
            row(rounds, "poolWithIndices", () -> e.poolWithIndices(x, spec, IndexConvention.NHWC, out, idx),
                    () -> e.poolWithIndices(x, spec), () -> d.poolWithIndices(x, spec));
            row(rounds, "backward max", () -> e.backward(x, dy, spec, dx), () -> e.backward(x, dy, spec),
                    () -> d.backward(x, dy, spec));
            row(rounds, "adaptiveAvg 7x7", () -> e.adaptive(PoolMode.AVG, x, 7, 7, adaptiveOut),
                    () -> e.adaptiveAvg(x, 7, 7), () -> d.adaptiveAvg(x, 7, 7));
            row(rounds, "globalAvg", () -> e.global(PoolMode.AVG, x, globalOut), () -> e.globalAvg(x),
                    () -> d.globalAvg(x));
            // Closed results reuse a handful of blocks; dropped ones come back when the pool, at its
            // bound, nudges the collector (a fresh block per call where LWJGL's JNI library is missing).
            System.out.println("host blocks allocated: closed results " + e.resident().memory().allocatedBlocks()
                    + ", dropped results " + d.resident().memory().allocatedBlocks());
        }
    }

    /** Alternates the three forms round by round; prints the median of each. */
    private static void row(int rounds, String name, Runnable into, Supplier<AutoCloseable> allocating,
                            Runnable dropping) {
        double[][] ms = new double[3][rounds];
        for (int k = -1; k < rounds; k++) { // round -1 warms up
            // The order turns each round, so no form always runs after the dropped results' garbage.
            for (int j = 0; j < 3; j++) {
                int form = (j + Math.max(k, 0)) % 3;
                double t = time(form == 0 ? into : form == 1 ? () -> close(allocating.get()) : dropping);
                if (k >= 0) {
                    ms[form][k] = t;
                }
            }
        }
        System.out.printf("%-16s %12.2f %12.2f %12.2f%n", name, median(ms[0]), median(ms[1]), median(ms[2]));
    }

    private static double time(Runnable call) {
        long t0 = System.nanoTime();
        for (int i = 0; i < CALLS; i++) {
            call.run();
        }
        return (System.nanoTime() - t0) / 1e6 / CALLS;
    }

    private static void close(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ex) {
            throw new IllegalStateException(ex);
        }
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
