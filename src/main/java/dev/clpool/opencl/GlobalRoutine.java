package dev.clpool.opencl;

import dev.clpool.DType;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Global max and avg pooling ({@code global_nhwc.cl}): a two-pass reduction, contiguous pixel runs
 * ({@code global_partial}) and then the runs ({@code global_final}), one pass where a plane is one
 * run. Host tensors go in batch chunks ({@link HostBatches}); a plane too large for one allocation
 * is reduced in pixel ranges whose partial results the host combines; device tensors are only
 * enqueued.
 */
final class GlobalRoutine {
    private static final Logger LOG = LoggerFactory.getLogger(GlobalRoutine.class);
    static final String FILE = "global_nhwc.cl";

    private final DeviceSession session;

    GlobalRoutine(DeviceSession session) {
        this.session = session;
    }

    static void check(PoolMode mode) {
        if (mode != PoolMode.MAX && mode != PoolMode.AVG) {
            throw new IllegalArgumentException("global pooling supports max and avg, not " + mode.word());
        }
    }

    void run(PoolMode mode, Tensor in, Tensor out) {
        check(mode);
        Shape s = in.shape();
        HostBatches.Op op = HostBatches.Op.of(in, out);
        try {
            session.locked(() -> {
                if (op.chunkItems(session.limits()) < 1) {
                    inRanges(mode, in, out);
                } else {
                    HostBatches.run(session, op, (i, o, n0, nb) -> enqueue(mode, in.dtype(), s, i[0], o[0], nb));
                }
            });
        } finally {
            Reference.reachabilityFence(in);
            Reference.reachabilityFence(out);
        }
    }

    void run(PoolMode mode, ResidentBuffer in, ResidentBuffer out) {
        check(mode);
        Shape s = in.shape();
        session.locked(() -> enqueue(mode, DType.FLOAT32, s, in.buffer(), out.buffer(), s.n()));
    }

    /**
     * How global pooling spreads {@code nb} planes of {@code hw} pixels and {@code c} channels over
     * work items: channels per vector, channel vectors per work item, and pixel runs of
     * {@code chunk} pixels, {@code runs} of them per plane.
     */
    private record Plan(int c, int hw, int vec, int blocks, int chunk, int runs) {
        int lanes() {
            return c / vec;
        }
    }

    private Plan plan(int c, int hw, int nb) {
        WorkGroups groups = session.groups();
        int vec = KernelOptions.wideVectorWidth(c);
        int blocks = groups.globalBlocks(c / vec);
        int lanes = c / vec / blocks;
        // Pixel runs per plane: enough work items to fill the device, runs of at least 32 pixels.
        long target = Math.max(1, session.device().info().computeUnits()) * (long) groups.globalItemsPerUnit();
        long wanted = (target + (long) nb * lanes - 1) / ((long) nb * lanes);
        int chunks = (int) Math.max(1, Math.min(wanted, (hw + 31) / 32));
        int chunk = (hw + chunks - 1) / chunks;
        return new Plan(c, hw, vec, blocks, chunk, (hw + chunk - 1) / chunk);
    }

    /**
     * Enqueues global pooling of {@code nb} items of shape {@code s} (per item) from {@code in} to
     * {@code out}, both stored as {@code dtype}; does not wait.
     */
    void enqueue(PoolMode mode, DType dtype, Shape s, ClBuffer in, ClBuffer out, int nb) {
        Plan p = plan(s.c(), s.h() * s.w(), nb);
        if (rowsAvg(mode, p, nb)) {
            String opts = KernelOptions.globalRows(p.vec(), ROWS, ROW_ACC) + KernelOptions.storage(dtype);
            ClKernel rows = session.kernel(FILE, opts, "global_avg_rows");
            rows.args(in, out, p.hw(), s.c());
            session.queue().run(rows, new long[] {nb}, new long[] {1});
            return;
        }
        if (p.runs() == 1) {
            // One run per plane: the first pass writes the results; no partials, one launch.
            enqueuePartial(mode, dtype, p, true, in, out, nb);
            return;
        }
        long partBytes = (long) nb * p.runs() * s.c() * partialBytes(mode);
        long[][] finalRange = session.groups().globalFinal(p.lanes(), nb);
        String opts = KernelOptions.global(mode, p.vec(), session.accDouble(), p.blocks()) + KernelOptions.storage(dtype);
        ClKernel fin = session.kernel(FILE, opts, "global_final");
        ClBuffer part = session.buffers().take(partBytes);
        try {
            enqueuePartial(mode, dtype, p, false, in, part, nb);
            fin.args(part, out, p.hw(), s.c(), p.runs());
            session.queue().run(fin, finalRange[0], finalRange[1]);
        } finally {
            session.buffers().give(part); // reusable at once: later users are queued after these kernels
        }
    }

    /** Pixels per pass of {@code global_avg_rows}: ResNet-50's and MobileNet's 7x7 heads take seven passes of seven. */
    static final int ROWS = 7;
    /** Most channel vectors of {@code global_avg_rows}' private sums: 2048 channels at VEC 16, 16 KB of doubles. */
    static final int ROW_ACC = 128;

