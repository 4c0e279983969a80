package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@link WorkShare}: every part runs exactly once whether the helpers start at once, late or never;
 * the calling thread takes parts itself; a part's exception reaches the caller (the same object)
 * after the parts already running have finished; and jobs started from inside a part complete.
 */
class WorkShareTest {
    private static final ExecutorService POOL = Executors.newFixedThreadPool(3);

    @AfterAll
    static void close() {
        POOL.shutdownNow();
    }

    private static void everyPartOnce(Executor pool, int helpers, int parts) {
        AtomicIntegerArray runs = new AtomicIntegerArray(parts);
        WorkShare.run(pool, helpers, parts, runs::incrementAndGet);
        for (int p = 0; p < parts; p++) {
            assertEquals(1, runs.get(p), "part " + p + " of " + parts + " with " + helpers + " helpers");
        }
    }

    @Test
    void everyPartRunsOnce_anyNumberOfPartsAndHelpers() {
        for (int parts : new int[] {1, 2, 3, 8, 97, 1000}) {
            for (int helpers : new int[] {0, 1, 3, 5}) {
                everyPartOnce(POOL, helpers, parts);
            }
        }
    }

    @Test
    void helpersThatNeverStart_theCallerRunsEveryPart() {
        Set<Thread> ran = ConcurrentHashMap.newKeySet();
        WorkShare.run(task -> { }, 3, 50, p -> ran.add(Thread.currentThread()));
        assertEquals(Set.of(Thread.currentThread()), ran);
        everyPartOnce(task -> { }, 2, 9);
    }

    @Test
    void aHelperThatStartsLate_findsNothingLeftAndDoesNoHarm() {
        AtomicIntegerArray runs = new AtomicIntegerArray(20);
        Runnable[] late = new Runnable[1];
        WorkShare.run(task -> late[0] = task, 1, 20, runs::incrementAndGet);
        late[0].run();
        for (int p = 0; p < 20; p++) {
            assertEquals(1, runs.get(p));
        }
    }

