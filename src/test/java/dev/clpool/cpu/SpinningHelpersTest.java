package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * {@link SpinningHelpers} ({@code -Dclpool.cpu.spinMicros}): tasks reach a helper that is still
 * spinning and one that has parked; {@link WorkShare} jobs on it run every part once; close ends
 * every thread, spinning, parked or never started, and later tasks are refused; {@link CpuBackend}
 * picks it only for a spin above 0. No test times anything: the waits are for events, with long
 * limits that only a hang reaches.
 */
class SpinningHelpersTest {

    private static void await(CountDownLatch latch) throws InterruptedException {
        assertTrue(latch.await(30, TimeUnit.SECONDS), "task never ran");
    }

    /** Waits until {@code t} is parked (state WAITING in LockSupport.park), or fails after 30 s. */
    private static void awaitParked(Thread t) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (t.getState() != Thread.State.WAITING) {
            assertTrue(System.nanoTime() < end, t.getName() + " never parked: " + t.getState());
            LockSupport.parkNanos(100_000);
        }
    }

    @Test
    void aTaskReachesAParkedHelper() throws InterruptedException {
        try (SpinningHelpers h = new SpinningHelpers(1, 1, "test-parked")) {
            CountDownLatch first = new CountDownLatch(1);
            h.execute(first::countDown);
            await(first);
            Thread helper = h.threads()[0];
            for (int round = 0; round < 20; round++) {
                awaitParked(helper); // 1 µs of spin: parked long before this sees it
                CountDownLatch ran = new CountDownLatch(1);
                Set<Thread> by = ConcurrentHashMap.newKeySet();
                h.execute(() -> {
                    by.add(Thread.currentThread());
                    ran.countDown();
                });
                await(ran);
                assertEquals(Set.of(helper), by);
            }
        }
    }

    @Test
    void aTaskReachesASpinningHelper_withoutAWakeUp() throws InterruptedException {
        // A spin of an hour: the helper never parks, so the task can only be found by its polling.
        try (SpinningHelpers h = new SpinningHelpers(1, 3_600_000_000L, "test-spinning")) {
            for (int round = 0; round < 50; round++) {
                CountDownLatch ran = new CountDownLatch(1);
                h.execute(ran::countDown);
                await(ran);
                assertEquals(Thread.State.RUNNABLE, h.threads()[0].getState());
            }
        }
    }

    @Test
    void workShareJobs_everyPartOnce_onSpinningAndParkedHelpers() {
        for (long spin : new long[] {1, 200, 3_600_000_000L}) {
            try (SpinningHelpers h = new SpinningHelpers(3, spin, "test-share")) {
                for (int parts : new int[] {1, 2, 3, 8, 97, 1000}) {
                    for (int job = 0; job < 20; job++) {
                        AtomicIntegerArray runs = new AtomicIntegerArray(parts);
                        WorkShare.run(h, 3, parts, runs::incrementAndGet);
                        for (int p = 0; p < parts; p++) {
                            assertEquals(1, runs.get(p), "part " + p + " of " + parts + ", spin " + spin);
                        }
                    }
                }
            }
        }
    }

    @Test
    void helpersRunTasksBesideTheCaller() throws InterruptedException {
        try (SpinningHelpers h = new SpinningHelpers(2, 50, "test-beside")) {
            // Both tasks wait for each other: they finish only if two helper threads run them at once.
            CountDownLatch both = new CountDownLatch(2);
            CountDownLatch done = new CountDownLatch(2);
            Runnable task = () -> {
                both.countDown();
                try {
                    if (both.await(30, TimeUnit.SECONDS)) {
                        done.countDown();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            h.execute(task);
            h.execute(task);
            await(done);
        }
    }

    @Test
    void close_endsSpinningAndParkedThreads_andRefusesLaterTasks() throws InterruptedException {
        SpinningHelpers spinning = new SpinningHelpers(2, 3_600_000_000L, "test-close-spinning");
        SpinningHelpers parked = new SpinningHelpers(2, 1, "test-close-parked");
        for (SpinningHelpers h : new SpinningHelpers[] {spinning, parked}) {
            CountDownLatch ran = new CountDownLatch(2);
            h.execute(ran::countDown);
            h.execute(ran::countDown);
            await(ran);
        }
        for (Thread t : parked.threads()) {
            awaitParked(t);
        }
        Thread[] threads = {spinning.threads()[0], spinning.threads()[1], parked.threads()[0], parked.threads()[1]};
        for (Thread t : threads) {
            assertTrue(t.isAlive());
            assertTrue(t.isDaemon(), t.getName());
            assertTrue(t.getName().startsWith("test-close-"), t.getName());
        }
        spinning.close();
        parked.close();
        for (Thread t : threads) {
            assertFalse(t.isAlive(), t.getName() + " left after close");
        }
        assertThrows(RejectedExecutionException.class, () -> spinning.execute(() -> { }));
        parked.close(); // idempotent
    }

    @Test
    void close_beforeAnyTask_startsNoThread() {
        SpinningHelpers h = new SpinningHelpers(4, 200, "test-never");
        assertEquals(0, h.threads().length);
        h.close();
        assertEquals(0, h.threads().length);
        assertThrows(RejectedExecutionException.class, () -> h.execute(() -> { }));
    }

    @Test
    void aFailingTask_leavesTheHelperRunning() throws InterruptedException {
        try (SpinningHelpers h = new SpinningHelpers(1, 50, "test-failing")) {
            h.execute(() -> {
                throw new IllegalStateException("part failed");
            });
            CountDownLatch ran = new CountDownLatch(1);
            h.execute(ran::countDown);
            await(ran);
        }
    }

    @Test
    void cpuBackend_spinAbove0_usesSpinningHelpers_sameBits_noThreadAfterClose() {
        CpuBackend forkJoin = new CpuBackend(2, 0);
        CpuBackend spin = new CpuBackend(2, 100);
        try {
            assertInstanceOf(ForkJoinPool.class, forkJoin.helpers());
            assertInstanceOf(SpinningHelpers.class, spin.helpers());
            int items = 50_000;
            float[] a = new float[items];
            float[] b = new float[items];
            for (int round = 0; round < 5; round++) {
                forkJoin.chunks(items, 64, (from, to) -> fill(a, from, to));
                spin.chunks(items, 64, (from, to) -> fill(b, from, to));
                assertArrayEquals(a, b);
            }
        } finally {
            forkJoin.close();
            spin.close();
        }
        Thread[] threads = ((SpinningHelpers) spin.helpers()).threads();
        assertNotSame(0, threads.length);
        for (Thread t : threads) {
            assertFalse(t.isAlive(), t.getName() + " left after close");
        }
        assertThrows(RejectedExecutionException.class, () -> spin.chunks(50_000, 64, (from, to) -> { }));
    }

    private static void fill(float[] v, int from, int to) {
        for (int i = from; i < to; i++) {
            v[i] = (float) Math.sqrt(i) * 3.1f;
        }
    }
}
