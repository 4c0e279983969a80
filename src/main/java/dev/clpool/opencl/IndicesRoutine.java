package dev.clpool.opencl;

import dev.clpool.Axis;
import dev.clpool.DType;
import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.PlanarGeometry;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.backend.HostIndices;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;

/**
 * Max pooling with indices ({@code pool2d_indices_nhwc.cl}): the values of {@code pool2d} and,
 * per output element, the int64 index of the input element they came from. Host tensors go in
 * batch chunks ({@link HostBatches}: three buffers per chunk, the indices twice the values' size)
 * or, where one item does not fit, item by item in row bands ({@link RowBands}), the kernel then
 * turning a band's positions into the item's by the band's first row. Device tensors (indices
 * from {@link DeviceSession#resident} with a convention) are only enqueued.
 */
final class IndicesRoutine {
    static final String FILE = "pool2d_indices_nhwc.cl";

    private final DeviceSession session;

    IndicesRoutine(DeviceSession session) {
        this.session = session;
    }

    /** Build options: pool2d's parameters and layout ({@code channelLoop}) plus the index convention. */
    static String options(PoolGeometry g, int vec, boolean channelLoop, IndexConvention convention) {
        return KernelOptions.pool(g, vec, false, channelLoop, 1) + " -D INDEX_CONVENTION=" + convention.ordinal();
    }

    void run(PoolGeometry g, Tensor in, Tensor out, Indices indices) {
        run(g, in, out, indices, indices.convention(), 1);
    }

    /**
     * Max with indices of the planes of a channels-first tensor with {@code channels} channels,
     * seen as one channel ({@code g.input()} is (N·C, H, W, 1)): {@code indices} receives that
     * tensor's {@code nhwc} indices, {@code (y·W + x)·C + c} for plane {@code n·C + c}, whatever its
     * convention says. On a CPU device with whole planes per launch the kernel forms them as it
     * writes them; otherwise (row bands, GPUs) the plane positions are rewritten on the host after.
     */
    void runNhwcPlanes(PoolGeometry g, Tensor in, Tensor out, Indices indices, int channels) {
        if (session.groups().channelLoop() && op(g, in, out, indices).chunkItems(session.limits()) >= 1) {
            run(g, in, out, indices, IndexConvention.NHWC, channels);
        } else {
            run(g, in, out, indices, IndexConvention.PYTORCH, 1);
            HostIndices.planeToNhwc(indices, g.output().n(), (long) g.output().h() * g.output().w(), channels);
        }
    }

    private static HostBatches.Op op(PoolGeometry g, Tensor in, Tensor out, Indices indices) {
        Shape is = g.input();
        Shape os = g.output();
        return new HostBatches.Op(is.n(), Math.max(is.itemSize(), os.itemSize()),
                new HostBatches.Side[] {HostBatches.Side.of(in)},
                new HostBatches.Side[] {HostBatches.Side.of(out), new HostBatches.Side(indices.buffer(), os.itemSize() * Long.BYTES)});
    }

    /** {@link #run(PoolGeometry, Tensor, Tensor, Indices)} in {@code conv}, planes of {@code channels} channels. */
    private void run(PoolGeometry g, Tensor in, Tensor out, Indices indices, IndexConvention conv, int channels) {
        Shape is = g.input();
        HostBatches.Op op = op(g, in, out, indices);
        try {
            session.locked(() -> {
                if (op.chunkItems(session.limits()) < 1) {
                    inBands(g, in, out, indices);
                } else {
                    HostBatches.run(session, op, (i, o, n0, nb) ->
                            enqueue(g, in.dtype(), conv, channels, n0, nb, 0, is.h(), i[0], o[0], o[1]));
                }
            });
        } finally {
            Reference.reachabilityFence(in);
            Reference.reachabilityFence(out);
            Reference.reachabilityFence(indices);
        }
    }

    void run(PoolGeometry g, ResidentBuffer in, ResidentBuffer out, ResidentBuffer indices) {
        Shape is = g.input();
        session.locked(() -> enqueue(g, DType.FLOAT32, indices.convention(), 1, 0, is.n(), 0, is.h(),
                in.buffer(), out.buffer(), indices.buffer()));
    }

