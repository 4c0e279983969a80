package dev.clpool.opencl;

import dev.clpool.DType;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Windowed pooling ({@code pool2d_nhwc.cl}, kernel {@code pool2d}; 16-bit max windows on CPU
 * devices in {@code pool2d_stored.cl}, on the stored patterns; large max and average windows
 * in {@link SeparablePool}'s two passes where its cost model says so, large averages on CPU
 * devices in {@link SlidingPool}'s one kernel): in the session's layout
 * (channel loop on CPU devices, channel lanes elsewhere), over host tensors in batch chunks
 * ({@link HostBatches}) or, when one batch item does not fit, item by item in row bands
 * ({@link RowBands}); over device tensors, only enqueued.
 */
final class PoolRoutine {
    private static final Logger LOG = LoggerFactory.getLogger(PoolRoutine.class);
    static final String FILE = "pool2d_nhwc.cl";
    /** Max windows over float16 and bfloat16 on CPU devices ({@link KernelOptions#maxStored}). */
    static final String STORED_FILE = "pool2d_stored.cl";

    private final DeviceSession session;

    PoolRoutine(DeviceSession session) {
        this.session = session;
    }

    void run(PoolGeometry g, Tensor in, Tensor out) {
        HostBatches.Op op = HostBatches.Op.of(in, out);
        try {
            session.locked(() -> {
                if (op.chunkItems(session.limits()) < 1) {
                    inBands(g, in, out);
                } else {
                    HostBatches.run(session, op, (i, o, n0, nb) -> enqueue(g, in.dtype(), i[0], o[0], nb));
                }
            });
        } finally {
            Reference.reachabilityFence(in);
            Reference.reachabilityFence(out);
        }
    }

    void run(PoolGeometry g, ResidentBuffer in, ResidentBuffer out) {
        session.locked(() -> enqueue(g, DType.FLOAT32, in.buffer(), out.buffer(), g.input().n()));
    }

    /**
     * Pools a tensor one batch item of which does not fit in a device allocation (or in the
     * kernels' offsets): each item in row bands, band after band through {@link Staging}.
     */
    private void inBands(PoolGeometry g, Tensor in, Tensor out) {
        int inBytes = in.dtype().byteSize();
        int outBytes = out.dtype().byteSize();
        List<RowBands.Band> bands = bands(session, g, inBytes, outBytes);
        ByteBuffer src = in.buffer();
        ByteBuffer dst = out.buffer();
        for (int n = 0; n < g.input().n(); n++) {
            for (RowBands.Band b : bands) {
                try (Staging st = new Staging(session, RowBands.rows(src, g.input(), inBytes, n, b.inFrom(), b.inTo()),
                        RowBands.rows(dst, g.output(), outBytes, n, b.outFrom(), b.outTo()))) {
                    enqueue(b.geometry(), in.dtype(), st.in[0], st.out[0], 1);
                    st.complete();
                }
            }
        }
    }

    /** The row bands of {@link Limits#rowBands}, counted and logged. */
    static List<RowBands.Band> bands(DeviceSession session, PoolGeometry g, int inBytes, int outBytes) {
        List<RowBands.Band> bands = session.limits().rowBands(g, inBytes, outBytes);
        session.countSplit((long) g.input().n() * bands.size());
        LOG.debug("{} on {}: a batch item does not fit in one device allocation ({});"
                + " pooling each in {} row bands", g.spec(), g.input(), session.limits(), bands.size());
        return bands;
    }

    /**
     * Enqueues the pool kernel over {@code nb} batch items of {@code g.input()} already on the
     * device, writing {@code nb} items of {@code g.output()} to {@code out}, both stored as
     * {@code dtype}; does not wait. Host chunks, row bands, device tensors and {@link SelfTest}
     * all dispatch through here.
     */
    void enqueue(PoolGeometry g, DType dtype, ClBuffer in, ClBuffer out, int nb) {
        Shape is = g.input();
        Shape os = g.output();
        // LP runs one channel per step (pool2d_nhwc.cl), except p = 2 with double sums.
        boolean scalarLp = g.mode() == PoolMode.LP && !KernelOptions.lpVector(g.spec().p(), session.accDouble());
        int vec = scalarLp ? 1 : KernelOptions.wideVectorWidth(is.c());
        if (SlidingPool.chosen(g, session.accDouble(), session.groups().channelLoop())) {
            SlidingPool.enqueue(session, g, dtype, in, out, nb, vec);
            return;
        }
        if (SeparablePool.chosen(g, session.accDouble(), session.limits(), nb)) {
            SeparablePool.enqueue(session, g, dtype, in, out, nb, vec);
            return;
        }
        WorkGroups groups = session.groups();
        boolean channelLoop = groups.channelLoop();
        int forced = session.pixelsPerItemOverride();
        int opx = !channelLoop || scalarLp ? 1 : forced > 0 ? forced
                : WorkGroups.pixelsPerItem(g.cols().window(), g.cols().stride(), g.cols().dilation(), true);
        boolean stored = KernelOptions.maxStored(g, dtype, channelLoop);
        String opts = KernelOptions.pool(g, vec, session.accDouble(), channelLoop, opx)
                + KernelOptions.maxRuns(g, vec, dtype, channelLoop, stored) + KernelOptions.avgRuns(g, vec, channelLoop)
                + KernelOptions.storage(dtype);
        long[][] range = groups.pool(nb, os.h(), os.w(), is.c() / vec, opx);
        session.locked(() -> {
            ClKernel kernel = stored ? session.kernel(STORED_FILE, opts, "pool2d_stored") : session.kernel(FILE, opts, "pool2d");
            kernel.args(in, out, is.h(), is.w(), is.c(), os.h(), os.w());
            session.queue().run(kernel, range[0], range[1]);
        });
    }
}
