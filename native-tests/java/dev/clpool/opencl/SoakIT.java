package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.BindingChoice;
import dev.clpool.DeviceAvailability;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.cpu.CpuBackend;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.Tolerance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A long run on one device backend, bounded in time ({@code -Dclpool.soak.seconds}, default 10):
 * thousands of operations with varied shapes and specs, some rare enough that the program cache
 * (made small here, 12 programs) evicts and rebuilds all the time. The live native-object count
 * stays within what the cache can hold (every per-call buffer released), the cache never exceeds
 * its capacity (idle buffers kept for reuse are released before each count), the process RSS stays flat after warm-up (where /proc exists), results stay right,
 * and close() leaves nothing.
 */
class SoakIT {
    private static final int CAPACITY = 12;
    private static final boolean TRACE = Boolean.getBoolean("clpool.soak.trace");
    private static final long RSS_GROWTH_LIMIT_KIB = 48 * 1024;
    /**
     * The unexplained growth this soak shows on PoCL, about 6-8 KiB per operation (docs/limits.md),
     * allowed with a margin: a leaked buffer or program per operation is far more.
     */
    private static final long RSS_GROWTH_PER_OP_KIB = 12;

    @Test
    void thousandsOfOperations_keepNativeObjects_programCache_andRss_flat() throws Exception {
        DeviceAvailability.requireDevice();
        // The process RSS grows by about 6-8 KiB per operation here while every native object clpool
        // creates is released (the same on the commit before this round's work, run alone: +105 MiB
        // in 30 s): not yet explained (docs/limits.md), so the check allows that rate on top of a
        // constant. Longer runs: -Dclpool.soak.seconds=N.
        long seconds = Long.getLong("clpool.soak.seconds", 10);
        ClDevice device = OpenClDevices.choose(Bindings.require(BindingChoice.AUTO), -1);
        SplittableRandom r = new SplittableRandom(20_260_101);

        // Hot: the specs and shapes most operations use; they fit the cache (with C in {3, 4}: two
        // vector widths, so 4 pool programs x 2 + 2 global programs x 2, minus lp's one width = 11).
        List<Shape> shapes = List.of(Shape.of(1, 17, 17, 4), Shape.of(2, 9, 13, 3), Shape.of(4, 8, 8, 4),
                Shape.of(1, 32, 24, 3), Shape.of(3, 11, 7, 4), Shape.of(1, 5, 40, 3));
        List<PoolSpec> hot = List.of(
                PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(),
                PoolSpec.avg(2, 2).build(),
                PoolSpec.avg(3, 3).stride(1).padding(Padding.SAME).countIncludePad(true).build(),
                PoolSpec.builder(PoolMode.LP).window(2, 3).stride(1).p(2).build());
        // Rare: twelve more specs on two more shapes (other vector widths): each use evicts and
        // later rebuilds programs, so the cache churns for the whole run.
        List<Shape> rareShapes = List.of(Shape.of(1, 11, 7, 8), Shape.of(2, 6, 19, 2));
        List<PoolSpec> rare = new ArrayList<>();
        for (int k = 1; k <= 4; k++) {
            for (PoolMode m : PoolMode.values()) {
                rare.add(PoolSpec.builder(m).window(k, 5 - k).stride(1 + k % 2, 2).dilation(1 + (k + m.ordinal()) % 2)
                        .ceilMode(k % 2 == 0).padding(k == 3 ? Padding.SAME_LOWER : Padding.VALID).build());
            }
        }
        Map<Shape, Tensor> inputs = new HashMap<>();
        for (Shape s : shapes) {
            inputs.put(s, RandomCases.values(r, s, true));
        }
        for (Shape s : rareShapes) {
            inputs.put(s, RandomCases.values(r, s, true));
        }

        OpenClBackend backend = OpenClBackend.open(device, OpenClBackend.Options.DEFAULT,
                OpenClBackend.Tuning.fromSystem(), CAPACITY);
        long bound = 2 + 3L * CAPACITY; // context + queue + each cached program with at most two kernels
        try (CpuBackend cpu = new CpuBackend(1)) {
            long t0 = System.nanoTime();
            // Warm-up: every spec on its shapes once (kernel builds, PoCL work-group variants, JIT).
            int ops = 0;
            for (Shape s : shapes) {
                for (PoolSpec spec : hot) {
                    ops += run(backend, cpu, spec, inputs.get(s), true) ? 1 : 0;
                }
                global(backend, cpu, PoolMode.AVG, inputs.get(s), true);
                global(backend, cpu, PoolMode.MAX, inputs.get(s), true);
                ops += 2;
            }
            for (Shape s : rareShapes) {
                for (PoolSpec spec : rare) {
                    ops += run(backend, cpu, spec, inputs.get(s), true) ? 1 : 0;
                }
            }
            long warmMs = (System.nanoTime() - t0) / 1_000_000;
            backend.releaseIdleBuffers();
            settle();
            long live0 = backend.nativeObjects().live();
            OptionalLong rss0 = rssKib();
            long created0 = backend.nativeObjects().createdTotal();

            long start = System.nanoTime();
            long deadline = start + seconds * 1_000_000_000L;
            // RSS is compared from a fifth into the timed run: by then the heap, the JIT's code and
            // the OpenCL runtime have reached their working size (they grow for the first
            // thousands of operations), and what still grows is what leaks.
            long baselineAt = start + seconds * 200_000_000L;
            OptionalLong rssBase = OptionalLong.empty();
            int baseOps = 0;
            long maxLive = live0;
            int maxCached = backend.cachedPrograms();
            int soakOps = 0;
            while (System.nanoTime() < deadline) {
                for (int i = 0; i < 100; i++, soakOps++) {
                    Tensor x = inputs.get(shapes.get(r.nextInt(shapes.size())));
                    boolean check = soakOps % 97 == 0;
                    int dice = r.nextInt(100);
                    if (dice < 3) {
                        Tensor y = inputs.get(rareShapes.get(r.nextInt(rareShapes.size())));
                        run(backend, cpu, rare.get(r.nextInt(rare.size())), y, check);
                    } else if (dice < 10) {
                        global(backend, cpu, r.nextBoolean() ? PoolMode.AVG : PoolMode.MAX, x, check);
                    } else {
                        run(backend, cpu, hot.get(r.nextInt(hot.size())), x, check);
                    }
                }
                if (rssBase.isEmpty() && System.nanoTime() >= baselineAt) {
                    settle();
                    rssBase = rssKib();
                    baseOps = soakOps;
                    if (rssBase.isEmpty()) {
                        rssBase = OptionalLong.of(-1);
                    }
                }
                if (TRACE && soakOps % 2000 == 0) {
                    System.out.println("soak trace: " + soakOps + " ops, RSS " + rssKib() + " KiB, live " + backend.nativeObjects());
                }
                // Idle buffers kept for reuse are device memory on purpose: released before each
                // check, so what is counted is what would otherwise leak.
                backend.releaseIdleBuffers();
                maxLive = Math.max(maxLive, backend.nativeObjects().live());
                maxCached = Math.max(maxCached, backend.cachedPrograms());
                assertTrue(backend.cachedPrograms() <= CAPACITY, "program cache above its capacity: " + backend.cachedPrograms());
                assertTrue(backend.nativeObjects().live() <= bound, "native objects beyond what the cache can hold: "
                        + backend.nativeObjects() + " (bound " + bound + ")");
            }
            backend.releaseIdleBuffers();
            settle();
            long live1 = backend.nativeObjects().live();
            OptionalLong rss1 = rssKib();
            long createdDuring = backend.nativeObjects().createdTotal() - created0;
            backend.close();
            assertEquals(0, backend.nativeObjects().live(), "after close: " + backend.nativeObjects());

            boolean haveRss = rss0.isPresent() && rss1.isPresent() && rssBase.orElse(-1) >= 0;
            String rss = haveRss
                    ? "after warm-up " + (rss0.getAsLong() / 1024) + " MiB, after " + baseOps + " timed ops "
                            + (rssBase.getAsLong() / 1024) + " MiB, at end " + (rss1.getAsLong() / 1024) + " MiB ("
                            + String.format("%+d", (rss1.getAsLong() - rssBase.getAsLong()) / 1024) + " MiB)"
                    : "n/a (no /proc/self/status)";
            System.out.println("soak: " + (ops + soakOps) + " ops (" + ops + " warm-up in " + warmMs + " ms, then "
                    + soakOps + " in " + seconds + " s) on "
                    + backend.description() + "; live native objects after warm-up " + live0 + ", at most " + maxLive
                    + ", at end " + live1 + " (bound " + bound + "), after close 0; " + createdDuring
                    + " native objects created and released meanwhile; program cache at most " + maxCached
                    + " (capacity " + CAPACITY + "); RSS " + rss);
            assertTrue(soakOps >= 1000, "a soak runs thousands of operations, ran " + soakOps);
            if (haveRss) {
                long limit = RSS_GROWTH_LIMIT_KIB + RSS_GROWTH_PER_OP_KIB * (soakOps - baseOps);
                assertTrue(rss1.getAsLong() - rssBase.getAsLong() < limit, "RSS grew beyond " + limit / 1024 + " MiB: " + rss);
            }
        } finally {
            backend.close();
        }
    }

