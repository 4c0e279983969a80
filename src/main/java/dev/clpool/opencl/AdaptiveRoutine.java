package dev.clpool.opencl;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.DType;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.lang.ref.Reference;

/**
 * Adaptive avg and max pooling to an output size ({@code adaptive_nhwc.cl}). Host tensors go in
 * batch chunks ({@link HostBatches}); a batch item too large for one allocation is refused
 * ({@link dev.clpool.backend.BackendLimitException}); device tensors are only enqueued. One channel
 * on a CPU device (the channels-first planes the host lowers to) runs {@code adaptive_planes.cl}
 * instead: the same results, bit for bit.
 */
final class AdaptiveRoutine {
    static final String FILE = "adaptive_nhwc.cl";
    static final String PLANES_FILE = "adaptive_planes.cl";
    static final String COLS_FILE = "adaptive_cols.cl";
    /** {@code adaptive_plane_groups}' limits (its {@code PLANE_TAPS} and {@code PLANE_OUTS}): planes and outputs kept in private memory. */
    private static final int PLANE_TAPS = 256;
    private static final int PLANE_OUTS = 64;
    /** {@code adaptive_plane_groups2}'s groups of {@code CPU_VECTOR} planes per work item (its {@code GROUPS_MAX}). */
    private static final int GROUPS_MAX = 2;
    /** {@code adaptive_plane_rows}' input rows kept ({@code ROWS_MAX}) and output columns a vector holds (its {@code VEC}). */
    private static final int ROWS_MAX = 16;
    private static final int ROWS_VEC = PlanarPoolRoutine.CPU_VECTOR;
    /** {@code adaptive_plane_cols}' limits: a row read as 16 floats, the output columns in the 8 lanes, taps a column region. */
    private static final int COLS_W = 16;
    private static final int COLS_ROWS = 16;
    private static final int COLS_TAPS = 4;

    private final DeviceSession session;

    AdaptiveRoutine(DeviceSession session) {
        this.session = session;
    }

    /** Build options: mode, vector width and accumulator; sizes are arguments. */
    static String options(PoolMode mode, int vec, boolean accDouble) {
        return "-D MODE_" + mode.name() + " -D VEC=" + vec + " -D ACC_DOUBLE=" + (accDouble ? 1 : 0);
    }

    void run(AdaptiveGeometry g, Tensor in, Tensor out) {
        try {
            session.locked(() -> HostBatches.run(session, HostBatches.Op.of(in, out),
                    (i, o, n0, nb) -> enqueue(g, in.dtype(), i[0], o[0], nb)));
        } finally {
            Reference.reachabilityFence(in);
            Reference.reachabilityFence(out);
        }
    }

    void run(AdaptiveGeometry g, ResidentBuffer in, ResidentBuffer out) {
        session.locked(() -> enqueue(g, DType.FLOAT32, in.buffer(), out.buffer(), g.input().n()));
    }

    private void enqueue(AdaptiveGeometry g, DType dtype, ClBuffer in, ClBuffer out, int nb) {
        Shape is = g.input();
        Shape os = g.output();
        if (is.c() == 1 && session.groups().channelLoop()) {
            enqueuePlanes(g, dtype, in, out, nb);
            return;
        }
        WorkGroups groups = session.groups();
        int vec = groups.pixelVector(is.c());
        ClKernel kernel = session.kernel(FILE, options(g.mode(), vec, session.accDouble()) + " -D CLOOP="
                + (groups.channelLoop() ? 1 : 0) + KernelOptions.storage(dtype), "adaptive2d");
        kernel.args(in, out, is.h(), is.w(), is.c(), os.h(), os.w());
        long[][] range = groups.pixels(is.c() / vec, os.w(), (long) nb * os.h());
        session.queue().run(kernel, range[0], range[1]);
    }

    /**
     * Whether {@code groups} groups of whole small planes go two to a work item
     * ({@code adaptive_plane_groups2}): where that still gives every compute unit at least two work
     * groups of the fixed size, so that halving the work items leaves no unit idle (VGG's head at
     * batch 1, 64 groups, keeps one group a work item). {@code -Dclpool.opencl.planePairs=always|never}
     * forces the choice for measurements.
     */
    private boolean pairs(int groups) {
        long fill = 2L * WorkGroups.CPU_DEFAULT * Math.max(1, session.device().info().computeUnits());
        return ForcedChoice.chosen("clpool.opencl.planePairs", true, () -> (groups + 1) / 2 >= fill);
    }

    /**
     * Whether {@code adaptive_plane_rows} runs {@code g} (max over planes of W = 2·OW + 1 columns, 4 ≤ OW
     * &lt; {@link #ROWS_VEC}, at most {@link #ROWS_MAX} rows: every column region three columns at a
     * stride of two, SPP-net's 13×13 to 6×6): a work item a plane, each input row read once as two
     * vectors, no transposes. {@code -Dclpool.opencl.planeRows=never} forces the groups of planes.
     */
    static boolean planeRows(AdaptiveGeometry g) {
        Shape is = g.input();
        Shape os = g.output();
        boolean fits = g.mode() == PoolMode.MAX && is.w() == 2 * os.w() + 1 && os.w() >= 4 && os.w() < ROWS_VEC
                && is.h() <= ROWS_MAX;
        return ForcedChoice.chosen("clpool.opencl.planeRows", fits, () -> true);
    }

