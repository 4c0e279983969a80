package dev.clpool.opencl;

import dev.clpool.Axis;
import dev.clpool.DType;
import dev.clpool.PlanarGeometry;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.lang.ref.Reference;

/**
 * Backward of windowed max and avg pooling ({@code backward_nhwc.cl}: a gather over the outputs
 * whose windows contain each input element, so no atomics), specialised with the forward pool's
 * {@code -D} set; max first finds each window's argmax once ({@code pool2d_argmax}) into a
 * scratch buffer. Host tensors go in batch chunks ({@link HostBatches}): max reads the input and
 * the output gradient, avg only the output gradient; a batch item too large for one allocation is
 * refused. Device tensors are only enqueued. One channel on a CPU device (the channels-first
 * planes the host lowers to) runs {@code backward_rows.cl} instead of {@code pool2d_backward}, and
 * max's argmax pass {@code pool_planar_indices.cl}'s {@code pool_planar_argmax}: same bits.
 */
final class BackwardRoutine {
    static final String FILE = "backward_nhwc.cl";
    static final String KERNEL = "pool2d_backward";
    static final String ARGMAX = "pool2d_argmax";
    static final String ROWS_FILE = "backward_rows.cl";

    private final DeviceSession session;

    BackwardRoutine(DeviceSession session) {
        this.session = session;
    }

    private static void check(PoolGeometry g) {
        if (g.mode() != PoolMode.MAX && g.mode() != PoolMode.AVG) {
            throw new IllegalArgumentException("backward pooling supports max and avg, not " + g.mode().word());
        }
    }

    void run(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn) {
        check(g);
        Shape is = g.input();
        boolean readsInput = g.mode() == PoolMode.MAX;
        HostBatches.Side dy = HostBatches.Side.of(gradOut);
        HostBatches.Op op = new HostBatches.Op(is.n(), Math.max(is.itemSize(), g.output().itemSize()),
                readsInput ? new HostBatches.Side[] {HostBatches.Side.of(in), dy} : new HostBatches.Side[] {dy},
                new HostBatches.Side[] {HostBatches.Side.of(gradIn)}, readsInput ? g.output().itemSize() * Integer.BYTES : 0);
        try {
            session.locked(() -> HostBatches.run(session, op, (i, o, n0, nb) ->
                    enqueue(g, in.dtype(), readsInput ? i[0] : null, i[i.length - 1], o[0], nb)));
        } finally {
            Reference.reachabilityFence(in);
            Reference.reachabilityFence(gradOut);
            Reference.reachabilityFence(gradIn);
        }
    }

    void run(PoolGeometry g, ResidentBuffer in, ResidentBuffer gradOut, ResidentBuffer gradIn) {
        check(g);
        session.locked(() -> enqueue(g, DType.FLOAT32, in.buffer(), gradOut.buffer(), gradIn.buffer(), g.input().n()));
    }

