package dev.clpool.opencl;

/** A built program; creates kernels. */
public final class ClProgram extends ClObject {
    private final ClBinding.ProgramHandle handle;
    private final String options;

    ClProgram(ClBinding binding, NativeObjects objects, ClBinding.ProgramHandle handle, String options) {
        super(binding, objects);
        this.handle = handle;
        this.options = options;
    }

    public String options() {
        return options;
    }

    /** The built program's binary for its device; empty if the driver gives none. */
    public byte[] binary() {
        ensureOpen();
        return binding.programBinary(handle);
    }

    public ClKernel createKernel(String name) {
        ensureOpen();
        return new ClKernel(binding, objects(), binding.createKernel(handle, name), name);
    }

    @Override
    protected void release() {
        binding.release(handle);
    }
}
