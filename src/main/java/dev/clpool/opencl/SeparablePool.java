package dev.clpool.opencl;

import dev.clpool.Axis;
import dev.clpool.DType;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;

/**
 * Windowed max and average pooling of large windows in two separable passes
 * ({@code pool_separable.cl}, kernel {@code sep_pass}): rows into a pooled scratch buffer, then
 * columns, each with van Herk's prefix–suffix blocks, so that the cost per output does not grow
 * with the window. Max is bit-identical to {@code pool2d} (the passes keep the taps' scan order;
 * see the kernel's header); averages sum their rows in double, so they run only on devices with
 * fp64, and keep them as certified floats where both axes' windows fit private memory
 * ({@link #floatRows}).
 * {@link PoolRoutine} asks {@link #chosen} and otherwise runs the direct kernel.
 *
 * <p>The choice can be forced for measurements with {@code -Dclpool.opencl.separable=always|never}
 * (default {@code auto}, the cost model of {@link #pays}; {@link ForcedChoice}); {@code always}
 * still needs a geometry the passes support.
 */
final class SeparablePool {
    static final String FILE = "pool_separable.cl";
    static final String PROPERTY = "clpool.opencl.separable";

    /**
     * What one step of the passes costs, in taps of the direct kernel: max and avg (A/B on PoCL,
     * 8x19x19x512, process CPU time: the passes paid from 5x5 for max and from 7x7 for avg, whose
     * direct taps are cheaper and whose passes carry doubles; docs/opencl-internals.md).
     */
    static final double MAX_STEP_TAPS = 2.0;
    static final double AVG_STEP_TAPS = 4.5;

    /**
     * Windows up to this extent keep a block's suffixes in a private array (its size is the
     * window); larger ones in a global scratch buffer, which costs a store and a load per output.
     */
    static final int PRIVATE_SUFFIXES = 32;

    private SeparablePool() {
    }

    /**
     * Whether {@code g} over {@code nb} items runs the separable passes: max or average (the
     * latter with double sums), no dilation, scratch buffers within the device's limits, and the
     * cost model ({@link #pays}) or the property saying so.
     */
    static boolean chosen(PoolGeometry g, boolean accDouble, Limits limits, int nb) {
        return ForcedChoice.chosen(PROPERTY, supported(g, accDouble, limits, nb), () -> pays(g));
    }

    static boolean supported(PoolGeometry g, boolean accDouble, Limits limits, int nb) {
        if (g.mode() == PoolMode.LP || (g.mode() == PoolMode.AVG && !accDouble)
                || g.rows().dilation() != 1 || g.cols().dilation() != 1) {
            return false;
        }
        long elements = (long) nb * Math.max(g.input().h(), g.output().h()) * g.output().w() * g.input().c();
        // Float rows' recomputation reads the input at 32-bit offsets too.
        long input = floatRows(g) ? (long) nb * g.input().h() * g.input().w() * g.input().c() : 0;
        return Math.max(elements, input) <= limits.maxKernelElements() && elements * scratchBytes(g) <= limits.maxAlloc();
    }

    /**
     * Whether an average keeps its row sums as floats in the scratch ({@code FLOAT_ROWS}): summed
     * in double, rounded once to float, summed down in double with each result certified against
     * that rounding (or summed again from the input). Both passes must keep their suffixes private.
     */
    static boolean floatRows(PoolGeometry g) {
        return g.mode() == PoolMode.AVG && g.rows().window() <= PRIVATE_SUFFIXES
                && g.cols().window() <= PRIVATE_SUFFIXES;
    }

    /**
     * The cost model: the direct kernel reads KH*KW taps per output; the passes take about
     * {@code 2*stride + 2} steps per output of each pass, pass 1 producing H/OH rows per output
     * row, each step worth {@link #MAX_STEP_TAPS} or {@link #AVG_STEP_TAPS} taps. The passes pay
     * where they cost less.
     */
    static boolean pays(PoolGeometry g) {
        Axis r = g.rows();
        Axis c = g.cols();
        double direct = (double) r.window() * c.window();
        double rowsPerOutputRow = (double) g.input().h() / g.output().h();
        double steps = rowsPerOutputRow * (2.0 * c.stride() + 2) + 2.0 * r.stride() + 2;
        return steps * (g.mode() == PoolMode.MAX ? MAX_STEP_TAPS : AVG_STEP_TAPS) < direct;
    }

