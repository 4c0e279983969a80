package dev.clpool.opencl;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Device buffers kept for reuse, by exact size, so that repeated operations of the same shapes
 * (a training loop, a chain of device tensors, the benchmark) do not create and release device
 * memory each time, which on PoCL means fresh host pages to fault in. Holds at most
 * {@code capacity} idle bytes; a buffer given back beyond that is released.
 *
 * <p>Reuse is safe without waiting because work on pooled buffers is ordered on the session's
 * in-order compute queue: work enqueued on a reused buffer runs after the work that used it
 * before (so a routine may give a scratch buffer back right after enqueuing the kernels that use
 * it). The {@link Pipeline} uses two more queues; it orders its first upload after a marker on
 * the compute queue and finishes all three queues before it gives its buffers back. Not
 * thread-safe: the {@link DeviceSession} uses it under its dispatch lock.
 */
final class BufferPool implements AutoCloseable {
    private final ClContext context;
    private final long capacity;
    private final Map<Long, ArrayDeque<ClBuffer>> idle = new HashMap<>();
    private long idleBytes;

    BufferPool(ClContext context, long capacity) {
        this.context = context;
        this.capacity = capacity;
    }

    /** A read-write buffer of exactly {@code size} bytes, reused if one is idle; contents undefined. */
    ClBuffer take(long size) {
        ArrayDeque<ClBuffer> q = idle.get(size);
        if (q != null && !q.isEmpty()) {
            idleBytes -= size;
            return q.pop();
        }
        return context.createBuffer(Cl.CL_MEM_READ_WRITE, size);
    }

    /** Returns a buffer from {@link #take} for reuse (or releases it when the pool is full). */
    void give(ClBuffer b) {
        if (idleBytes + b.size() > capacity) {
            b.close();
            return;
        }
        idle.computeIfAbsent(b.size(), k -> new ArrayDeque<>()).push(b);
        idleBytes += b.size();
    }

    /** Bytes held idle now. */
    long idleBytes() {
        return idleBytes;
    }

    /** Releases every idle buffer. */
    void clear() {
        List<ClBuffer> all = new ArrayList<>();
        idle.values().forEach(all::addAll);
        idle.clear();
        idleBytes = 0;
        all.forEach(ClBuffer::close);
    }

    @Override
    public void close() {
        clear();
    }
}
