package dev.clpool.opencl;

import dev.clpool.PlanarGeometry;
import dev.clpool.AdaptiveGeometry;
import dev.clpool.Axis;
import dev.clpool.BindingChoice;
import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.UnpoolGeometry;
import dev.clpool.backend.PoolingBackend;
import dev.clpool.backend.ResidentTensor;
import dev.clpool.cpu.HostConversion;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pooling on one OpenCL device, written once against {@link ClBinding}: a thin
 * {@link PoolingBackend} over one {@link DeviceSession} (context, queues, program cache, buffer
 * pool, work groups, limits, the dispatch lock) and one routine per operation
 * ({@link PoolRoutine}, {@link IndicesRoutine}, {@link GlobalRoutine}, {@link AdaptiveRoutine},
 * {@link BackwardRoutine}, {@link UnpoolRoutine}), each of which asks the session for what it
 * needs. Dispatch is serialised (kernels are not thread-safe), so one backend may be shared by
 * many threads.
 *
 * <p>Every operation on host tensors runs the same way ({@link HostBatches}): on devices that
 * share memory with the host (PoCL, integrated GPUs) on the tensors' own memory (zero-copy),
 * elsewhere through pooled device buffers, pipelined over three queues when the batch makes
 * several chunks ({@link Pipeline}); in batch chunks when a tensor exceeds the device's largest
 * allocation or the kernels' 32-bit offsets, and when one batch item does, pool and max with
 * indices in row bands and global pooling in pixel ranges, while backward and adaptive pooling
 * refuse it ({@link dev.clpool.backend.BackendLimitException}, as for any request beyond the
 * {@link Limits}).
 *
 * <p>Device-resident tensors ({@link #upload}, {@link #allocate}, {@link #allocateIndices}) are
 * device buffers; operations on them are only enqueued, and nothing waits until a download or
 * {@link #finish()}.
 */
public final class OpenClBackend implements PoolingBackend {
    private static final Logger LOG = LoggerFactory.getLogger(OpenClBackend.class);
    static final int PROGRAM_CACHE_CAPACITY = 64;

    /**
     * Knobs for tests and tuning; the defaults are right for normal use.
     *
     * @param maxKernelElements the most elements one device buffer may hold: the kernels index
     *                          with 32-bit ints, so the default is 2<sup>31</sup>−1; tests lower it
     */
    public record Options(boolean allowDoubleAccumulation, long maxAllocOverride, long maxKernelElements) {
        public static final Options DEFAULT = new Options(true, 0, Integer.MAX_VALUE);

        public Options {
            if (maxKernelElements < 1 || maxKernelElements > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("maxKernelElements must be in [1, 2^31-1], got " + maxKernelElements);
            }
        }

        /** Float (compensated) accumulation even where the device has fp64: tests the no-fp64 path. */
        public Options withoutDouble() {
            return new Options(false, maxAllocOverride, maxKernelElements);
        }

        /** Pretend the device's largest allocation is {@code bytes}: tests batch chunking and row bands cheaply. */
        public Options withMaxAlloc(long bytes) {
            return new Options(allowDoubleAccumulation, bytes, maxKernelElements);
        }

        /** Pretend the kernels' offsets reach only {@code elements}: tests the 32-bit guard cheaply. */
        public Options withMaxKernelElements(long elements) {
            return new Options(allowDoubleAccumulation, maxAllocOverride, elements);
        }
    }

    /** How the kernels spread work over work items: chosen from the device type, or forced (tests, tuning). */
    public enum Layout {
        /** CPU devices: channel loop; others: channel lanes. */
        AUTO,
        /** One work item loops over all channels of its output pixels. */
        CHANNEL_LOOP,
        /** One work item per VEC channels of one output pixel. */
        CHANNEL_LANES
    }

    /**
     * Performance knobs; every setting gives the same results. {@link #fromSystem()} reads
     * overrides from system properties:
     * <ul>
     * <li>{@code zeroCopy} ({@code clpool.opencl.zeroCopy}, default true): on host-unified devices,
     *     run on the tensors' own memory instead of copying to and from device buffers;</li>
     * <li>{@code workGroupSize} ({@code clpool.opencl.workGroupSize}, default 0 = chosen from the
     *     device type): work items per group;</li>
     * <li>{@code pixelsPerItem} ({@code clpool.opencl.pixelsPerItem}, default 0 = chosen from the
     *     window): output pixels per work item on CPU devices;</li>
     * <li>{@code kernelCache} ({@code clpool.kernelCache} or {@code CLPOOL_KERNEL_CACHE}, default
     *     {@code ${XDG_CACHE_HOME:-~/.cache}/clpool/kernels}; {@code off} or null: none): where
     *     built program binaries are kept between runs;</li>
     * <li>{@code layout} ({@code clpool.opencl.layout}: {@code auto}, {@code loop} or {@code lanes}):
     *     see {@link Layout};</li>
     * <li>{@code portableHalf} ({@code clpool.opencl.portableHalf}, default false): convert float16
     *     with the kernels' integer lane arithmetic, as on GPUs, even where the kernel compiler
     *     targets an x86 processor with F16C (PoCL), whose conversion instructions are used
     *     otherwise; the tests force it so that the GPUs' form is checked on PoCL.</li>
     * </ul>
     */
    public record Tuning(boolean zeroCopy, int workGroupSize, int pixelsPerItem, Path kernelCache, Layout layout,
            boolean portableHalf) {
        public Tuning {
            if (workGroupSize < 0 || pixelsPerItem < 0 || pixelsPerItem > 16) {
                throw new IllegalArgumentException("workGroupSize must be >= 0 and pixelsPerItem in [0, 16], got "
                        + workGroupSize + " and " + pixelsPerItem);
            }
            java.util.Objects.requireNonNull(layout, "layout");
        }

        /** The knobs of earlier releases; float16 converted as the device's compiler does best. */
        public Tuning(boolean zeroCopy, int workGroupSize, int pixelsPerItem, Path kernelCache, Layout layout) {
            this(zeroCopy, workGroupSize, pixelsPerItem, kernelCache, layout, false);
        }

        /** The defaults, with any overrides from system properties (and the environment, for the cache). */
        public static Tuning fromSystem() {
            String layout = System.getProperty("clpool.opencl.layout", "auto").strip().toLowerCase(java.util.Locale.ROOT);
            return new Tuning(!"false".equalsIgnoreCase(System.getProperty("clpool.opencl.zeroCopy")),
                    Integer.getInteger("clpool.opencl.workGroupSize", 0),
                    Integer.getInteger("clpool.opencl.pixelsPerItem", 0),
                    ProgramBinaryCache.defaultDirectory(),
                    layout.equals("loop") ? Layout.CHANNEL_LOOP : layout.equals("lanes") ? Layout.CHANNEL_LANES : Layout.AUTO,
                    Boolean.getBoolean("clpool.opencl.portableHalf"));
        }

        public Tuning withZeroCopy(boolean on) {
            return new Tuning(on, workGroupSize, pixelsPerItem, kernelCache, layout, portableHalf);
        }

        public Tuning withWorkGroupSize(int items) {
            return new Tuning(zeroCopy, items, pixelsPerItem, kernelCache, layout, portableHalf);
        }

        public Tuning withPixelsPerItem(int pixels) {
            return new Tuning(zeroCopy, workGroupSize, pixels, kernelCache, layout, portableHalf);
        }

        /** Program binaries kept in {@code dir} between runs; null: not kept. */
        public Tuning withKernelCache(Path dir) {
            return new Tuning(zeroCopy, workGroupSize, pixelsPerItem, dir, layout, portableHalf);
        }

        public Tuning withLayout(Layout l) {
            return new Tuning(zeroCopy, workGroupSize, pixelsPerItem, kernelCache, l, portableHalf);
        }

        public Tuning withPortableHalf(boolean on) {
            return new Tuning(zeroCopy, workGroupSize, pixelsPerItem, kernelCache, layout, on);
        }
    }

    private final Tuning tuning;
    private final DeviceSession session;
    private final PoolRoutine pool;
    private final IndicesRoutine indices;
    private final GlobalRoutine global;
    private final AdaptiveRoutine adaptive;
    private final BackwardRoutine backward;
    private final UnpoolRoutine unpool;
    private final PlanarPoolRoutine planar;
    private final PlanarGlobalRoutine planarGlobal;

    private OpenClBackend(ClDevice device, Options options, Tuning tuning, int programCacheCapacity) {
        this.tuning = tuning;
        this.session = new DeviceSession(device, options, tuning, programCacheCapacity);
        this.pool = new PoolRoutine(session);
        this.indices = new IndicesRoutine(session);
        this.global = new GlobalRoutine(session);
        this.adaptive = new AdaptiveRoutine(session);
        this.backward = new BackwardRoutine(session);
        this.unpool = new UnpoolRoutine(session);
        this.planar = new PlanarPoolRoutine(session);
        this.planarGlobal = new PlanarGlobalRoutine(session);
    }

    /**
     * Opens the chosen device ({@code deviceIndex} &ge; 0) or the best suitable one ({@code -1}).
     *
     * @throws dev.clpool.DeviceUnavailableException with the reason when none can be used
     */
    public static OpenClBackend open(BindingChoice binding, int deviceIndex) {
        return open(binding, deviceIndex, Options.DEFAULT);
    }

    public static OpenClBackend open(BindingChoice binding, int deviceIndex, Options options) {
        return open(binding, deviceIndex, options, Tuning.fromSystem());
    }

    public static OpenClBackend open(BindingChoice binding, int deviceIndex, Options options, Tuning tuning) {
        ClBinding b = Bindings.require(binding);
        return open(OpenClDevices.choose(b, deviceIndex), options, tuning);
    }

    public static OpenClBackend open(ClDevice device, Options options) {
        return open(device, options, Tuning.fromSystem());
    }

    public static OpenClBackend open(ClDevice device, Options options, Tuning tuning) {
        return open(device, options, tuning, PROGRAM_CACHE_CAPACITY);
    }

    /** As {@link #open(ClDevice, Options, Tuning)} with a smaller program cache: the soak test churns it. */
    static OpenClBackend open(ClDevice device, Options options, Tuning tuning, int programCacheCapacity) {
        OpenClBackend backend = new OpenClBackend(device, options, tuning, programCacheCapacity);
        LOG.debug("opened {} ({}, work groups: {} layout, {} items)", backend.description(),
                backend.zeroCopy() ? "zero-copy host tensors" : "host tensors copied",
                backend.session.groups().channelLoop() ? "channel-loop" : "channel-lanes",
                tuning.workGroupSize() > 0 ? tuning.workGroupSize() : "default");
        return backend;
    }

    public ClDevice device() {
        return session.device();
    }

    public Tuning tuning() {
        return tuning;
    }

    /** Whether host tensors are pooled in place (zero-copy), which needs a host-unified device. */
    public boolean zeroCopy() {
        return session.zeroCopy();
    }

    /** Native objects created and not released: zero after {@link #close()}. */
    public NativeObjects nativeObjects() {
        return session.objects();
    }

    /** Releases the device buffers kept idle for reuse (they are otherwise released by {@link #close()}). */
    public void releaseIdleBuffers() {
        session.locked(session.buffers()::clear);
    }

    /** The device session, for the diagnostics of this package ({@link SelfTest}, {@link DeviceCopy}). */
    DeviceSession session() {
        return session;
    }

    /** The pool routine, for {@link SelfTest}'s timing of the pool kernel alone. */
    PoolRoutine poolRoutine() {
        return pool;
    }

    /** Programs held by the cache now (never more than its capacity): for tests. */
    int cachedPrograms() {
        return session.cachedPrograms();
    }

    /** Host operations that ran pipelined, and their chunks in all: for tests. */
    long[] pipelineCounts() {
        return session.pipelineCounts();
    }

    /** Host operations that split batch items (row bands, pixel ranges), and their pieces in all: for tests. */
    long[] bandCounts() {
        return session.splitCounts();
    }

    @Override
    public String kind() {
        return "opencl";
    }

    @Override
    public String description() {
        return "OpenCL " + session.device().info().summary() + " via " + session.device().binding().name();
    }

    // ---- host tensors ----

    @Override
    public void pool(PoolGeometry g, Tensor in, Tensor out) {
        PlanarGeometry planes = asPlanes(g);
        if (planes != null && in.dtype() == out.dtype()) {
            planar.run(planes, in.dtype(), in.buffer(), out.buffer());
            return;
        }
        pool.run(g, in, out);
    }

    /**
     * A one-channel tensor (N, H, W, 1), such as the 3-D lowering's (H, W) pass over the depth
     * slices of a channels-first tensor, as the N planes it is, on CPU devices: {@code pool_planar}
     * reads along W where {@code pool2d} would run one channel per work item (the largest kernel
     * of the 3-D U-Net's channels-first max backward on PoCL). Null where {@code pool2d} stays:
     * other devices, C &gt; 1, or an item beyond one allocation (row bands).
     */
    private PlanarGeometry asPlanes(PoolGeometry g) {
        Shape is = g.input();
        long item = Math.max(is.itemSize(), g.output().itemSize());
        if (is.c() != 1 || !session.groups().channelLoop() || session.limits().chunkItems(item, item * Float.BYTES) < 1) {
            return null;
        }
        return new PlanarGeometry(is.n(), new Axis[] {g.rows(), g.cols()}, g.mode(),
                g.mode() == PoolMode.LP ? g.spec().p() : 1, g.spec().countIncludePad());
    }

    @Override
    public void global(PoolMode mode, Tensor in, Tensor out) {
        global.run(mode, in, out);
    }

    @Override
    public void maxWithIndices(PoolGeometry g, Tensor in, Tensor out, Indices indices) {
        this.indices.run(g, in, out, indices);
    }

    /** Forms the {@code nhwc} indices in the kernel on CPU devices ({@link IndicesRoutine#runNhwcPlanes}). */
    @Override
    public void maxWithNhwcPlaneIndices(PoolGeometry g, Tensor in, Tensor out, Indices indices, int channels) {
        this.indices.runNhwcPlanes(g, in, out, indices, channels);
    }

    @Override
    public void backward(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn) {
        backward.run(g, in, gradOut, gradIn);
    }

    /**
     * Host tensors convert on the host, in lanes ({@link HostConversion}), not one element at a
     * time: the 3-D passes of 16-bit tensors work in float32 between passes, and a 64³×64 volume's
     * conversions took 100-200 ms element by element, twenty times the pooling.
     */
    @Override
    public void convert(Tensor src, Tensor dst) {
        HostConversion.convert(src, dst);
    }

    /** Windows that tile channels-first planes two columns wide, in one pass ({@link BackwardRoutine#runTiles}). */
    @Override
    public boolean backwardPlanar(PoolMode mode, Axis[] axes, int planes, Tensor in, Tensor gradOut, Tensor gradIn) {
        return backward.runTiles(mode, axes, planes, in, gradOut, gradIn);
    }

    @Override
    public void adaptive(AdaptiveGeometry g, Tensor in, Tensor out) {
        adaptive.run(g, in, out);
    }

    @Override
    public void unpool(Tensor values, Indices indices, UnpoolGeometry g, Tensor out) {
        unpool.run(g, values, indices, out);
    }

    /**
     * Windowed pooling of a channels-first tensor of spatial rank 1 to 3 with its own kernel, which
     * reads along W (no transpose): {@code in} holds the {@code g.planes()} (N·C) input planes and
     * {@code out} receives the output planes, both stored as the same dtype, in their own memory
     * whatever {@link Tensor#shape()} says (only the byte sizes are checked).
     */
    @Override
    public void poolPlanar(PlanarGeometry g, Tensor in, Tensor out) {
        if (in.dtype() != out.dtype()) {
            throw new IllegalArgumentException("input " + in.dtype() + " and output " + out.dtype() + " differ");
        }
        planar.run(g, in.dtype(), in.buffer(), out.buffer());
    }

    /** Global pooling of channels-first planes: as the device form, over host tensors. */
    @Override
    public void globalPlanar(PoolMode mode, int planes, int planeSize, Tensor in, Tensor out) {
        if (planarGlobal.covers(mode, planes, planeSize)) {
            if (in.dtype() != out.dtype()) {
                throw new IllegalArgumentException("input " + in.dtype() + " and output " + out.dtype() + " differ");
            }
            planarGlobal.run(mode, planes, planeSize, in, out);
            return;
        }
        PoolingBackend.super.globalPlanar(mode, planes, planeSize, in, out);
    }

    // ---- device-resident tensors ----

    @Override
    public ResidentTensor upload(Tensor t) {
        return written(session.resident(t.shape(), null), t.buffer());
    }

    /** {@code b} with {@code data} written to it, or closed if that fails. */
    private ResidentBuffer written(ResidentBuffer b, ByteBuffer data) {
        try {
            // Blocking: the upload is a snapshot of the data as it is now, whatever the caller does next.
            session.locked(() -> session.queue().write(b.buffer(), data, true));
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
        return b;
    }

    @Override
    public ResidentTensor allocate(Shape s) {
        return session.resident(s, null);
    }

    @Override
    public ResidentTensor allocateIndices(Shape s, IndexConvention convention) {
        return session.resident(s, java.util.Objects.requireNonNull(convention, "convention"));
    }

    @Override
    public ResidentTensor uploadIndices(Indices indices) {
        return written(session.resident(indices.shape(), indices.convention()), indices.buffer());
    }

    @Override
    public void pool(PoolGeometry g, ResidentTensor in, ResidentTensor out) {
        pool.run(g, values(in, g.input()), values(out, g.output()));
    }

    @Override
    public void global(PoolMode mode, ResidentTensor in, ResidentTensor out) {
        Shape s = in.shape();
        global.run(mode, values(in, s), values(out, Shape.of(s.n(), 1, 1, s.c())));
    }

    @Override
    public void maxWithIndices(PoolGeometry g, ResidentTensor in, ResidentTensor out, ResidentTensor indices) {
        if (g.mode() != PoolMode.MAX) {
            throw new IllegalArgumentException("pooling with indices is max pooling, not " + g.mode().word());
        }
        this.indices.run(g, values(in, g.input()), values(out, g.output()),
                ResidentBuffer.of(session, indices, g.output(), true));
    }

    @Override
    public void backward(PoolGeometry g, ResidentTensor in, ResidentTensor gradOut, ResidentTensor gradIn) {
        backward.run(g, values(in, g.input()), values(gradOut, g.output()), values(gradIn, g.input()));
    }

    @Override
    public boolean backwardPlanar(PoolMode mode, Axis[] axes, int planes, ResidentTensor in, ResidentTensor gradOut,
                                  ResidentTensor gradIn) {
        return backward.runTiles(mode, axes, planes, values(in, in.shape()), values(gradOut, gradOut.shape()),
                values(gradIn, gradIn.shape()));
    }

    @Override
    public void unpool(UnpoolGeometry g, ResidentTensor values, ResidentTensor indices, ResidentTensor out) {
        unpool.run(g, ResidentBuffer.of(session, values, values.shape(), false),
                ResidentBuffer.of(session, indices, indices.shape(), true), ResidentBuffer.of(session, out, out.shape(), false));
    }

    @Override
    public void adaptive(AdaptiveGeometry g, ResidentTensor in, ResidentTensor out) {
        adaptive.run(g, values(in, g.input()), values(out, g.output()));
    }

    /**
     * Global pooling of channels-first planes on the device: on CPU devices with enough planes the
     * planar kernel ({@link PlanarGlobalRoutine}), which reads along each plane; otherwise the
     * pixel-range global kernel over the planes seen as one channel.
     */
    @Override
    public void globalPlanar(PoolMode mode, int planes, int planeSize, ResidentTensor in, ResidentTensor out) {
        if (planarGlobal.covers(mode, planes, planeSize)) {
            planarGlobal.run(mode, planes, planeSize, values(in, in.shape()), values(out, out.shape()));
            return;
        }
        global(mode, in.view(Shape.of(planes, 1, planeSize, 1)), out.view(Shape.of(planes, 1, 1, 1)));
    }

    /**
     * {@link #poolPlanar(PlanarGeometry, Tensor, Tensor)} over device tensors holding exactly the
     * input and output planes (whatever their shapes say); only enqueued.
     */
    @Override
    public void poolPlanar(PlanarGeometry g, ResidentTensor in, ResidentTensor out) {
        planar.run(g, ResidentBuffer.of(session, in, in.shape(), false), ResidentBuffer.of(session, out, out.shape(), false));
    }

    @Override
    public void finish() {
        session.locked(session.queue()::finish);
    }

    private ResidentBuffer values(ResidentTensor t, Shape want) {
        return ResidentBuffer.of(session, t, want, false);
    }

    @Override
    public void close() {
        session.close();
    }
}
