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
 * Averages of stride 1 along W on CPU devices walk input rows instead ({@link #avgRows}).
 * Channels-first planes whose windows tile them two columns wide run in one pass of
 * {@code backward_tiles.cl} ({@link #runTiles}), every rank, on every device type.
 */
final class BackwardRoutine {
    static final String FILE = "backward_nhwc.cl";
    static final String KERNEL = "pool2d_backward";
    static final String ARGMAX = "pool2d_argmax";
    static final String AVG_ROWS = "pool2d_avg_backward_rows";
    /** The most taps of a window {@link #avgRows} takes: its quotients are KH*KW private vectors. */
    static final int AVG_ROWS_TAPS = 25;
    static final String ROWS_FILE = "backward_rows.cl";
    static final String TILES_FILE = "backward_tiles.cl";

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
        if (avgRows(g, groups.channelLoop(), session.accDouble())) {
            enqueueAvgRows(g, dtype, vec, gradOut, gradIn, nb); // the gather's program is not built
            return;
        }
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
     * Whether avg backward runs {@code pool2d_avg_backward_rows} (a work item walks one or two
     * input rows along W, each candidate output's quotient formed once per column step instead of
     * once per tap: 3.2x less kernel CPU time on PoCL for Inception's 3x3 s1) rather than the per-pixel
     * gather: CPU devices (the channel loop) with double sums, stride and dilation 1 along W, a
     * window at least two wide and of at most {@link #AVG_ROWS_TAPS} taps. The same bits: the same
     * quotients summed in the same order. {@code -Dclpool.opencl.avgBackwardRows=never|always}
     * ({@link ForcedChoice}) forces the choice where the geometry allows it.
     */
    static boolean avgRows(PoolGeometry g, boolean channelLoop, boolean accDouble) {
        boolean fits = g.mode() == PoolMode.AVG && channelLoop && accDouble && g.cols().stride() == 1
                && g.cols().dilation() == 1 && g.cols().window() >= 2
                && (long) g.rows().window() * g.cols().window() <= AVG_ROWS_TAPS;
        return ForcedChoice.chosen("clpool.opencl.avgBackwardRows", fits, () -> true);
    }

    /**
     * Input rows per work item of {@code pool2d_avg_backward_rows}: two where their candidate
     * output rows overlap in all but one (stride and dilation 1 along H), in vectors of at most 8
     * channels (Inception's 3x3 s1 on PoCL: 8.7 ms of kernel CPU against 10.3 with one row in
     * vectors of 16, 11.3 with two in 16 or one in 8, 10.3 with two in 4); else one.
     */
    static int avgRowsPerItem(PoolGeometry g) {
        return g.rows().stride() == 1 && g.rows().dilation() == 1 ? 2 : 1;
    }

    /** Enqueues {@code pool2d_avg_backward_rows} over {@code nb} items ({@link #avgRows}). */
    private void enqueueAvgRows(PoolGeometry g, DType dtype, int vec, ClBuffer gradOut, ClBuffer gradIn, int nb) {
        Shape is = g.input();
        Shape os = g.output();
        int perItem = avgRowsPerItem(g);
        String opts = KernelOptions.pool(g, perItem == 2 ? Math.min(vec, 8) : vec, session.accDouble(), true, 1)
                + " -D AVG_ROWS_R=" + perItem + KernelOptions.storage(dtype);
        ClKernel kernel = session.kernel(FILE, opts, AVG_ROWS);
        int items = nb * ((is.h() + perItem - 1) / perItem);
        kernel.args(gradOut, gradIn, is.h(), is.w(), is.c(), os.h(), os.w(), items);
        long[][] range = session.groups().flat(items);
        session.queue().run(kernel, range[0], range[1]);
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

    /**
     * Max or avg backward of {@code planes} channels-first planes (or volumes) of the
     * spatial {@code axes} in one pass of {@code backward_tiles.cl}, where the windows tile the
     * input two columns wide (window = stride, 2 on W, dilation 1, no padding, every element in
     * one window: the 3-D U-Net's 2x2x2 and DenseNet's 2x2 stride 2). Each output's window is
     * read and written by one work item; the lowering ran {@code backward_rows} per input row
     * and, for 3-D, two backward passes with an argmax pass each over temporaries. Max: the
     * lowering's bits; avg: in 1-D and 2-D too, in 3-D divided once (within tolerance, as the CPU
     * path's {@code CfPairBackward}). Any storage type, the same for the three tensors: 16-bit
     * values are widened in the kernel and each gradient rounded once, so a 16-bit tensor needs no
     * float32 copies on the host. Returns false, with nothing written, where it does not run:
     * other geometries, tensors of different dtypes, rows of fewer than 8 outputs on CPU devices (the row loop's
     * vector), or a plane beyond one allocation.
     */
    boolean runTiles(PoolMode mode, Axis[] axes, int planes, Tensor in, Tensor gradOut, Tensor gradIn) {
        PlanarGeometry g = new PlanarGeometry(planes, axes, mode, 1, false);
        boolean readsInput = mode == PoolMode.MAX;
        long item = Math.max(g.inputPlane(), g.outputPlane());
        DType dtype = in.dtype();
        int bytes = dtype.byteSize();
        if (!tiles(g) || gradOut.dtype() != dtype || gradIn.dtype() != dtype
                || session.limits().chunkItems(item, g.inputPlane() * bytes) < 1) {
            return false;
        }
        HostBatches.Side x = new HostBatches.Side(in.buffer(), g.inputPlane() * bytes);
        HostBatches.Side dy = new HostBatches.Side(gradOut.buffer(), g.outputPlane() * bytes);
        HostBatches.Op op = new HostBatches.Op(planes, item,
                readsInput ? new HostBatches.Side[] {x, dy} : new HostBatches.Side[] {dy},
                new HostBatches.Side[] {new HostBatches.Side(gradIn.buffer(), g.inputPlane() * bytes)});
        try {
            session.locked(() -> HostBatches.run(session, op, (i, o, n0, nb) ->
                    enqueueTiles(g, dtype, i[0], i[i.length - 1], o[0], nb)));
        } finally {
            Reference.reachabilityFence(in);
            Reference.reachabilityFence(gradOut);
            Reference.reachabilityFence(gradIn);
        }
        return true;
    }

    /** {@link #runTiles} between float32 device tensors holding exactly the planes: only enqueued. */
    boolean runTiles(PoolMode mode, Axis[] axes, int planes, ResidentBuffer in, ResidentBuffer gradOut, ResidentBuffer gradIn) {
        PlanarGeometry g = new PlanarGeometry(planes, axes, mode, 1, false);
        long inElements = planes * g.inputPlane();
        if (!tiles(g) || in.shape().elementCount() != inElements || gradIn.shape().elementCount() != inElements
                || gradOut.shape().elementCount() != planes * g.outputPlane()
                || session.limits().chunkItems(inElements, inElements * Float.BYTES) < 1) {
            return false;
        }
        session.locked(() -> enqueueTiles(g, DType.FLOAT32, in.buffer(), gradOut.buffer(), gradIn.buffer(), planes));
        return true;
    }

    /** Whether {@code backward_tiles} takes {@code g} on this session's layout. */
    private boolean tiles(PlanarGeometry g) {
        if (g.mode() != PoolMode.MAX && g.mode() != PoolMode.AVG) {
            return false;
        }
        for (Axis a : g.axes()) {
            if (!a.tiles()) {
                return false;
            }
        }
        Axis w = g.axes3()[2];
        return w.window() == 2 && (!session.groups().channelLoop() || w.out() >= PlanarPoolRoutine.CPU_VECTOR);
    }

    /** The bytes of gradient a launch writes from which {@link #stream} pays (the caches no longer hold it). */
    static final long STREAM_BYTES = 12L << 20;

    /**
     * Whether {@code backward_tiles} writes avg's gradient as whole lines by non-temporal stores
     * ({@code TILES_STREAM}): the row loop (CPU devices), float32, no depth window, an output
     * row's KH input rows whole 64-byte lines ({@code KH * IW} a multiple of 16, at most 256),
     * and at least {@link #STREAM_BYTES} written, where the lines would otherwise be read before
     * being overwritten (DenseNet's 16x128x56x56 on PoCL: a quarter less kernel CPU; smaller
     * launches, whose lines stay in the cache, were slower so). The same bits.
     * {@code -Dclpool.opencl.tilesStream=never|always} ({@link ForcedChoice}) forces it where it fits.
     */
    static boolean stream(PlanarGeometry g, DType dtype, boolean rowLoop, long planes) {
        Axis[] a = g.axes3();
        long rowElements = (long) a[1].window() * a[2].in();
        boolean fits = g.mode() == PoolMode.AVG && rowLoop && dtype == DType.FLOAT32 && a[0].window() == 1
                && rowElements % 16 == 0 && rowElements <= 256;
        return ForcedChoice.chosen("clpool.opencl.tilesStream", fits,
                () -> planes * g.inputPlane() * Float.BYTES >= STREAM_BYTES);
    }

    /** Enqueues {@code backward_tiles} over {@code planes} planes; {@code in} is not read by avg. */
    private void enqueueTiles(PlanarGeometry g, DType dtype, ClBuffer in, ClBuffer gradOut, ClBuffer gradIn, int planes) {
        Axis[] a = g.axes3();
        WorkGroups groups = session.groups();
        boolean rowLoop = groups.channelLoop();
        String opts = KernelOptions.planar(g, rowLoop ? PlanarPoolRoutine.CPU_VECTOR : 1, session.accDouble(), rowLoop)
                + KernelOptions.storage(dtype) + (stream(g, dtype, rowLoop, planes) ? " -D TILES_STREAM=1" : "");
        ClKernel kernel = session.kernel(TILES_FILE, opts, "backward_tiles");
        long depthRows = (long) planes * a[0].out();
        long rows = depthRows * a[1].out();
        kernel.args(in, gradOut, gradIn, a[1].in(), a[2].in(), a[0].out(), a[1].out(), a[2].out(), (int) rows);
        long[][] range = groups.planar(rows, a[2].out(), a[1].out(), depthRows);
        session.queue().run(kernel, range[0], range[1]);
    }
}
