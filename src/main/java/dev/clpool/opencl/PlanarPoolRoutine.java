package dev.clpool.opencl;

import dev.clpool.PlanarGeometry;
import dev.clpool.Axis;
import dev.clpool.DType;
import dev.clpool.PoolMode;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;

/**
 * Windowed pooling of channels-first tensors of spatial rank 1 to 3 ({@code pool_planar.cl},
 * kernel {@code pool_planar}): each of the N·C contiguous planes pooled along W in its own memory,
 * no transpose. Over host tensors in chunks of whole planes ({@link HostBatches}: zero-copy on
 * host-unified devices, pipelined on devices that copy); a plane too large for one device
 * allocation (or the kernels' 32-bit offsets) is refused. Over device tensors, only enqueued.
 *
 * <p>One program per spec, layout and storage: the rank and the sizes are not compiled in (a
 * lower rank's outer axes are windows of one), so a new size or rank of the same window never
 * recompiles.
 */
final class PlanarPoolRoutine {
    static final String FILE = "pool_planar.cl";
    /** The channels-first indices kernels and the argmax pass of max backward, built on {@link #FILE}. */
    static final String INDICES_FILE = "pool_planar_indices.cl";
    /**
     * Outputs per vector step along W on CPU devices (the row-loop layout). On PoCL 16 measured
     * the same as 8 within the noise of a shared machine; 8 leaves fewer outputs of a narrow row
     * (W of 14 to 28 in 3-D networks) to the one-at-a-time path.
     */
    static final int CPU_VECTOR = 8;

    private final DeviceSession session;

    PlanarPoolRoutine(DeviceSession session) {
        this.session = session;
    }

    /**
     * Pools {@code g.planes()} planes of {@code in} into {@code out}, both stored as {@code dtype}
     * (the buffers' remaining bytes must be exactly the planes'); waits for the result.
     */
    void run(PlanarGeometry g, DType dtype, ByteBuffer in, ByteBuffer out) {
        long inPlane = g.inputPlane();
        long outPlane = g.outputPlane();
        int bytes = dtype.byteSize();
        requireBytes("input", in.remaining(), g.planes() * inPlane * bytes);
        requireBytes("output", out.remaining(), g.planes() * outPlane * bytes);
        HostBatches.Op op = new HostBatches.Op(g.planes(), Math.max(inPlane, outPlane),
                new HostBatches.Side[] {new HostBatches.Side(in.slice(), inPlane * bytes)},
                new HostBatches.Side[] {new HostBatches.Side(out.slice(), outPlane * bytes)});
        try {
            session.locked(() -> HostBatches.run(session, op, (i, o, n0, nb) -> enqueue(g, dtype, i[0], o[0], nb)));
        } finally {
            Reference.reachabilityFence(in);
            Reference.reachabilityFence(out);
        }
    }

    /** The same over float32 device tensors holding exactly the planes of {@code g}: only enqueued. */
    void run(PlanarGeometry g, ResidentBuffer in, ResidentBuffer out) {
        requireBytes("input device tensor", in.shape().elementCount(), g.planes() * g.inputPlane());
        requireBytes("output device tensor", out.shape().elementCount(), g.planes() * g.outputPlane());
        session.locked(() -> {
            // Both tensors as one piece: within an allocation and the kernels' 32-bit offsets.
            long inElements = g.planes() * g.inputPlane();
            long outElements = g.planes() * g.outputPlane();
            session.limits().requireChunkItems(Math.max(inElements, outElements),
                    inElements * Float.BYTES, outElements * Float.BYTES);
            enqueue(g, DType.FLOAT32, in.buffer(), out.buffer(), g.planes());
        });
    }

    /**
     * Enqueues the kernel over {@code planes} planes of {@code g} already on the device, stored as
     * {@code dtype}; does not wait.
     */
    void enqueue(PlanarGeometry g, DType dtype, ClBuffer in, ClBuffer out, int planes) {
        Axis[] a = g.axes3();
        WorkGroups groups = session.groups();
        boolean rowLoop = groups.channelLoop();
        int vec = rowLoop && vectorMode(g) ? CPU_VECTOR : 1;
        String opts = KernelOptions.planar(g, vec, session.accDouble(), rowLoop) + KernelOptions.storage(dtype);
        long depthRows = (long) planes * a[0].out();
        // The staged rows' work items own bands of output rows, the flat planes' a plane (depth
        // slice): read from the options, so that a property changed meanwhile cannot split them.
        long rows = depthRows * (KernelOptions.planarRows(g, vec, session.accDouble(), rowLoop)
                ? (a[1].out() + KernelOptions.PLANAR_BAND - 1) / KernelOptions.PLANAR_BAND
                : opts.contains(" -D CF_FLAT") ? 1 : a[1].out());
        if (rows > Integer.MAX_VALUE) {
            throw new ClException("clEnqueueNDRangeKernel", -63 /* CL_INVALID_GLOBAL_WORK_SIZE */,
                    rows + " output rows exceed the 32-bit positions of the kernels");
        }
        long[][] range = groups.planar(rows, a[2].out(), a[1].out(), depthRows);
        session.locked(() -> {
            ClKernel kernel = session.kernel(FILE, opts, "pool_planar");
            kernel.args(in, out, a[0].in(), a[1].in(), a[2].in(), a[0].out(), a[1].out(), a[2].out(), (int) rows,
                    inEnd(planes, g.inputPlane()));
            session.queue().run(kernel, range[0], range[1]);
        });
    }

    /**
     * Whether the row loop takes vectors along W: max and avg, and L2 pooling (p = 2) with double
     * accumulators (one chain of squares per lane in {@code pool_one}'s order and a sqrt, so the
     * same bits); other LP one output at a time (PoCL 3.1's vector {@code pow} of doubles gave wrong
     * values).
     */
    private boolean vectorMode(PlanarGeometry g) {
        return g.mode() != PoolMode.LP || (session.accDouble() && KernelOptions.lpSquare(g.p()));
    }

    /**
     * The {@code inEnd} argument of {@code pool_planar.cl}'s kernels: the input elements of a
     * launch over {@code planes} planes of {@code plane} elements, below which their vectors may
     * read around a row's ends (capped at the largest int: the kernels' offsets are 32-bit).
     */
    static int inEnd(long planes, long plane) {
        return (int) Math.min(Integer.MAX_VALUE, planes * plane);
    }

    private static void requireBytes(String what, long have, long want) {
        if (have != want) {
            throw new IllegalArgumentException(what + ": " + have + " (bytes or elements), expected " + want);
        }
    }
}
