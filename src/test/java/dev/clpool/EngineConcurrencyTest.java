package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.clpool.testing.Fuzz;
import dev.clpool.testing.MixedOps;
import dev.clpool.testing.MixedOps.Op;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * One CPU engine shared by 8 threads x 200 mixed operations (random max, avg, lp and global
 * specs): every result bit-identical to a serial run. Closing the engine while operations run:
 * close() waits for them, later ones fail with IllegalStateException, nothing else happens.
 */
class EngineConcurrencyTest {
    private static final int THREADS = 8;
    private static final int PER_THREAD = 200;

    @Test
    void sharedCpuEngine_8threads_x200mixedOps_bitIdenticalToSerial() throws InterruptedException {
        long seed = Fuzz.caseSeed("concurrency/cpu", 0);
        List<Op> ops = MixedOps.anySpecs(seed, THREADS * PER_THREAD);
        for (int cpuThreads : new int[] {1, 4}) {
            try (PoolingEngine serialEngine = PoolingEngine.builder().backend(BackendChoice.CPU).cpuThreads(cpuThreads).build();
                 PoolingEngine shared = PoolingEngine.builder().backend(BackendChoice.CPU).cpuThreads(cpuThreads).build()) {
                List<int[]> expected = MixedOps.serial(serialEngine, ops);
                long ms = MixedOps.assertConcurrentMatches(shared, ops, expected, THREADS, seed,
                        "cpu engine (" + cpuThreads + " pool threads)");
                System.out.println("concurrency: cpu engine (" + cpuThreads + " pool threads), " + THREADS + " threads x "
                        + PER_THREAD + " mixed ops, bit-identical to serial, " + ms + " ms (seed " + seed + ")");
            }
        }
    }

