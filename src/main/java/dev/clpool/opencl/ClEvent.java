package dev.clpool.opencl;

/**
 * An OpenCL event (from {@link ClQueue#marker()}): another queue can {@linkplain ClQueue#waitFor
 * wait} for it. Released exactly once by {@link #close()}.
 */
public final class ClEvent extends ClObject {
    private final ClBinding.EventHandle handle;

    ClEvent(ClBinding binding, NativeObjects objects, ClBinding.EventHandle handle) {
        super(binding, objects);
        this.handle = handle;
    }

    ClBinding.EventHandle handle() {
        ensureOpen();
        return handle;
    }

    @Override
    protected void release() {
        binding.release(handle);
    }
}
