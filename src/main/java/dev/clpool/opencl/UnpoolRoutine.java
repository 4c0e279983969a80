package dev.clpool.opencl;

import dev.clpool.Indices;
import dev.clpool.Layout;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import dev.clpool.UnpoolGeometry;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Consumer;
import java.util.function.LongUnaryOperator;

/**
 * Max unpooling ({@code unpool.cl}) of host tensors of every rank, layout and storage type, in one
 * piece: the values and indices are staged ({@link Staging}: zero-copy on host-unified devices),
 * {@code unpool_init} and {@code unpool_scatter} decode every index into a device-only winner
 * buffer (one int per output element, the last value in channels-last order winning by atomic_max)
 * and the first bad position (atomic_min), which the host reads back; only when there is none is the
 * output staged and written by {@code unpool_gather}, so a bad index leaves it untouched. Tensors
 * beyond one allocation or the kernels' 32-bit offsets are refused
 * ({@link dev.clpool.backend.BackendLimitException}: the engine then runs the request on the CPU
 * path); ONNX indices may cross batch items, so there is no batch chunking.
 */
final class UnpoolRoutine {
    static final String FILE = "unpool.cl";
    /** What unpool_scatter's bad position holds when every index is good. */
    private static final int NO_BAD = Integer.MAX_VALUE;

    private final DeviceSession session;

    UnpoolRoutine(DeviceSession session) {
        this.session = session;
    }

    /** Build options: the index convention, the layout, the storage width and how work items share elements. */
    static String options(UnpoolGeometry g, int elementBytes, boolean contiguous) {
        return "-D VEC=1 -D ACC_DOUBLE=0 -D INDEX_CONVENTION=" + g.convention().ordinal()
                + " -D CHANNELS_FIRST=" + (g.values().layout() == Layout.CHANNELS_FIRST ? 1 : 0)
                + " -D ELEMENT_BITS=" + elementBytes * Byte.SIZE + " -D CONTIGUOUS=" + (contiguous ? 1 : 0);
    }

    void run(UnpoolGeometry g, Tensor values, Indices indices, Tensor out) {
        g.check(values, indices, out);
        long vt = g.values().elementCount();
        long ot = g.output().elementCount();
        int bytes = values.dtype().byteSize();
        session.limits().requireChunkItems(Math.max(vt, ot), vt * bytes, vt * Long.BYTES, ot * bytes, ot * Integer.BYTES);
        try {
            session.locked(() -> unpool(g, values, indices, out, bytes));
        } finally {
            Reference.reachabilityFence(values);
            Reference.reachabilityFence(indices);
            Reference.reachabilityFence(out);
        }
    }

    private void unpool(UnpoolGeometry g, Tensor values, Indices indices, Tensor out, int bytes) {
        try (Staging in = new Staging(session, new ByteBuffer[] {values.buffer(), indices.buffer()}, new ByteBuffer[0])) {
            unpool(g, bytes, in.in[0], in.in[1], position -> indices.longs().get(Math.toIntExact(g.storageOffset(position))),
                    gather -> {
                        try (Staging o = new Staging(session, new ByteBuffer[0], new ByteBuffer[] {out.buffer()})) {
                            gather.accept(o.out[0]);
                            o.complete();
                        }
                    });
        }
    }

    /**
     * Max unpooling between device tensors ({@code indices} int64, in {@code g.convention()}), float32:
     * queued, except that it waits for the index check (one int read back), so that a bad index is
     * refused here as on the host, with {@code out} untouched.
     */
    void run(UnpoolGeometry g, ResidentBuffer values, ResidentBuffer indices, ResidentBuffer out) {
        long vt = g.values().elementCount();
        long ot = g.output().elementCount();
        session.limits().requireChunkItems(Math.max(vt, ot), vt * Float.BYTES, vt * Long.BYTES, ot * Float.BYTES,
                ot * Integer.BYTES);
        session.locked(() -> unpool(g, Float.BYTES, values.buffer(), indices.buffer(), position -> {
            // Only to name a refused index: the indices come back whole, once.
            ByteBuffer all = ByteBuffer.allocateDirect(Math.toIntExact(vt * Long.BYTES)).order(ByteOrder.nativeOrder());
            indices.download(all.duplicate());
            return all.getLong(Math.toIntExact(g.storageOffset(position) * Long.BYTES));
        }, gather -> gather.accept(out.buffer())));
    }

    /** Where the output goes: {@link #unpool} hands the gather kernel's writer the output buffer. */
    private interface Output {
        void write(Consumer<ClBuffer> gather);
    }

    /**
     * The kernels over device buffers: scatter, the bad position read back (a refusal names the
     * index {@code indexAt} gives for it), then the gather into the buffer {@code out} provides.
     */
    private void unpool(UnpoolGeometry g, int bytes, ClBuffer values, ClBuffer indices, LongUnaryOperator indexAt,
                        Output out) {
        TensorShape vs = g.values();
        TensorShape os = g.output();
        int vt = Math.toIntExact(vs.elementCount());
        int ot = Math.toIntExact(os.elementCount());
        int[] o3 = padded(os);
        WorkGroups groups = session.groups();
        String opts = options(g, bytes, groups.channelLoop());
        int units = session.device().info().computeUnits();
        ClBuffer winner = session.buffers().take((long) ot * Integer.BYTES);
        ClBuffer bad = null;
        try {
            bad = session.buffers().take(Integer.BYTES);
            long[][] outRange = groups.linear(ot, units);
            session.queue().run(session.kernel(FILE, opts, "unpool_init").args(winner, bad, ot), outRange[0], outRange[1]);
            long[][] inRange = groups.linear(vt, units);
            session.queue().run(session.kernel(FILE, opts, "unpool_scatter").args(indices, winner, bad, vt, vs.n(),
                    vs.c(), Math.toIntExact(vs.spatialSize()), o3[0], o3[1], o3[2]), inRange[0], inRange[1]);
            ByteBuffer first = ByteBuffer.allocateDirect(Integer.BYTES).order(ByteOrder.nativeOrder());
            session.queue().read(bad, first, true);
            int position = first.getInt(0);
            if (position != NO_BAD) {
                throw g.badIndex(position, indexAt.applyAsLong(position));
            }
            out.write(dst -> session.queue().run(session.kernel(FILE, opts, "unpool_gather").args(values, winner, dst, ot,
                    vs.c(), Math.toIntExact(vs.spatialSize())), outRange[0], outRange[1]));
        } finally {
            // Later users of these buffers are queued after the kernels above (the in-order queue).
            session.buffers().give(winner);
            if (bad != null) {
                session.buffers().give(bad);
            }
        }
    }

    /** The output's spatial sizes as (D, H, W), 1 for the axes a lower rank lacks. */
    private static int[] padded(TensorShape s) {
        int[] d = {1, 1, 1};
        for (int a = 0; a < s.rank(); a++) {
            d[3 - s.rank() + a] = s.spatial(a);
        }
        return d;
    }
}
