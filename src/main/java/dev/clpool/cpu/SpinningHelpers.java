package dev.clpool.cpu;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * The CPU path's helper threads when {@code -Dclpool.cpu.spinMicros} is above 0 ({@link CpuBackend}):
 * daemon threads of their own that, after a task, poll for the next one for {@code spinMicros}
 * ({@link Thread#onSpinWait}) before they park, as OpenMP's threads do between PyTorch's parallel
 * regions, so that back-to-back jobs find a helper already running on another core instead of one
 * to wake. A fork-join pool's worker parks as soon as it finds no work, and waking it costs tens of
 * microseconds (docs/performance.md, branch {@code spin}).
 *
 * <p>The threads start on the first task and end at {@link #close}; tasks still queued then are
 * dropped (a {@link WorkShare} helper task is never needed for its job to finish: the caller claims
 * every part nobody else has). A task handed over after {@link #close} is refused.
 */
final class SpinningHelpers implements Executor, AutoCloseable {
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Helper[] helpers;
    private final long spinNanos;
    private final String name;
    private volatile boolean closed;
    private volatile boolean started;

    SpinningHelpers(int threads, long spinMicros, String name) {
        if (threads < 1 || spinMicros < 0) {
            throw new IllegalArgumentException("threads " + threads + ", spinMicros " + spinMicros);
        }
        this.helpers = new Helper[threads];
        this.spinNanos = spinMicros * 1000;
        this.name = name;
    }

    @Override
    public void execute(Runnable task) {
        if (closed) {
            throw new RejectedExecutionException("CPU helper threads closed");
        }
        if (!started) {
            start();
        }
        tasks.add(task);
        // The queue's write comes before this read of parked, and a helper's write of parked before
        // its read of the queue (all volatile): either it sees the task or this sees it parked.
        for (Helper h : helpers) {
            if (h != null && h.parked.get() && h.parked.compareAndSet(true, false)) { // null: closed before start
                LockSupport.unpark(h);
                return;
            }
        }
    }

    private synchronized void start() {
        if (started || closed) {
            return;
        }
        for (int i = 0; i < helpers.length; i++) {
            helpers[i] = new Helper(name + "-" + (i + 1));
        }
        for (Helper h : helpers) {
            h.start();
        }
        started = true;
    }

    /** Ends every helper thread (at once if it is parked or spinning; after its task if one runs) and waits for them. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        for (Helper h : helpers) {
            if (h != null) {
                LockSupport.unpark(h);
            }
        }
        for (Helper h : helpers) {
            if (h != null && h != Thread.currentThread()) {
                try {
                    h.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        tasks.clear();
    }

    /** The threads started so far, for tests (empty before the first task). */
    synchronized Thread[] threads() {
        return started ? helpers.clone() : new Thread[0];
    }

    private final class Helper extends Thread {
        /** Set by this thread before it parks, cleared by the one that claims its wake-up (or by itself). */
        final AtomicBoolean parked = new AtomicBoolean();

        Helper(String name) {
            super(name);
            setDaemon(true);
        }

        @Override
        public void run() {
            long idleSince = System.nanoTime();
            while (!closed) {
                Runnable task = tasks.poll();
                if (task != null) {
                    try {
                        task.run();
                    } catch (Throwable t) {
                        // WorkShare keeps its parts' failures for the caller; a helper outlives any other.
                    }
                    idleSince = System.nanoTime();
                } else if (System.nanoTime() - idleSince < spinNanos) {
                    Thread.onSpinWait();
                } else {
                    parked.set(true);
                    if (tasks.isEmpty() && !closed) {
                        LockSupport.park(this);
                    }
                    parked.set(false);
                    idleSince = System.nanoTime();
                }
            }
        }
    }
}