    @Test
    void sharedCpuEngine_adaptiveIndicesAndBackward_fromManyThreads_bitIdenticalToSerial() throws Exception {
        long seed = Fuzz.caseSeed("concurrency/cpu-newer-ops", 0);
        List<Function<PoolingEngine, long[]>> jobs = newerOps(seed, THREADS * 50);
        try (PoolingEngine serial = PoolingEngine.builder().backend(BackendChoice.CPU).build();
             PoolingEngine shared = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            List<long[]> want = new ArrayList<>();
            for (Function<PoolingEngine, long[]> job : jobs) {
                want.add(job.apply(serial));
            }
            long[][] got = new long[jobs.size()][];
            List<Thread> threads = new ArrayList<>();
            java.util.Queue<Throwable> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
            for (int t = 0; t < THREADS; t++) {
                int first = t;
                Thread w = new Thread(() -> {
                    try {
                        for (int i = first; i < jobs.size(); i += THREADS) {
                            got[i] = jobs.get(i).apply(shared);
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                });
                threads.add(w);
                w.start();
            }
            for (Thread w : threads) {
                w.join();
            }
            if (!failures.isEmpty()) {
                throw new AssertionError("a thread failed", failures.peek());
            }
            for (int i = 0; i < jobs.size(); i++) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(want.get(i), got[i], "job " + i + " (seed " + seed + ")");
            }
            System.out.println("concurrency: cpu engine, " + THREADS + " threads x 50 adaptive/indices/backward ops,"
                    + " bit-identical to serial (seed " + seed + ")");
        }
    }

    /**
     * Adaptive avg and max, max with indices and max/avg backward on random inputs with NaN and
     * infinities: each job returns its result's raw bits (and indices).
     */
    static List<Function<PoolingEngine, long[]>> newerOps(long seed, int count) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        List<Function<PoolingEngine, long[]>> jobs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Shape s = Shape.of(1 + r.nextInt(2), 2 + r.nextInt(12), 2 + r.nextInt(12), 1 + r.nextInt(9));
            Tensor x = dev.clpool.testing.RandomCases.values(r, s, true);
            PoolSpec spec = PoolSpec.builder(r.nextBoolean() ? PoolMode.MAX : PoolMode.AVG).window(2).stride(1)
                    .padding(Padding.of(1)).countIncludePad(false).build();
            Tensor dy = dev.clpool.testing.RandomCases.values(r, spec.outputShape(s), true);
            int oh = 1 + r.nextInt(s.h() + 3);
            int ow = 1 + r.nextInt(s.w() + 3);
            switch (i % 4) {
                case 0 -> jobs.add(e -> longs(MixedOps.bits(e.adaptive(PoolMode.AVG, x, oh, ow)), null));
                case 1 -> jobs.add(e -> longs(MixedOps.bits(e.adaptive(PoolMode.MAX, x, oh, ow)), null));
                case 2 -> jobs.add(e -> {
                    PooledWithIndices p = e.poolWithIndices(x, PoolSpec.max(2, 2).stride(1).padding(Padding.of(1)).build());
                    long[] idx = new long[Math.toIntExact(p.indices().shape().elementCount())];
                    p.indices().longs().get(idx);
                    return longs(MixedOps.bits(p.values()), idx);
                });
                default -> jobs.add(e -> longs(MixedOps.bits(e.backward(x, dy, spec)), null));
            }
        }
        return jobs;
    }

    private static long[] longs(int[] bits, long[] more) {
        long[] out = new long[bits.length + (more == null ? 0 : more.length)];
        for (int i = 0; i < bits.length; i++) {
            out[i] = bits[i];
        }
        if (more != null) {
            System.arraycopy(more, 0, out, bits.length, more.length);
        }
        return out;
    }

    @Test
    void closingACpuEngine_whileOperationsRun_waitsOrRefusesCleanly() throws InterruptedException {
        List<Op> ops = MixedOps.anySpecs(Fuzz.caseSeed("concurrency/cpu-close", 0), 64);
        List<int[]> expected;
        try (PoolingEngine serial = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            expected = MixedOps.serial(serial, ops);
        }
        for (int round = 0; round < 5; round++) {
            PoolingEngine engine = PoolingEngine.builder().backend(BackendChoice.CPU).cpuThreads(2).build();
            MixedOps.CloseOutcome o = MixedOps.closeWhileInFlight(engine, ops, expected, THREADS, "cpu close round " + round);
            if (round == 0) {
                System.out.println("concurrency: closed a cpu engine under " + THREADS + " threads: " + o.completed()
                        + " ops completed, " + o.refused() + " refused with IllegalStateException");
            }
        }
    }

    @Test
    void nanAverages_repeatBitForBit_acrossJitTiers() {
        // Regression: +inf + -inf + NaN summed to 0x7fc00000 while interpreted and 0xffc00000 once
        // compiled (HotSpot may swap an add's operands; x86 keeps the first NaN), so the same call
        // on the same input changed bits after a few thousand runs; averages now return the
        // canonical NaN.
        Tensor x = Tensor.of(Shape.of(1, 1, 3, 1), Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN);
        PoolSpec avg = PoolSpec.avg(1, 3).build();
        try (PoolingEngine engine = PoolingEngine.builder().backend(BackendChoice.CPU).cpuThreads(1).build()) {
            for (int i = 0; i < 30_000; i++) {
                int g = Float.floatToRawIntBits(engine.globalAvg(x).toArray()[0]);
                int p = Float.floatToRawIntBits(engine.pool(x, avg).toArray()[0]);
                if (g != 0x7fc00000 || p != 0x7fc00000) {
                    throw new AssertionError("run " + i + ": global avg 0x" + Integer.toHexString(g) + ", avg pool 0x"
                            + Integer.toHexString(p) + ", expected the canonical NaN 0x7fc00000");
                }
            }
        }
    }

    @Test
    void anEngineUsedAfterClose_refusesEveryOperation() {
        PoolingEngine engine = PoolingEngine.builder().backend(BackendChoice.CPU).build();
        Tensor x = Tensor.allocate(Shape.of(1, 4, 4, 1));
        engine.close();
        assertThrows(IllegalStateException.class, () -> engine.pool(x, PoolSpec.max(2, 2).build()));
        assertThrows(IllegalStateException.class, () -> engine.globalAvg(x));
        assertThrows(IllegalStateException.class, () -> engine.globalMax(x));
        engine.close();
    }
}
