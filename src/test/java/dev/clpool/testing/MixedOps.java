package dev.clpool.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Mixed pooling operations (max, avg, lp, global avg, global max) for the concurrency tests on
 * the CPU and on devices: seeded lists of operations, running them from many threads against
 * one engine, and closing an engine while they run.
 */
public final class MixedOps {

    /** One operation: windowed pooling with {@code spec}, or global pooling when spec is null. */
    public record Op(String name, Tensor input, PoolSpec spec, PoolMode globalMode) {
        public Tensor run(PoolingEngine engine) {
            return spec != null ? engine.pool(input, spec) : engine.global(globalMode, input);
        }

        public CompletableFuture<Tensor> runAsync(PoolingEngine engine) {
            return spec != null ? engine.poolAsync(input, spec) : engine.globalAsync(globalMode, input);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private MixedOps() {
    }

    /** {@code count} operations: random specs of every kind (RandomCases) and one in five global. */
    public static List<Op> anySpecs(long seed, int count) {
        SplittableRandom r = new SplittableRandom(seed);
        List<RandomCases.Case> cases = RandomCases.generate(seed, count);
        List<Op> ops = new ArrayList<>();
        for (RandomCases.Case c : cases) {
            if (r.nextInt(5) == 0) {
                PoolMode m = r.nextBoolean() ? PoolMode.AVG : PoolMode.MAX;
                ops.add(new Op("global " + m.word() + " on " + c.input().shape(), c.input(), null, m));
            } else {
                ops.add(new Op(c.name(), c.input(), c.spec(), null));
            }
        }
        return ops;
    }

    /**
     * {@code count} operations drawn from a fixed {@code palette} of specs (plus global avg and
     * max) on a fixed list of {@code shapes}, with fresh random values each: a bounded set of
     * kernel builds on a device. (PoCL also compiles a kernel again for each new work-group size,
     * which follows the shape, so shapes are a short list too; both caches persist on disk.)
     */
    public static List<Op> fromPalette(long seed, int count, List<PoolSpec> palette, List<Shape> shapes) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Op> ops = new ArrayList<>();
        while (ops.size() < count) {
            Shape s = shapes.get(r.nextInt(shapes.size()));
            Tensor x = RandomCases.values(r, s, r.nextInt(6) == 0);
            int k = r.nextInt(palette.size() + 2);
            if (k >= palette.size()) {
                PoolMode m = k == palette.size() ? PoolMode.AVG : PoolMode.MAX;
                ops.add(new Op("#" + ops.size() + " global " + m.word() + " on " + s, x, null, m));
            } else if (palette.get(k).check(s).isEmpty()) {
                ops.add(new Op("#" + ops.size() + " " + palette.get(k) + " on " + s, x, palette.get(k), null));
            }
        }
        return ops;
    }

    /** Every result's raw bits, one operation after the other on {@code engine}. */
    public static List<int[]> serial(PoolingEngine engine, List<Op> ops) {
        List<int[]> out = new ArrayList<>();
        for (Op op : ops) {
            out.add(bits(op.run(engine)));
        }
        return out;
    }

    /**
     * Submits every operation asynchronously, then closes {@code engine} before waiting for any:
     * close() must let all submitted work finish. Asserts each result bit-identical to
     * {@code expected}, that the results completed in submission order, and that a submission
     * after close() is refused.
     */
    public static void assertAsyncMatchesAndCloseWaits(PoolingEngine engine, List<Op> ops, List<int[]> expected,
            String what) {
        List<CompletableFuture<Tensor>> futures = new ArrayList<>();
        List<Integer> completed = Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < ops.size(); i++) {
            int index = i;
            futures.add(ops.get(i).runAsync(engine).whenComplete((t, e) -> completed.add(index)));
        }
        engine.close();
        for (int i = 0; i < ops.size(); i++) {
            assertTrue(futures.get(i).isDone(), what + ": close() returned before " + ops.get(i) + " ran");
            assertArrayEquals(expected.get(i), bits(futures.get(i).join()), what + ": " + ops.get(i));
        }
        List<Integer> order = new ArrayList<>(completed);
        List<Integer> sorted = new ArrayList<>(order);
        Collections.sort(sorted);
        assertEquals(sorted, order, what + ": completion order");
        assertThrows(IllegalStateException.class, () -> ops.get(0).runAsync(engine), what + ": submission after close");
    }

