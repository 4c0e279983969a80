package dev.clpool.opencl;

/**
 * A kernel. Not thread-safe: setting arguments mutates it, so a kernel is used by one thread
 * at a time (the backend serialises dispatch).
 */
public final class ClKernel extends ClObject {
    private final ClBinding.KernelHandle handle;
    private final String name;

    ClKernel(ClBinding binding, NativeObjects objects, ClBinding.KernelHandle handle, String name) {
        super(binding, objects);
        this.handle = handle;
        this.name = name;
    }

    public String name() {
        return name;
    }

    ClBinding.KernelHandle handle() {
        ensureOpen();
        return handle;
    }

    /** Sets the arguments in order: {@link ClBuffer}, Integer or Float values. */
    public ClKernel args(Object... values) {
        ensureOpen();
        for (int i = 0; i < values.length; i++) {
            Object v = values[i];
            if (v instanceof ClBuffer b) {
                binding.setArg(handle, i, b.handle());
            } else if (v instanceof Integer n) {
                binding.setArg(handle, i, n.intValue());
            } else if (v instanceof Float f) {
                binding.setArg(handle, i, f.floatValue());
            } else {
                throw new IllegalArgumentException("kernel " + name + " argument " + i + ": unsupported type "
                        + (v == null ? "null" : v.getClass().getSimpleName()));
            }
        }
        return this;
    }

    @Override
    protected void release() {
        binding.release(handle);
    }
}