    @Test
    void aHelperStillQueuedAfterTheJob_keepsNothingOfItReachable() throws InterruptedException {
        // A pool thread that has not run its task yet when the caller returns: the job's part (and
        // whatever it writes, an engine's result) must be collectable all the same.
        List<Runnable> queued = new ArrayList<>();
        WeakReference<float[]> written = jobWritingAnOutput(queued::add);
        for (int i = 0; i < 50 && !written.refersTo(null); i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertTrue(written.refersTo(null), "a queued helper task kept the job's output reachable");
        assertEquals(2, queued.size());
        queued.forEach(Runnable::run); // late: finds no part left
    }

    /** Runs a job whose part writes an array only the part holds; returns a weak reference to it. */
    private static WeakReference<float[]> jobWritingAnOutput(Executor pool) {
        float[] output = new float[1 << 10];
        WorkShare.run(pool, 2, 8, p -> output[p] = p);
        return new WeakReference<>(output);
    }

    @Test
    void theCallerWaitsForAPartAHelperIsStillRunning() {
        Thread caller = Thread.currentThread();
        CountDownLatch helperIn = new CountDownLatch(1);
        AtomicIntegerArray done = new AtomicIntegerArray(1);
        // The caller's part holds on until the helper has claimed the other one, which then runs on
        // after the caller's part is over: the caller must wait for it.
        WorkShare.run(POOL, 1, 2, p -> {
            if (Thread.currentThread() == caller) {
                await(helperIn);
            } else {
                helperIn.countDown();
                sleep(50);
                done.set(0, 1);
            }
        });
        assertEquals(0, helperIn.getCount(), "the helper took a part");
        assertEquals(1, done.get(0), "returned before the helper's part was done");
    }

    @Test
    void theCallerWaitsForAPartThatEndsWhileItSpins() {
        Thread caller = Thread.currentThread();
        for (int round = 0; round < 20; round++) {
            CountDownLatch helperIn = new CountDownLatch(1);
            AtomicIntegerArray done = new AtomicIntegerArray(1);
            // The caller's part runs 0.3 ms after the helper took its part (the spin is then the
            // 0.2 ms cap); the helper's ends 0.1 ms later: inside the caller's spin, not after a park.
            WorkShare.run(POOL, 1, 2, p -> {
                if (Thread.currentThread() == caller) {
                    await(helperIn);
                    busy(300_000);
                } else {
                    helperIn.countDown();
                    busy(400_000);
                    done.set(0, 1);
                }
            });
            assertEquals(0, helperIn.getCount(), "the helper took a part");
            assertEquals(1, done.get(0), "returned before the helper's part was done, round " + round);
        }
    }

    private static void busy(long nanos) {
        long start = System.nanoTime();
        while (System.nanoTime() - start < nanos) {
            Thread.onSpinWait();
        }
    }

    @Test
    void aFailingPart_rethrownInTheCaller_asTheSameException() {
        IllegalStateException boom = new IllegalStateException("part 5");
        AtomicIntegerArray runs = new AtomicIntegerArray(40);
        IllegalStateException got = assertThrows(IllegalStateException.class, () -> WorkShare.run(POOL, 2, 40, p -> {
            runs.incrementAndGet(p);
            if (p == 5) {
                throw boom;
            }
        }));
        assertSame(boom, got);
        for (int p = 0; p < 40; p++) {
            assertTrue(runs.get(p) <= 1, "part " + p + " ran twice");
        }
        OutOfMemoryError oom = new OutOfMemoryError("part 0");
        assertSame(oom, assertThrows(OutOfMemoryError.class, () -> WorkShare.run(POOL, 1, 3, p -> {
            if (p == 0) {
                throw oom;
            }
        })));
        RuntimeException wrapped = assertThrows(RuntimeException.class, () -> WorkShare.run(POOL, 1, 3, p -> {
            if (p == 2) {
                sneaky(new IOException("checked"));
            }
        }));
        assertTrue(wrapped.getCause() instanceof IOException);
    }

    @Test
    void jobsStartedInsideAPart_complete() {
        AtomicIntegerArray runs = new AtomicIntegerArray(6 * 7);
        WorkShare.run(POOL, 2, 6, outer -> WorkShare.run(POOL, 2, 7, inner -> runs.incrementAndGet(outer * 7 + inner)));
        for (int i = 0; i < runs.length(); i++) {
            assertEquals(1, runs.get(i));
        }
    }

    @Test
    void cpuBackendChunks_coverEveryItemOnce() {
        for (int threads : new int[] {1, 2, 3}) {
            try (CpuBackend cpu = new CpuBackend(threads)) {
                for (int items : new int[] {1, 7, 64, 1001}) {
                    AtomicIntegerArray seen = new AtomicIntegerArray(items);
                    cpu.chunks(items, 1 << 20, (from, to) -> {
                        for (int i = from; i < to; i++) {
                            seen.incrementAndGet(i);
                        }
                    });
                    for (int i = 0; i < items; i++) {
                        assertEquals(1, seen.get(i), "item " + i + " of " + items + " on " + threads + " threads");
                    }
                }
            }
        }
    }

    @Test
    void cpuBackendChunks_splitLongJobsFinerButNotIntoTinyRanges() {
        try (CpuBackend cpu = new CpuBackend(2)) {
            // DenseNet's 2×2 average: 448 rows of 14,336 visits (about 2 ms on one thread).
            java.util.List<int[]> ranges = ranges(cpu, 448, 14_336);
            assertTrue(ranges.size() > 8, "a 6.4 M-visit job in more than 4 ranges a thread: " + ranges.size());
            for (int[] r : ranges) {
                assertTrue(r[1] - r[0] >= 32, "a range of at least 32 items: " + r[0] + ".." + r[1]);
            }
            // Few items (a staged 3×3 average's 152 rows): 4 ranges a thread, as before.
            assertEquals(8, ranges(cpu, 152, 87_552).size());
            // Small jobs stay on one range per 32 K visits.
            assertEquals(2, ranges(cpu, 64, 1_024).size());
        }
    }

    /** The ranges {@code chunks} runs, in order; they must tile {@code [0, items)}. */
    private static java.util.List<int[]> ranges(CpuBackend cpu, int items, long workPerItem) {
        java.util.List<int[]> ranges = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        cpu.chunks(items, workPerItem, (from, to) -> ranges.add(new int[] {from, to}));
        java.util.List<int[]> sorted = new java.util.ArrayList<>(ranges);
        sorted.sort(java.util.Comparator.comparingInt(r -> r[0]));
        int next = 0;
        for (int[] r : sorted) {
            assertEquals(next, r[0], "ranges tile the items");
            next = r[1];
        }
        assertEquals(items, next, "ranges tile the items");
        return sorted;
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(10, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void sneaky(Throwable t) throws T {
        throw (T) t;
    }
}