    /**
     * Runs {@code ops} from {@code threads} threads at once on {@code engine} (thread t takes
     * operations t, t + threads, ... in a shuffled order) and asserts every result is
     * bit-identical to {@code expected}. Returns the wall time in milliseconds.
     */
    public static long assertConcurrentMatches(PoolingEngine engine, List<Op> ops, List<int[]> expected, int threads,
                                               long seed, String what) throws InterruptedException {
        AtomicReferenceArray<int[]> got = new AtomicReferenceArray<>(ops.size());
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            List<Integer> mine = new ArrayList<>();
            for (int i = t; i < ops.size(); i += threads) {
                mine.add(i);
            }
            Collections.shuffle(mine, new java.util.Random(seed + t));
            Thread w = new Thread(() -> {
                try {
                    start.await();
                    for (int i : mine) {
                        got.set(i, bits(ops.get(i).run(engine)));
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, what + "-worker-" + t);
            workers.add(w);
            w.start();
        }
        long t0 = System.nanoTime();
        start.countDown();
        for (Thread w : workers) {
            w.join(TimeUnit.MINUTES.toMillis(2));
            assertTrue(!w.isAlive(), what + ": " + w.getName() + " did not finish");
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        if (!failures.isEmpty()) {
            Throwable first = failures.peek();
            fail(what + ": " + failures.size() + " threads failed, first: " + first, first);
        }
        for (int i = 0; i < ops.size(); i++) {
            assertArrayEquals(expected.get(i), got.get(i), what + ": concurrent result differs from the serial one for " + ops.get(i));
        }
        return ms;
    }

    /** What {@link #closeWhileInFlight} saw. */
    public record CloseOutcome(int completed, int refused) {
    }

    /**
     * Starts {@code threads} threads that run {@code ops} over and over on {@code engine}, closes
     * the engine while they do, and asserts that close() returns, that every operation either
     * completed with the expected bits or threw {@link IllegalStateException} (nothing else), that
     * every thread stops, and that operations after close() are refused.
     */
    public static CloseOutcome closeWhileInFlight(PoolingEngine engine, List<Op> ops, List<int[]> expected, int threads,
                                                  String what) throws InterruptedException {
        AtomicInteger completed = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch running = new CountDownLatch(threads);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int first = t;
            Thread w = new Thread(() -> {
                running.countDown();
                for (int i = first; ; i = (i + 1) % ops.size()) {
                    int[] result;
                    try {
                        result = bits(ops.get(i).run(engine));
                    } catch (IllegalStateException e) {
                        refused.incrementAndGet();
                        return; // the engine is closed: the clean refusal
                    } catch (Throwable e) {
                        failures.add(e);
                        return;
                    }
                    if (!java.util.Arrays.equals(expected.get(i), result)) {
                        failures.add(new AssertionError(what + ": wrong result while closing for " + ops.get(i)));
                        return;
                    }
                    completed.incrementAndGet();
                }
            }, what + "-closer-" + t);
            workers.add(w);
            w.start();
        }
        running.await();
        while (completed.get() < threads) {
            Thread.sleep(1); // let every thread get going
        }
        engine.close();
        for (Thread w : workers) {
            w.join(TimeUnit.MINUTES.toMillis(1));
            assertTrue(!w.isAlive(), what + ": " + w.getName() + " did not stop after close()");
        }
        if (!failures.isEmpty()) {
            Throwable first = failures.peek();
            fail(what + ": " + failures.size() + " failures while closing, first: " + first, first);
        }
        assertEquals(threads, refused.get(), what + ": every thread ends on a clean refusal");
        assertThrows(IllegalStateException.class, () -> ops.get(0).run(engine), what + ": use after close");
        engine.close(); // idempotent
        return new CloseOutcome(completed.get(), refused.get());
    }

    public static int[] bits(Tensor t) {
        float[] f = t.toArray();
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = Float.floatToRawIntBits(f[i]);
        }
        return b;
    }
}
