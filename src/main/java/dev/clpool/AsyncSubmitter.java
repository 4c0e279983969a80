package dev.clpool;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The engine's asynchronous submission: one thread, made on first use, runs submitted operations
 * in submission order (a device runs one operation at a time anyway, and each CPU-path operation
 * already uses every core). {@link #shutdownAndWait()} lets everything submitted finish.
 */
final class AsyncSubmitter {
    private ExecutorService executor;
    private volatile Thread worker;
    private boolean shutdown;

    /** Runs {@code op} after everything submitted before it; its result or exception completes the future. */
    synchronized <T> CompletableFuture<T> submit(Supplier<T> op) {
        if (shutdown) {
            throw new IllegalStateException("the pooling engine is closed");
        }
        if (executor == null) {
            executor = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "clpool-async");
                t.setDaemon(true);
                worker = t;
                return t;
            });
        }
        try {
            return CompletableFuture.supplyAsync(op, executor);
        } catch (RejectedExecutionException e) {
            throw new IllegalStateException("the pooling engine is closed", e);
        }
    }

    /**
     * Refuses new submissions and waits until the submitted operations have run; called from a
     * submitted operation itself it cannot wait for the rest, which then find the engine closed.
     */
    void shutdownAndWait() {
        ExecutorService e;
        synchronized (this) {
            shutdown = true;
            e = executor;
        }
        if (e == null) {
            return;
        }
        e.shutdown();
        if (Thread.currentThread() == worker) {
            return;
        }
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    if (e.awaitTermination(1, TimeUnit.MINUTES)) {
                        return;
                    }
                } catch (InterruptedException ie) {
                    interrupted = true; // finish closing first: the device must not be released under a running op
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