    private static boolean run(OpenClBackend backend, CpuBackend cpu, PoolSpec spec, Tensor x, boolean check) {
        if (spec.check(x.shape()).isPresent()) {
            return false;
        }
        PoolGeometry g = spec.geometry(x.shape());
        Tensor got = Tensor.allocate(g.output());
        backend.pool(g, x, got);
        if (check) {
            Tensor want = Tensor.allocate(g.output());
            cpu.pool(g, x, want);
            compare(spec.mode(), got, want, spec + " on " + x.shape());
        }
        return true;
    }

    private static void global(OpenClBackend backend, CpuBackend cpu, PoolMode mode, Tensor x, boolean check) {
        Shape out = Shape.of(x.shape().n(), 1, 1, x.shape().c());
        Tensor got = Tensor.allocate(out);
        backend.global(mode, x, got);
        if (check) {
            Tensor want = Tensor.allocate(out);
            cpu.global(mode, x, want);
            compare(mode, got, want, "global " + mode.word() + " on " + x.shape());
        }
    }

    private static void compare(PoolMode mode, Tensor got, Tensor want, String what) {
        if (mode == PoolMode.MAX) {
            Tolerance.assertBitIdentical(got.toArray(), want.toArray(), "soak " + what);
        } else {
            float[] w = want.toArray();
            double[] wd = new double[w.length];
            for (int i = 0; i < w.length; i++) {
                wd[i] = w[i];
            }
            Tolerance.assertClose(got.toArray(), wd, 2 * Tolerance.REL, "soak " + what);
        }
    }

    /** Lets the collector free the dropped direct buffers, so RSS reflects what is really held. */
    private static void settle() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
    }

    /** VmRSS of this process in KiB, where /proc exists (Linux). */
    private static OptionalLong rssKib() {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return OptionalLong.empty();
        }
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmRSS:")) {
                    return OptionalLong.of(Long.parseLong(line.replaceAll("[^0-9]", "")));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
        return OptionalLong.empty();
    }
}
