package dev.clpool.opencl;

/** A device memory buffer. */
public final class ClBuffer extends ClObject {
    private final ClBinding.MemHandle handle;
    private final long size;

    ClBuffer(ClBinding binding, NativeObjects objects, ClBinding.MemHandle handle, long size) {
        super(binding, objects);
        this.handle = handle;
        this.size = size;
    }

    ClBinding.MemHandle handle() {
        ensureOpen();
        return handle;
    }

    /** Size in bytes. */
    public long size() {
        return size;
    }

    @Override
    protected void release() {
        binding.release(handle);
    }
}
