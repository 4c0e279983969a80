package dev.clpool.opencl;

import dev.clpool.DType;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;

/**
 * Large average windows on CPU devices in one kernel ({@code pool_sliding.cl}, kernel
 * {@code pool_sliding}): a work item owns a tile of outputs and slides double sums over it in
 * private memory (column sums down the tile, a running sum along each output row), certified
 * against the tile's sum of |x| and done again with additions only where the certificate fails.
 * No scratch buffer and one launch, where {@link SeparablePool}'s passes write and read a scratch
 * between two. {@link PoolRoutine} asks {@link #chosen} first; GPUs keep the passes (a work item
 * per tile is a CPU layout).
 *
 * <p>The choice can be forced for measurements with {@code -Dclpool.opencl.sliding=always|never}
 * (default {@code auto}, the cost model of {@link #pays}; {@link ForcedChoice}); {@code always}
 * still needs a geometry the kernel supports.
 */
final class SlidingPool {
    static final String FILE = "pool_sliding.cl";
    static final String PROPERTY = "clpool.opencl.sliding";

    /** Input columns a tile reads at most: the length of the kernel's private column sums. */
    static final int TILE_IN = 64;
    /** Output rows a tile takes at most (a new tile adds its first window's rows afresh). */
    static final int MAX_BAND = 32;
    /** Work items a call should have at least, so that every compute unit gets work groups. */
    static final int MIN_ITEMS = 64;

    private SlidingPool() {
    }

    /**
     * What one step of the sliding sums costs, in taps of the direct kernel (A/B on PoCL,
     * 8x19x19x512, process CPU time: the sliding sums cost about 1.2x the direct avg 3x3 and half
     * the direct 5x5, whatever the window; docs/opencl-internals.md).
     */
    static final double STEP_TAPS = 1.5;

    /**
     * Whether {@code g} runs the sliding sums: an average with double sums on a CPU device
     * ({@code channelLoop}), dilation 1, a window at most half a tile wide, and the cost model
     * ({@link #pays}) or {@code -Dclpool.opencl.sliding=always|never} saying so.
     */
    static boolean chosen(PoolGeometry g, boolean accDouble, boolean channelLoop) {
        boolean supported = channelLoop && accDouble && g.mode() == PoolMode.AVG
                && g.rows().dilation() == 1 && g.cols().dilation() == 1 && g.cols().window() <= TILE_IN / 2;
        return ForcedChoice.chosen(PROPERTY, supported, () -> pays(g));
    }

    /**
     * The cost model: the direct kernel reads KH*KW taps per output; the sliding sums add and
     * subtract each input element once (H*W/(OH*OW) elements per output), slide the row sum SW
     * columns each way per output and divide (about 4 steps), each step worth
     * {@link #STEP_TAPS} taps. So stride-1 windows slide from 4x4 (and 3x5), 3x3 stays direct.
     */
    static boolean pays(PoolGeometry g) {
        double perOutput = (double) g.input().h() * g.input().w() / ((double) g.output().h() * g.output().w());
        double steps = 2 * perOutput + 2.0 * g.cols().stride() + 4;
        return steps * STEP_TAPS < (double) g.rows().window() * g.cols().window();
    }

    /** Output columns per tile: as many as TILE_IN input columns serve, balanced over the row. */
    static int tileCols(PoolGeometry g) {
        int most = (TILE_IN - g.cols().window()) / g.cols().stride() + 1;
        int ow = g.output().w();
        int tiles = (ow + most - 1) / most;
        return (ow + tiles - 1) / tiles;
    }

    /**
     * Output rows per tile: balanced bands of at most {@link #MAX_BAND}, cut shorter where the
     * whole tensor would give fewer than {@link #MIN_ITEMS} work items. Depends on the geometry
     * only (not on how many items a launch holds), so every launch sums each window alike.
     */
    static int band(PoolGeometry g, int vec) {
        Shape os = g.output();
        long across = (long) g.input().n() * (g.input().c() / vec) * ((os.w() + tileCols(g) - 1) / tileCols(g));
        long bands = Math.max((os.h() + MAX_BAND - 1) / MAX_BAND, Math.min(os.h(), (MIN_ITEMS + across - 1) / across));
        return (int) ((os.h() + bands - 1) / bands);
    }

    /** Enqueues the kernel over {@code nb} items of {@code g.input()} in {@code in} to {@code out}; does not wait. */
    static void enqueue(DeviceSession session, PoolGeometry g, DType dtype, ClBuffer in, ClBuffer out, int nb, int vec) {
        Shape is = g.input();
        Shape os = g.output();
        String opts = KernelOptions.separable(g, vec, true, true) + KernelOptions.storage(dtype) + " -D TILE_IN=" + TILE_IN;
        int cols = tileCols(g);
        int band = band(g, vec);
        int tiles = (os.w() + cols - 1) / cols;
        int bands = (os.h() + band - 1) / band;
        long items = (long) nb * bands * tiles * (is.c() / vec);
        session.locked(() -> {
            ClKernel kernel = session.kernel(FILE, opts, "pool_sliding");
            kernel.args(in, out, is.h(), is.w(), is.c(), os.h(), os.w(), band, cols, bands, tiles, Math.toIntExact(items));
            long[][] range = session.groups().flat(items);
            session.queue().run(kernel, range[0], range[1]);
        });
    }
}