    /**
     * Whether {@code adaptive_plane_cols} ({@code adaptive_cols.cl}) runs {@code g}: max, or averages with
     * double sums, over planes of at most {@link #COLS_ROWS} rows of at most {@link #COLS_W} columns, to
     * 4–8 output columns (the vector's lanes) and 2–{@link #COLS_ROWS} output rows, every column region
     * at most {@link #COLS_TAPS} wide (VGG-16's 10×10 to 7×7, SPP-net's 13×13 to 6×6): a work item a
     * plane, the geometry compiled in, no transposes; the same bits as {@code adaptive2d}. Taken before
     * {@link #planeRows}. {@code -Dclpool.opencl.planeCols=never} forces the other kernels.
     */
    static boolean planeCols(AdaptiveGeometry g, boolean accDouble) {
        Shape is = g.input();
        Shape os = g.output();
        boolean fits = (g.mode() == PoolMode.MAX || accDouble) && is.w() <= COLS_W && is.h() <= COLS_ROWS
                && os.w() >= 4 && os.w() <= ROWS_VEC && os.h() >= 2 && os.h() <= COLS_ROWS;
        for (int ox = 0; fits && ox < os.w(); ox++) {
            fits = g.colEnd(ox) - g.colStart(ox) <= COLS_TAPS;
        }
        return ForcedChoice.chosen("clpool.opencl.planeCols", fits, () -> true);
    }

    /** {@code adaptive_cols.cl}'s options: the planes' options and the geometry, compiled in. */
    static String colsOptions(String planeOptions, AdaptiveGeometry g) {
        return planeOptions + " -D AH=" + g.input().h() + " -D AW=" + g.input().w() + " -D AOH=" + g.output().h()
                + " -D AOW=" + g.output().w();
    }

    /**
     * One channel on a CPU device: {@code adaptive_planes.cl}, a work item per output row of
     * {@link PlanarPoolRoutine#CPU_VECTOR} planes, the planes in the vector lanes (every lane has the
     * same regions), where {@code adaptive2d} would run one output per work item; planes of at most
     * {@link #PLANE_TAPS} elements to at most {@link #PLANE_OUTS} outputs take
     * {@code adaptive_plane_groups}, a work item per {@code CPU_VECTOR} whole planes (each read once), or
     * {@code adaptive_plane_groups2}, two such groups a work item, where there are enough of them ({@link #pairs});
     * max over planes of W = 2·OW + 1 columns takes {@code adaptive_plane_rows} ({@link #planeRows}), averages
     * and max over small planes {@code adaptive_plane_cols} ({@link #planeCols}), first.
     */
    private void enqueuePlanes(AdaptiveGeometry g, DType dtype, ClBuffer in, ClBuffer out, int nb) {
        Shape is = g.input();
        Shape os = g.output();
        int vec = PlanarPoolRoutine.CPU_VECTOR;
        String opts = options(g.mode(), vec, session.accDouble()) + " -D ROWLOOP=1" + KernelOptions.storage(dtype);
        int plane = is.h() * is.w();
        if (planeCols(g, session.accDouble())) {
            ClKernel kernel = session.kernel(COLS_FILE, colsOptions(opts, g), "adaptive_plane_cols");
            kernel.args(in, out, nb, PlanarPoolRoutine.inEnd(nb, plane));
            long[][] range = session.groups().flat(nb);
            session.queue().run(kernel, range[0], range[1]);
            return;
        }
        if (planeRows(g)) {
            ClKernel kernel = session.kernel(PLANES_FILE, opts, "adaptive_plane_rows");
            kernel.args(in, out, nb, is.h(), is.w(), os.h(), os.w(), PlanarPoolRoutine.inEnd(nb, plane));
            long[][] range = session.groups().flat(nb);
            session.queue().run(kernel, range[0], range[1]);
            return;
        }
        if (plane >= vec && plane <= PLANE_TAPS && os.h() * os.w() <= PLANE_OUTS) {
            int groups = (nb + vec - 1) / vec;
            int per = pairs(groups) ? GROUPS_MAX : 1;
            int items = (groups + per - 1) / per;
            ClKernel kernel = session.kernel(PLANES_FILE, opts, per > 1 ? "adaptive_plane_groups2" : "adaptive_plane_groups");
            kernel.args(in, out, nb, is.h(), is.w(), os.h(), os.w(), items);
            long[][] range = session.groups().flat(items);
            session.queue().run(kernel, range[0], range[1]);
            return;
        }
        ClKernel kernel = session.kernel(PLANES_FILE, opts, "adaptive_planes");
        int rows = (nb + vec - 1) / vec * os.h();
        kernel.args(in, out, nb, is.h(), is.w(), os.h(), os.w(), rows);
        long[][] range = session.groups().planar(rows, os.w(), os.h(), nb);
        session.queue().run(kernel, range[0], range[1]);
    }
}
