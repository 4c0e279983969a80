package dev.clpool.opencl;

/**
 * A plain device-to-device copy of {@code bytes}, the bandwidth reference of the benchmark:
 * {@code clEnqueueCopyBuffer} and a float16 copy kernel ({@code opencl/copy.cl}) over two
 * buffers of one backend, and a read-only pass over the first (the reference for reductions).
 * Enqueue any of them any number of times, then {@link #finish()}; a copy of {@code bytes} moves
 * {@code 2 * bytes} (read and written), the read-only pass {@code bytes}.
 */
public final class DeviceCopy implements AutoCloseable {
    private static final long KERNEL_GROUP = 256;

    private final OpenClBackend backend;
    private final long bytes;
    private final ClBuffer src;
    private final ClBuffer dst;
    private final ClKernel kernel;
    private final ClKernel read;
    private final long[] global;
    private final long[] local;
    private final long[] readGlobal;

    private DeviceCopy(OpenClBackend backend, long bytes) {
        this.backend = backend;
        this.bytes = bytes;
        ClContext context = backend.session().context();
        this.src = context.createBuffer(Cl.CL_MEM_READ_WRITE, bytes);
        ClBuffer d = null;
        try {
            d = context.createBuffer(Cl.CL_MEM_READ_WRITE, bytes);
            int n16 = Math.toIntExact(bytes / 64);
            this.kernel = backend.session().kernel("copy.cl", "-D VEC=16 -D ACC_DOUBLE=0", "copy16");
            kernel.args(src, d, n16);
            long group = Math.min(KERNEL_GROUP, Math.max(1, backend.device().info().maxWorkGroupSize()));
            this.local = new long[] {group};
            this.global = new long[] {WorkGroups.roundUp(Math.max(1, n16), group)};
            // Enough work items to fill the device, each writing one float16 (at most n16 of them).
            long readItems = Math.min(Math.max(1, n16) / group * group,
                    Math.max(1, backend.device().info().computeUnits()) * 2048L / group * group);
            // CPU devices: a few long runs per thread, like the global pooling kernel.
            this.readGlobal = new long[] {Math.max(group, readItems)};
            boolean cpu = (backend.device().info().type() & Cl.CL_DEVICE_TYPE_CPU) != 0;
            this.read = backend.session().kernel("copy.cl", "-D VEC=16 -D ACC_DOUBLE=0 -D CONTIGUOUS=" + (cpu ? 1 : 0), "read16");
            read.args(src, d, n16);
            // Touch both buffers once, so that no run pays for first use.
            backend.session().queue().copy(src, d, bytes);
            backend.session().queue().copy(d, src, bytes);
            backend.session().queue().finish();
        } catch (RuntimeException e) {
            src.close();
            if (d != null) {
                d.close();
            }
            throw e;
        }
        this.dst = d;
    }

    /** Buffers of {@code bytes} (rounded down to 64, at least 64) on {@code backend}'s device. */
    public static DeviceCopy open(OpenClBackend backend, long bytes) {
        return new DeviceCopy(backend, Math.max(64, bytes / 64 * 64));
    }

    /** The bytes one copy reads (and writes). */
    public long bytes() {
        return bytes;
    }

    public void enqueueCopyBuffer() {
        backend.session().queue().copy(src, dst, bytes);
    }

    public void enqueueCopyKernel() {
        backend.session().queue().run(kernel, global, local);
    }

    /** Reads the {@link #bytes()} once (writing a negligible amount): the reference for reductions. */
    public void enqueueReadOnly() {
        backend.session().queue().run(read, readGlobal, local);
    }

    public void finish() {
        backend.session().queue().finish();
    }

    @Override
    public void close() {
        src.close();
        dst.close();
    }
}