    /**
     * Whether {@code nb} planes of average in plan {@code p} run {@code global_avg_rows}: a CPU
     * device (a work item is a loop on one thread) with double sums, planes that are one pixel run
     * already (so one work item per plane keeps every run as it was; larger planes with few items
     * keep their pixel runs), at most {@link #ROW_ACC} channel vectors, and at least four planes
     * per compute unit. Same bits as {@code global_partial} (each channel's pixels in plane order).
     * {@code -Dclpool.opencl.globalRows=always|never} ({@link ForcedChoice}) forces it for tests.
     */
    private boolean rowsAvg(PoolMode mode, Plan p, int nb) {
        boolean supported = mode == PoolMode.AVG && session.accDouble() && session.groups().channelLoop()
                && p.c() % p.vec() == 0 && p.c() / p.vec() <= ROW_ACC;
        return ForcedChoice.chosen("clpool.opencl.globalRows", supported, () -> p.runs() == 1
                && nb >= 4L * Math.max(1, session.device().info().computeUnits()));
    }

    /**
     * Enqueues the first pass over {@code nb} planes: into {@code out}, the results where
     * {@code single} (one run per plane), else each run's partial result (a maximum, or a sum in
     * the accumulator's type: {@link #partialBytes} each).
     */
    private void enqueuePartial(PoolMode mode, DType dtype, Plan p, boolean single, ClBuffer in, ClBuffer out, int nb) {
        String opts = KernelOptions.global(mode, p.vec(), session.accDouble(), p.blocks(), single) + KernelOptions.storage(dtype);
        long[][] range = session.groups().globalPartial(p.lanes() / p.blocks(), p.runs(), nb);
        ClKernel partial = session.kernel(FILE, opts, "global_partial");
        partial.args(in, out, p.hw(), p.c(), p.chunk(), p.runs());
        session.queue().run(partial, range[0], range[1]);
    }

    /** Bytes of one partial result: a double sum where averages accumulate in double. */
    private int partialBytes(PoolMode mode) {
        return session.accDouble() && mode == PoolMode.AVG ? Double.BYTES : Float.BYTES;
    }

    /**
     * Global pooling of a tensor one batch item of which does not fit in a device allocation (or
     * the kernels' offsets): each plane in ranges of whole pixels, as many as fit, one after
     * another through {@link Staging}. The device reduces a range to the partial results of its
     * pixel runs (maxima, or sums in the accumulator's type: never rounded averages); the host
     * combines them in plane order, maxima by the kernels' rule (so the result is a sequential
     * scan's, bit for bit) and sums in double, divided once by H*W and rounded once into the
     * output's type, as the kernels do.
     */
    private void inRanges(PoolMode mode, Tensor in, Tensor out) {
        Shape s = in.shape();
        int c = s.c();
        int hw = s.h() * s.w();
        long pixelBytes = (long) c * in.dtype().byteSize();
        long perRange = session.limits().pixelsPerRange(hw, c, in.dtype().byteSize());
        long ranges = (hw + perRange - 1) / perRange;
        session.countSplit(s.n() * ranges);
        LOG.debug("global {} on {}: a batch item does not fit in one device allocation ({});"
                + " reducing each plane in {} pixel ranges", mode.word(), s, session.limits(), ranges);
        boolean sums = mode == PoolMode.AVG;
        int partBytes = partialBytes(mode);
        ByteBuffer src = in.buffer();
        ByteBuffer parts = ByteBuffer.allocateDirect(0); // host memory for a range's partials, grown as needed
        double[] sum = new double[c];
        float[] max = new float[c];
        for (int n = 0; n < s.n(); n++) {
            Arrays.fill(sum, 0);
            Arrays.fill(max, Float.NEGATIVE_INFINITY);
            for (long p0 = 0; p0 < hw; p0 += perRange) {
                Plan plan = plan(c, (int) Math.min(perRange, hw - p0), 1);
                int partsBytes = plan.runs() * c * partBytes;
                if (parts.capacity() < partsBytes) {
                    parts = ByteBuffer.allocateDirect(partsBytes);
                }
                ByteBuffer part = parts.slice(0, partsBytes).order(ByteOrder.nativeOrder());
                try (Staging st = new Staging(session, HostBatches.slice(src, (n * (long) hw + p0) * pixelBytes,
                        plan.hw() * pixelBytes), part)) {
                    enqueuePartial(mode, in.dtype(), plan, false, st.in[0], st.out[0], 1);
                    st.complete();
                }
                // Partial k of channel ch at k*C + ch: runs in plane order.
                for (int i = 0; i < plan.runs() * c; i++) {
                    if (!sums) {
                        float v = part.getFloat(i * Float.BYTES);
                        float m = max[i % c];
                        max[i % c] = v > m || (v != v && m == m) ? v : m; // common.cl's MAX_UPDATE: the first NaN stays
                    } else {
                        sum[i % c] += partBytes == Double.BYTES ? part.getDouble(i * Double.BYTES) : part.getFloat(i * Float.BYTES);
                    }
                }
            }
            for (int ch = 0; ch < c; ch++) {
                out.set(n, 0, 0, ch, sums ? (float) (sum[ch] / hw) : max[ch]);
            }
        }
    }
}
