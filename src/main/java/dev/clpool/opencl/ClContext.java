package dev.clpool.opencl;

import java.nio.ByteBuffer;

/** An OpenCL context on one device; creates the queues, buffers and programs that live in it. */
public final class ClContext extends ClObject {
    private final ClDevice device;
    private final ClBinding.ContextHandle handle;

    public ClContext(ClDevice device, NativeObjects objects) {
        super(device.binding(), objects);
        this.device = device;
        ClBinding.ContextHandle h;
        try {
            h = binding.createContext(device.platform(), device.id());
        } catch (RuntimeException e) {
            objects.released();
            throw e;
        }
        this.handle = h;
    }

    public ClDevice device() {
        return device;
    }

    public ClQueue createQueue() {
        ensureOpen();
        return new ClQueue(binding, objects(), binding.createQueue(handle, device.id()));
    }

    public ClBuffer createBuffer(long flags, long size) {
        ensureOpen();
        return new ClBuffer(binding, objects(), binding.createBuffer(handle, flags, size), size);
    }

    /** A buffer initialised from (COPY_HOST_PTR) or over (USE_HOST_PTR) a direct buffer. */
    public ClBuffer createBuffer(long flags, ByteBuffer host) {
        ensureOpen();
        long size = host.remaining();
        return new ClBuffer(binding, objects(), binding.createBuffer(handle, flags, host), size);
    }

    public ClProgram buildProgram(String source, String options) {
        ensureOpen();
        ClProgram program = new ClProgram(binding, objects(), binding.buildProgram(handle, device.id(), source, options),
                options);
        SignalChaining.checkAfterSourceBuild();
        return program;
    }

    /** A program from a binary that {@link ClProgram#binary()} gave for this device, built with {@code options}. */
    public ClProgram buildProgramFromBinary(byte[] binary, String options) {
        ensureOpen();
        return new ClProgram(binding, objects(), binding.buildProgramFromBinary(handle, device.id(), binary, options),
                options);
    }

    @Override
    protected void release() {
        binding.release(handle);
    }
}