    private static int scratchBytes(PoolGeometry g) {
        return g.mode() == PoolMode.MAX || floatRows(g) ? Float.BYTES : Double.BYTES;
    }

    /**
     * Enqueues both passes over {@code nb} items of {@code g.input()} in {@code in} to
     * {@code out} (stored as {@code dtype}), with scratch buffers from the session's pool given
     * back at once (the in-order queue orders their reuse); does not wait.
     */
    static void enqueue(DeviceSession session, PoolGeometry g, DType dtype, ClBuffer in, ClBuffer out, int nb, int vec) {
        Shape is = g.input();
        Shape os = g.output();
        boolean loop = session.groups().channelLoop();
        String opts = KernelOptions.separable(g, vec, session.accDouble(), loop) + KernelOptions.storage(dtype)
                + " -D FLOAT_ROWS=" + (floatRows(g) ? 1 : 0);
        int lanes = loop ? 1 : is.c() / vec;
        long bytes = scratchBytes(g);
        BufferPool pool = session.buffers();
        session.locked(() -> {
            ClBuffer rows = pool.take((long) nb * is.h() * os.w() * is.c() * bytes);
            boolean inPrivate = g.rows().window() <= PRIVATE_SUFFIXES;
            ClBuffer cols = inPrivate ? rows : null;
            try {
                if (!inPrivate) {
                    cols = pool.take((long) nb * os.h() * os.w() * is.c() * bytes);
                }
                Axis a = g.cols();
                int first = firstBlock(a, 0);
                int blocks = blocks(a, os.w(), first);
                run(session, opts + pass(1, a), lanes, 1, (long) nb * is.h() * blocks,
                        in, rows, rows, is.w(), os.w(), 1, is.c(), first, blocks, nb * is.h() * blocks, is.w(), in);
                a = g.rows();
                first = firstBlock(a, g.rowOrigin());
                blocks = blocks(a, os.h(), first);
                run(session, opts + pass(2, a), lanes, os.w(), (long) nb * blocks,
                        rows, out, cols, is.h(), os.h(), os.w(), is.c(), first, blocks, nb * blocks, is.w(), in);
            } finally {
                if (cols != null && cols != rows) {
                    pool.give(cols);
                }
                pool.give(rows);
            }
        });
    }

    /** {@code -D PASS} and {@code -D SUF_PRIVATE} for pass {@code pass} along axis {@code a}. */
    private static String pass(int pass, Axis a) {
        return " -D PASS=" + pass + " -D SUF_PRIVATE=" + (a.window() <= PRIVATE_SUFFIXES ? 1 : 0);
    }

    private static void run(DeviceSession session, String opts, int lanes, int inner, long lines, Object... args) {
        ClKernel kernel = session.kernel(FILE, opts, "sep_pass");
        kernel.args(args);
        WorkGroups groups = session.groups();
        long[][] range = groups.channelLoop() ? groups.flat(lines * inner) : groups.lanes(lanes, inner, lines);
        session.queue().run(kernel, range[0], range[1]);
    }

    /**
     * The start of the first block along axis {@code a}: at or before the first window's start
     * {@code -padBegin}, on a multiple of the window counted from {@code origin} rows before this
     * geometry's row 0 (so a row band's blocks fall where the whole item's do).
     */
    static int firstBlock(Axis a, int origin) {
        int start = -a.padBegin();
        return start - Math.floorMod(start + origin, a.window());
    }

    /** Blocks from {@code first} up to the block holding the last output's window start. */
    static int blocks(Axis a, int outputs, int first) {
        int lastStart = (outputs - 1) * a.stride() - a.padBegin();
        return Math.floorDiv(lastStart - first, a.window()) + 1;
    }
}
