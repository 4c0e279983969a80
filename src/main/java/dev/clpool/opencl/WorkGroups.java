package dev.clpool.opencl;

/**
 * Explicit work-group sizes for the kernels, chosen once per device from its info: a small fixed
 * set, because some drivers compile a work-group function per local size (PoCL: ~35 ms each) and
 * choose poorly themselves for 3-D ranges (measured 20-45% slower on PoCL, and up to 10x for
 * the pool kernel with float16).
 *
 * <p>CPU devices run the channel-loop layout (one work item per {@code opx} output pixels,
 * looping over C): its local size {@code (rowItems, 1)} never depends on the tensor. Other
 * devices run the channel-lanes layout: {@code (lanes, rows, 1)} with about {@code target} work
 * items per group, lanes being the largest power of two that divides C / VEC.
 */
final class WorkGroups {
    /** Work items per group on CPU devices unless overridden; measured on PoCL (docs/opencl-internals.md). */
    static final int CPU_DEFAULT = 16;
    /** Work items per group on GPUs and accelerators unless overridden. */
    static final int GPU_DEFAULT = 64;

    private final boolean channelLoop;
    private final int target;
    private final long maxGroup;
    private final long[] maxItems;

    private WorkGroups(boolean channelLoop, int target, long maxGroup, long[] maxItems) {
        this.channelLoop = channelLoop;
        this.target = target;
        this.maxGroup = Math.max(1, maxGroup);
        this.maxItems = maxItems;
    }

    /** For {@code info}'s device; {@code override} &gt; 0 sets the work items per group. */
    static WorkGroups of(DeviceInfo info, int override) {
        return of(info, override, OpenClBackend.Layout.AUTO);
    }

    /** ... with the layout forced unless {@code AUTO}. */
    static WorkGroups of(DeviceInfo info, int override, OpenClBackend.Layout layout) {
        boolean cpu = (info.type() & Cl.CL_DEVICE_TYPE_CPU) != 0;
        boolean loop = layout == OpenClBackend.Layout.AUTO ? cpu : layout == OpenClBackend.Layout.CHANNEL_LOOP;
        int target = override > 0 ? override : loop ? CPU_DEFAULT : GPU_DEFAULT;
        return new WorkGroups(loop, target, info.maxWorkGroupSize(), info.maxWorkItemSizes());
    }

    /** Whether the pool kernel runs the channel-loop layout (CPU devices). */
    boolean channelLoop() {
        return channelLoop;
    }

    /**
     * Output pixels per work item (channel-loop layout): two where neighbouring windows share all
     * but one column (stride 1, loads shared), else one. Measured on PoCL: more pixels, or more
     * for stride 2, ran slower (register pressure in the unrolled interior path).
     */
    static int pixelsPerItem(int windowW, int strideW, int dilationW, boolean channelLoop) {
        int extent = (windowW - 1) * dilationW + 1;
        return channelLoop && strideW == 1 && extent > 1 ? 2 : 1;
    }

    /**
     * Global pooling, first pass: channel vectors per work item. On CPU devices up to 16 (256
     * channels of 16), so that a work item streams through a whole pixel of up to 1 KB of float32
     * and its run of pixels is one contiguous stream: with 8, CBAM's 16x56x56x256 split each
     * pixel between two work items that each walked the whole plane, and took 1.5x as long on
     * PoCL (8 was ~1.5x faster than one vector per work item). On GPUs one, so that neighbouring
     * work items read neighbouring channels.
     */
    int globalBlocks(int lanes) {
        return channelLoop ? (int) Math.min(16, largestPow2Dividing(lanes)) : 1;
    }

    /**
     * Global pooling, first pass: work items per compute unit to aim for. A CPU compute unit is
     * one thread, for which a few long pixel runs are best; a GPU's needs many to hide latency.
     */
    int globalItemsPerUnit() {
        return channelLoop ? 16 : 256;
    }

    /** Global and local ranges of the pool kernel for output (N, OH, OW) and {@code lanes} = C / VEC. */
    long[][] pool(int n, int oh, int ow, int lanes, int opx) {
        long rows = (long) n * oh;
        if (channelLoop) {
            long items = (ow + opx - 1) / opx;
            long l0 = fit(target, 0); // always the same: one work-group function per kernel
            return new long[][] {{roundUp(items, l0), rows}, {l0, 1}};
        }
        return lanes(lanes, ow, rows);
    }

    /**
     * Channels per vector step of the kernels that take either layout over NHWC pixels (backward,
     * max with indices, adaptive): in the channel-loop layout the widest of 16, 8, 4, 2, 1 that
     * divides C (a work item's loop over C takes fewer, longer steps; on PoCL 16 measured faster
     * than 8 for backward and indices); in the channel-lanes layout at most 8, as before.
     */
    int pixelVector(int channels) {
        return channelLoop ? KernelOptions.wideVectorWidth(channels) : KernelOptions.vectorWidth(channels);
    }