    /**
     * Enqueues the gradient of {@code nb} items; {@code in} may be null for avg, which never reads
     * it. Max first writes each output's argmax tap to a scratch buffer from the pool (given back
     * at once: later users of it are queued after these kernels).
     */
    private void enqueue(PoolGeometry g, DType dtype, ClBuffer in, ClBuffer gradOut, ClBuffer gradIn, int nb) {
        Shape is = g.input();
        Shape os = g.output();
        boolean rows = is.c() == 1 && session.groups().channelLoop();
        if (rows && g.mode() == PoolMode.AVG) {
            enqueueRows(g, dtype, gradOut, gradOut, gradIn, nb); // no argmax: any buffer stands in
            return;
        }
        if (rows) {
            ClBuffer arg = session.buffers().take((long) nb * os.itemSize() * Integer.BYTES);
            try {
                enqueueArgmaxRows(g, dtype, in, arg, nb);
                enqueueRows(g, dtype, arg, gradOut, gradIn, nb);
            } finally {
                session.buffers().give(arg);
            }
            return;
        }
        WorkGroups groups = session.groups();
        int vec = groups.pixelVector(is.c());
        String opts = KernelOptions.pool(g, vec, session.accDouble(), groups.channelLoop(), 1) + KernelOptions.storage(dtype);
        ClKernel kernel = session.kernel(FILE, opts, KERNEL);
        long[][] range = groups.pixels(is.c() / vec, is.w(), (long) nb * is.h());
        if (g.mode() != PoolMode.MAX) {
            // avg never reads an argmax: the gradient buffer stands in for it.
            kernel.args(gradOut, gradOut, gradIn, is.h(), is.w(), is.c(), os.h(), os.w());
            session.queue().run(kernel, range[0], range[1]);
            return;
        }
        ClKernel argmax = session.kernel(FILE, opts, ARGMAX);
        ClBuffer arg = session.buffers().take((long) nb * os.itemSize() * Integer.BYTES);
        try {
            argmax.args(in, arg, is.h(), is.w(), is.c(), os.h(), os.w());
            long[][] outRange = groups.pixels(is.c() / vec, os.w(), (long) nb * os.h());
            session.queue().run(argmax, outRange[0], outRange[1]);
            kernel.args(arg, gradOut, gradIn, is.h(), is.w(), is.c(), os.h(), os.w());
            session.queue().run(kernel, range[0], range[1]);
        } finally {
            session.buffers().give(arg);
        }
    }

    /**
     * The argmax pass of one channel on a CPU device: {@code pool_planar_indices.cl}'s
     * {@code pool_planar_argmax}, the row loop of {@code pool_planar_indices} recording each
     * output's tap as {@code pool2d_argmax} does (one output per work item at C = 1, 3-5x slower
     * on PoCL). The same taps.
     */
    private void enqueueArgmaxRows(PoolGeometry g, DType dtype, ClBuffer in, ClBuffer arg, int nb) {
        Shape is = g.input();
        Shape os = g.output();
        PlanarGeometry planes = new PlanarGeometry(nb, new Axis[] {g.rows(), g.cols()}, PoolMode.MAX, 1, false);
        String opts = KernelOptions.planar(planes, PlanarPoolRoutine.CPU_VECTOR, session.accDouble(), true)
                + " -D ARGMAX_TAPS=1" + KernelOptions.storage(dtype);
        ClKernel kernel = session.kernel(PlanarPoolRoutine.INDICES_FILE, opts, "pool_planar_argmax");
        int rows = nb * os.h();
        kernel.args(in, arg, is.h(), is.w(), os.h(), os.w(), rows, PlanarPoolRoutine.inEnd(nb, is.h() * (long) is.w()));
        long[][] range = session.groups().planar(rows, os.w(), os.h(), nb);
        session.queue().run(kernel, range[0], range[1]);
    }

    /**
     * One channel on a CPU device: {@code backward_rows.cl}, one work item per input row walking
     * it along W a vector at a time, where {@code pool2d_backward} would run one element per work
     * item (5-10x slower on PoCL). The same sums in the same order, so the same bits. Max reads
     * {@code arg}, the argmax pass's taps ({@link #enqueueArgmaxRows}).
     */
    private void enqueueRows(PoolGeometry g, DType dtype, ClBuffer arg, ClBuffer gradOut, ClBuffer gradIn, int nb) {
        Shape is = g.input();
        Shape os = g.output();
        String opts = KernelOptions.pool(g, PlanarPoolRoutine.CPU_VECTOR, session.accDouble()) + " -D ROWLOOP=1"
                + KernelOptions.storage(dtype);
        ClKernel kernel = session.kernel(ROWS_FILE, opts, "backward_rows");
        int rows = nb * is.h();
        kernel.args(arg, gradOut, gradIn, is.h(), is.w(), os.h(), os.w(), rows);
        long[][] range = session.groups().planar(rows, is.w(), is.h(), nb);
        session.queue().run(kernel, range[0], range[1]);
    }
}