    private void inBands(PoolGeometry g, Tensor in, Tensor out, Indices indices) {
        Shape is = g.input();
        Shape os = g.output();
        int inBytes = in.dtype().byteSize();
        int outBytes = out.dtype().byteSize();
        ByteBuffer src = in.buffer();
        ByteBuffer dst = out.buffer();
        ByteBuffer idx = indices.buffer();
        for (RowBands.Band b : PoolRoutine.bands(session, g, inBytes, Long.BYTES)) {
            for (int n = 0; n < is.n(); n++) {
                ByteBuffer[] outs = {RowBands.rows(dst, os, outBytes, n, b.outFrom(), b.outTo()),
                        RowBands.rows(idx, os, Long.BYTES, n, b.outFrom(), b.outTo())};
                try (Staging st = new Staging(session,
                        new ByteBuffer[] {RowBands.rows(src, is, inBytes, n, b.inFrom(), b.inTo())}, outs)) {
                    enqueue(b.geometry(), in.dtype(), indices.convention(), 1, n, 1, b.inFrom(), is.h(),
                            st.in[0], st.out[0], st.out[1]);
                    st.complete();
                }
            }
        }
    }

    /**
     * Enqueues one launch over {@code nb} items of {@code g.input()}'s height in {@code in} (the
     * whole items of a chunk, or one band of an item): the first is batch item {@code n0} (ONNX
     * indices count items from the start of the whole tensor), and their first row is row
     * {@code y0} of items of {@code itemH} rows. {@code channels} is 1, or with {@link
     * IndexConvention#NHWC} the channel count of the channels-first tensor whose planes the
     * one-channel items are (then the launch must take {@link #enqueuePlanes}).
     */
    private void enqueue(PoolGeometry g, DType dtype, IndexConvention convention, int channels, int n0, int nb,
                         int y0, int itemH, ClBuffer in, ClBuffer out, ClBuffer idx) {
        Shape is = g.input();
        Shape os = g.output();
        if (is.c() == 1 && y0 == 0 && itemH == is.h() && session.groups().channelLoop()) {
            enqueuePlanes(g, dtype, convention, channels, n0, nb, in, out, idx);
            return;
        }
        if (channels != 1) {
            throw new IllegalStateException("nhwc indices of " + channels + "-channel planes need the planar kernel");
        }
        WorkGroups groups = session.groups();
        int vec = groups.pixelVector(is.c());
        ClKernel kernel = session.kernel(FILE, options(g, vec, groups.channelLoop(), convention) + KernelOptions.storage(dtype),
                "pool2d_indices");
        kernel.args(in, out, idx, is.h(), is.w(), is.c(), os.h(), os.w(), n0, y0, itemH);
        long[][] range = groups.pixels(is.c() / vec, os.w(), (long) nb * os.h());
        session.queue().run(kernel, range[0], range[1]);
    }

    /**
     * One channel on a CPU device (the channels-first planes that the host lowers max with indices
     * to): {@code pool_planar_indices.cl}'s kernel {@code pool_planar_indices}, one work item per output
     * row along W, where {@code pool2d_indices} would run one lane per work item (5x slower on
     * PoCL). Same values and indices; with {@link IndexConvention#NHWC} and {@code channels} C the
     * planes are the channels of a channels-first tensor, and the kernel writes its {@code nhwc}
     * indices (plane position times C plus the channel).
     */
    private void enqueuePlanes(PoolGeometry g, DType dtype, IndexConvention convention, int channels, int n0, int nb,
                               ClBuffer in, ClBuffer out, ClBuffer idx) {
        Shape is = g.input();
        Shape os = g.output();
        PlanarGeometry planes = new PlanarGeometry(nb, new Axis[] {g.rows(), g.cols()}, PoolMode.MAX, 1, false);
        String opts = KernelOptions.planar(planes, PlanarPoolRoutine.CPU_VECTOR, session.accDouble(), true)
                + " -D INDEX_CONVENTION=" + convention.ordinal() + KernelOptions.storage(dtype);
        ClKernel kernel = session.kernel(PlanarPoolRoutine.INDICES_FILE, opts, "pool_planar_indices");
        int rows = nb * os.h();
        kernel.args(in, out, idx, is.h(), is.w(), os.h(), os.w(), rows, n0, channels,
                PlanarPoolRoutine.inEnd(nb, is.h() * (long) is.w()));
        long[][] range = session.groups().planar(rows, os.w(), os.h(), nb);
        session.queue().run(kernel, range[0], range[1]);
    }
}
