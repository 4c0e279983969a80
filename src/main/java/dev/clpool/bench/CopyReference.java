package dev.clpool.bench;

import dev.clpool.opencl.DeviceCopy;
import dev.clpool.opencl.OpenClBackend;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The copy a figure is compared with, measured in the same run: a plain copy moving (reading plus
 * writing) the same number of bytes, on the host or on a device.
 */
final class CopyReference {

    /** Times an operation as the benchmark does (warm-up, then the median). */
    interface Timer {
        Timing.Result time(Runnable op, Runnable sync);
    }

    private final Timer timer;

    CopyReference(Timer timer) {
        this.timer = timer;
    }

    /** GB/s of the faster of clEnqueueCopyBuffer and the copy kernel, copying half of {@code bytes}. */
    double deviceGbps(OpenClBackend backend, long bytes) {
        try (DeviceCopy copy = DeviceCopy.open(backend, bytes / 2)) {
            Timing.Result a = timer.time(copy::enqueueCopyBuffer, copy::finish);
            Timing.Result k = timer.time(copy::enqueueCopyKernel, copy::finish);
            return 2.0 * copy.bytes() / (Math.min(a.ms(), k.ms()) * 1e6);
        }
    }

    /** GB/s of the faster of a one-thread and an all-threads direct-buffer copy of half of {@code bytes}. */
    double hostGbps(long bytes) {
        int size = (int) Math.max(64, Math.min(Integer.MAX_VALUE / 64 * 64, bytes / 2 / 64 * 64));
        ByteBuffer src = ByteBuffer.allocateDirect(size);
        ByteBuffer dst = ByteBuffer.allocateDirect(size);
        Timing.Result one = timer.time(() -> dst.slice(0, size).put(src.slice(0, size)), () -> { });
        int threads = Runtime.getRuntime().availableProcessors();
        double best = one.ms();
        if (threads > 1 && size >= (1 << 20)) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                int part = size / threads / 64 * 64;
                Runnable parallel = () -> {
                    List<Future<?>> fs = new ArrayList<>();
                    for (int t = 0; t < threads; t++) {
                        int from = t * part;
                        int to = t == threads - 1 ? size : from + part;
                        fs.add(pool.submit(() -> dst.slice(from, to - from).put(src.slice(from, to - from))));
                    }
                    for (Future<?> f : fs) {
                        try {
                            f.get();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }
                };
                best = Math.min(best, timer.time(parallel, () -> { }).ms());
            } finally {
                pool.shutdownNow();
            }
        }
        return 2.0 * size / (best * 1e6);
    }
}
