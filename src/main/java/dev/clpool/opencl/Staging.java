package dev.clpool.opencl;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;

/**
 * The device buffers for one piece of a host operation (a batch chunk, a row band, a pixel
 * range): on a host-unified device the host memory itself ({@code CL_MEM_USE_HOST_PTR}: no
 * copies), else buffers from the session's pool with the inputs written to them. Several inputs
 * and outputs (max with indices writes values and indices; max backward reads the input and the
 * output gradient). {@link #complete()} makes the outputs visible in host memory; {@link #close()}
 * releases or recycles the buffers. Use under the session's lock.
 */
final class Staging implements AutoCloseable {
    final ClBuffer[] in;
    final ClBuffer[] out;
    private final DeviceSession session;
    private final boolean zeroCopy;
    /** Kept until close: the device reads them after the constructor returns (or works in them, zero-copy). */
    private final ByteBuffer[] src;
    private final ByteBuffer[] dst;

    Staging(DeviceSession session, ByteBuffer[] src, ByteBuffer[] dst) {
        this.session = session;
        this.zeroCopy = session.zeroCopy();
        this.src = src;
        this.dst = dst;
        this.in = new ClBuffer[src.length];
        this.out = new ClBuffer[dst.length];
        try {
            for (int i = 0; i < src.length; i++) {
                in[i] = zeroCopy ? session.context().createBuffer(Cl.CL_MEM_READ_ONLY | Cl.CL_MEM_USE_HOST_PTR, src[i])
                        : session.buffers().take(src[i].remaining());
                if (!zeroCopy) {
                    session.queue().write(in[i], src[i], false); // complete() waits; src outlives the call
                }
            }
            for (int i = 0; i < dst.length; i++) {
                // READ_WRITE: pool2d's tap-by-tap max (KernelOptions.maxRuns) reads back what it wrote
                out[i] = zeroCopy ? session.context().createBuffer(Cl.CL_MEM_READ_WRITE | Cl.CL_MEM_USE_HOST_PTR, dst[i])
                        : session.buffers().take(dst[i].remaining());
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /** One input and one output. */
    Staging(DeviceSession session, ByteBuffer src, ByteBuffer dst) {
        this(session, new ByteBuffer[] {src}, new ByteBuffer[] {dst});
    }

    /**
     * Waits for the queued work and makes the outputs visible in host memory: zero-copy, a blocking
     * map and an unmap of each output, or where the driver runs kernels in the host memory itself
     * ({@link DeviceSession#finishSyncs()}) one {@code clFinish}; otherwise a read of each output.
     */
    void complete() {
        if (zeroCopy && session.finishSyncs()) {
            session.queue().finish();
            return;
        }
        for (int i = 0; i < out.length; i++) {
            if (zeroCopy) {
                // A blocking map synchronises the host memory with the device's view of it; on a
                // USE_HOST_PTR buffer of a host-unified device it copies nothing.
                ByteBuffer mapped = session.queue().map(out[i], Cl.CL_MAP_READ, dst[i].remaining());
                session.queue().unmap(out[i], mapped);
            } else {
                session.queue().read(out[i], dst[i], i == out.length - 1);
            }
        }
    }

    @Override
    public void close() {
        release(in);
        release(out);
        // A direct buffer's memory is freed once it is unreachable; the non-blocking writes (or
        // the USE_HOST_PTR buffers) used src and dst until the wait in complete() (or the
        // releases above).
        Reference.reachabilityFence(src);
        Reference.reachabilityFence(dst);
    }

    private void release(ClBuffer[] buffers) {
        for (int i = 0; i < buffers.length; i++) {
            if (buffers[i] != null) {
                if (zeroCopy) {
                    buffers[i].close();
                } else {
                    session.buffers().give(buffers[i]);
                }
                buffers[i] = null;
            }
        }
    }
}
