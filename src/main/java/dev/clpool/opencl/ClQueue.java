package dev.clpool.opencl;

import java.nio.ByteBuffer;

/** An in-order command queue. */
public final class ClQueue extends ClObject {
    private final ClBinding.QueueHandle handle;

    ClQueue(ClBinding binding, NativeObjects objects, ClBinding.QueueHandle handle) {
        super(binding, objects);
        this.handle = handle;
    }

    /** Enqueues {@code kernel} over {@code global} work items; {@code local} may be null. */
    public void run(ClKernel kernel, long[] global, long[] local) {
        ensureOpen();
        binding.enqueueKernel(handle, kernel.handle(), global, local);
    }

    public void write(ClBuffer dst, ByteBuffer src, boolean blocking) {
        ensureOpen();
        binding.write(handle, dst.handle(), 0, src, blocking);
    }

    public void read(ClBuffer src, ByteBuffer dst, boolean blocking) {
        ensureOpen();
        binding.read(handle, src.handle(), 0, dst, blocking);
    }

    public void copy(ClBuffer src, ClBuffer dst, long bytes) {
        ensureOpen();
        binding.copy(handle, src.handle(), dst.handle(), bytes);
    }

    /** Maps the first {@code size} bytes of {@code buffer} for reading or writing, after all queued work. */
    public ByteBuffer map(ClBuffer buffer, long flags, long size) {
        ensureOpen();
        return binding.map(handle, buffer.handle(), flags, 0, size);
    }

    public void unmap(ClBuffer buffer, ByteBuffer mapped) {
        ensureOpen();
        binding.unmap(handle, buffer.handle(), mapped);
    }

    /**
     * An event that completes when every command enqueued here so far has completed. The queue is
     * flushed, so that another queue may {@linkplain #waitFor wait} for the event at once.
     */
    public ClEvent marker() {
        ensureOpen();
        ClEvent event = new ClEvent(binding, objects(), binding.marker(handle));
        try {
            binding.flush(handle);
        } catch (RuntimeException e) {
            event.close();
            throw e;
        }
        return event;
    }

    /** Holds the commands enqueued here from now on until {@code event} has completed; does not wait. */
    public void waitFor(ClEvent event) {
        ensureOpen();
        binding.waitFor(handle, event.handle());
    }

    public void finish() {
        ensureOpen();
        binding.finish(handle);
    }

    @Override
    protected void release() {
        binding.release(handle);
    }
}
