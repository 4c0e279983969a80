package dev.clpool.opencl;

import dev.clpool.DType;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.lang.ref.Reference;

/**
 * Global max and avg pooling of channels-first planes ({@code global_planar.cl}): one work item
 * per plane streams along its contiguous elements, where the 2-D global kernels would see the
 * planes as one channel and run one lane per work item (8x slower on PoCL). For CPU devices
 * (the row-loop layout) and batches of at least one work group of planes per compute unit;
 * otherwise, and for a plane too large for one allocation, {@link #covers} says no and the caller
 * runs the one-channel view on {@link GlobalRoutine}. Host tensors go in chunks of whole planes
 * ({@link HostBatches}); device tensors are only enqueued.
 */
final class PlanarGlobalRoutine {
    static final String FILE = "global_planar.cl";
    /** Elements per vector step; on PoCL 8 and 16 measured alike, 8 leaves a shorter tail. */
    static final int VEC = 8;

    private final DeviceSession session;

    PlanarGlobalRoutine(DeviceSession session) {
        this.session = session;
    }

    /**
     * Whether this kernel takes {@code planes} planes of {@code planeSize} elements: a row-loop
     * device, enough planes to give each compute unit a work group, and one plane within one
     * allocation and the kernels' offsets.
     */
    boolean covers(PoolMode mode, int planes, int planeSize) {
        WorkGroups groups = session.groups();
        long enough = (long) Math.max(1, session.device().info().computeUnits()) * WorkGroups.CPU_DEFAULT;
        return (mode == PoolMode.MAX || mode == PoolMode.AVG) && groups.channelLoop() && planes >= enough
                && session.limits().chunkItems(planeSize, (long) planeSize * Float.BYTES) >= 1;
    }

    /** Pools {@code planes} planes of {@code in} into {@code out} (one value each), host tensors; waits. */
    void run(PoolMode mode, int planes, int planeSize, Tensor in, Tensor out) {
        DType dtype = in.dtype();
        int bytes = dtype.byteSize();
        HostBatches.Op op = new HostBatches.Op(planes, planeSize,
                new HostBatches.Side[] {new HostBatches.Side(in.buffer(), (long) planeSize * bytes)},
                new HostBatches.Side[] {new HostBatches.Side(out.buffer(), bytes)});
        try {
            session.locked(() -> HostBatches.run(session, op,
                    (i, o, n0, nb) -> enqueue(mode, dtype, planeSize, i[0], o[0], nb)));
        } finally {
            Reference.reachabilityFence(in);
            Reference.reachabilityFence(out);
        }
    }

    /** The same over float32 device tensors holding exactly the planes and their results: only enqueued. */
    void run(PoolMode mode, int planes, int planeSize, ResidentBuffer in, ResidentBuffer out) {
        Shape s = in.shape();
        if (s.elementCount() != (long) planes * planeSize || out.shape().elementCount() != planes) {
            throw new IllegalArgumentException("device tensors of " + s + " and " + out.shape() + " do not hold "
                    + planes + " planes of " + planeSize);
        }
        session.locked(() -> {
            long elements = (long) planes * planeSize;
            session.limits().requireChunkItems(elements, elements * Float.BYTES);
            enqueue(mode, DType.FLOAT32, planeSize, in.buffer(), out.buffer(), planes);
        });
    }

    private void enqueue(PoolMode mode, DType dtype, int planeSize, ClBuffer in, ClBuffer out, int planes) {
        String opts = KernelOptions.globalPlanar(mode, VEC, session.accDouble()) + KernelOptions.storage(dtype);
        ClKernel kernel = session.kernel(FILE, opts, "global_planar");
        kernel.args(in, out, planeSize, planes);
        long[][] range = session.groups().planar(planes, 1, 1, planes);
        session.queue().run(kernel, range[0], range[1]);
    }
}