    /**
     * Global and local ranges of a kernel over {@code rows} rows of {@code cols} NHWC pixels with
     * {@code lanes} = C / VEC (backward, max with indices, adaptive): on CPU devices (the
     * channel-loop layout, {@code -D CLOOP=1}) one work item per pixel looping over C, range
     * ({@code cols} rounded up to the fixed local size, {@code rows}); elsewhere {@link #lanes}.
     */
    long[][] pixels(long lanes, int cols, long rows) {
        if (channelLoop) {
            long l0 = fit(target, 0); // always the same: one work-group function per kernel
            return new long[][] {{roundUp(cols, l0), rows}, {l0, 1}};
        }
        return lanes(lanes, cols, rows);
    }

    /**
     * Global and local ranges of a channel-lanes kernel over ({@code lanes}, {@code cols},
     * {@code rows}): the pool kernel's lanes layout, and the layout of the kernels of max with
     * indices, adaptive pooling and backward on GPUs. About {@code target} work items
     * per group, lanes first; {@code cols} is rounded up to the group (the kernels skip the
     * columns past the end). On CPU devices those kernels take {@link #pixels} instead.
     */
    long[][] lanes(long lanes, int cols, long rows) {
        long l0 = fit(Math.min(largestPow2Dividing(lanes), target), 0);
        long l1 = fit(Math.max(1, Math.min(target / l0, pow2AtLeast(cols))), 1);
        while (l0 * l1 > maxGroup && l1 > 1) {
            l1 /= 2;
        }
        return new long[][] {{lanes, roundUp(cols, l1), rows}, {l0, l1, 1}};
    }

    /**
     * Global and local ranges of a kernel whose work items loop over their share of {@code items}
     * elements (unpooling): on CPU devices {@link #globalItemsPerUnit()} per compute unit, each a
     * contiguous run ({@link #channelLoop()}); elsewhere up to 2048 per compute unit, strided.
     */
    long[][] linear(long items, int computeUnits) {
        long l0 = fit(target, 0);
        long perUnit = channelLoop ? globalItemsPerUnit() : 2048;
        long wanted = Math.min(items, Math.max(1, computeUnits) * perUnit);
        return new long[][] {{roundUp(wanted, l0)}, {l0}};
    }

    /**
     * Global and local ranges of a kernel with one work item per element of a flat range of
     * {@code items} (the separable passes on CPU devices, whose work items loop over C): the
     * fixed local size, so one work-group function per kernel; the kernel skips the rounding.
     */
    long[][] flat(long items) {
        long l0 = fit(target, 0);
        return new long[][] {{roundUp(items, l0)}, {l0}};
    }

    /**
     * Global and local ranges of the channels-first pool kernel: on CPU devices one work item per
     * output row ({@code rows} = planes·OD·OH), a fixed local size (one work-group function per
     * kernel); elsewhere one per output over (OW, OH, {@code depthRows} = planes·OD), columns
     * first (neighbouring work items read neighbouring columns).
     */
    long[][] planar(long rows, int ow, int oh, long depthRows) {
        if (channelLoop) {
            long l0 = fit(target, 0);
            return new long[][] {{roundUp(rows, l0)}, {l0}};
        }
        long l0 = fit(Math.min(target, pow2AtLeast(ow)), 0);
        long l1 = fit(Math.max(1, Math.min(target / l0, pow2AtLeast(oh))), 1);
        while (l0 * l1 > maxGroup && l1 > 1) {
            l1 /= 2;
        }
        return new long[][] {{roundUp(ow, l0), roundUp(oh, l1), depthRows}, {l0, l1, 1}};
    }

    /** Global and local ranges of global_partial over (lanes, chunks, N). */
    long[][] globalPartial(int lanes, int chunks, int n) {
        long l0 = fit(Math.min(largestPow2Dividing(lanes), target), 0);
        long l1 = fit(Math.max(1, Math.min(target / l0, pow2AtLeast(chunks))), 1);
        while (l0 * l1 > maxGroup && l1 > 1) {
            l1 /= 2;
        }
        return new long[][] {{lanes, roundUp(chunks, l1), n}, {l0, l1, 1}};
    }

    /** Global and local ranges of global_final over (lanes, N). */
    long[][] globalFinal(int lanes, int n) {
        long l0 = fit(Math.min(largestPow2Dividing(lanes), target), 0);
        return new long[][] {{lanes, n}, {l0, 1}};
    }

    /** {@code size} limited by the device's limits on dimension {@code dim} and on a whole group. */
    private long fit(long size, int dim) {
        long limit = Math.min(maxGroup, dim < maxItems.length && maxItems[dim] > 0 ? maxItems[dim] : maxGroup);
        long s = size;
        while (s > limit && s > 1) {
            s /= 2;
        }
        return Math.max(1, s);
    }

    static long roundUp(long value, long multiple) {
        return (value + multiple - 1) / multiple * multiple;
    }

    static long pow2AtLeast(long v) {
        long p = 1;
        while (p < v) {
            p <<= 1;
        }
        return p;
    }

    static long largestPow2Dividing(long v) {
        return v <= 0 ? 1 : Long.lowestOneBit(v);
    }
}
