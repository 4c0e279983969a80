package dev.clpool.opencl;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.BindingChoice;
import dev.clpool.DType;
import dev.clpool.Indices;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.backend.PoolingBackend;
import dev.clpool.backend.ResidentTensor;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pooling on one OpenCL device, written once against {@link ClBinding}. Owns one context, one
 * in-order queue, a bounded program cache and a pool of reusable device buffers. Dispatch is
 * serialised (kernels are not thread-safe), so one backend may be shared by many threads.
 *
 * <p>Host tensors are pooled per call: on devices that share memory with the host (PoCL,
 * integrated GPUs) the kernels work on the tensors' own page-aligned memory ({@code
 * CL_MEM_USE_HOST_PTR}, then a map to synchronise: no copies); elsewhere the input is written to a
 * device buffer and the output read back. When a tensor is larger than the device's largest
 * allocation, the batch is processed in chunks of whole batch items; when one item is, pool and
 * max with indices run each item in row bands ({@link RowBands}) and global pooling in ranges of
 * pixels, while backward and adaptive pooling refuse it. On devices that copy, a
 * large host tensor's pool or global operation is pipelined: its batch is split into chunks that
 * are uploaded, computed and downloaded on three in-order queues (upload, compute, download)
 * ordered by events, so that the upload of one chunk and the download of another overlap the
 * kernels of a third; only the last download is waited for.
 *
 * <p>Device-resident tensors ({@link #upload}, {@link #allocate}) are device buffers; operations
 * on them are only enqueued, and nothing waits until a download or {@link #finish()}.
 */
public final class OpenClBackend implements PoolingBackend {
    private static final Logger LOG = LoggerFactory.getLogger(OpenClBackend.class);
    static final int PROGRAM_CACHE_CAPACITY = 64;
    /** Idle device memory kept for reuse: at most this, and at most an eighth of the device's. */
    private static final long BUFFER_POOL_BYTES = 512L << 20;

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
     *     see {@link Layout}.</li>
     * </ul>
     */
    public record Tuning(boolean zeroCopy, int workGroupSize, int pixelsPerItem, Path kernelCache, Layout layout) {
        public Tuning {
            if (workGroupSize < 0 || pixelsPerItem < 0 || pixelsPerItem > 16) {
                throw new IllegalArgumentException("workGroupSize must be >= 0 and pixelsPerItem in [0, 16], got "
                        + workGroupSize + " and " + pixelsPerItem);
            }
            java.util.Objects.requireNonNull(layout, "layout");
        }

        /** The defaults, with any overrides from system properties (and the environment, for the cache). */
        public static Tuning fromSystem() {
            String layout = System.getProperty("clpool.opencl.layout", "auto").strip().toLowerCase(java.util.Locale.ROOT);
            return new Tuning(!"false".equalsIgnoreCase(System.getProperty("clpool.opencl.zeroCopy")),
                    Integer.getInteger("clpool.opencl.workGroupSize", 0),
                    Integer.getInteger("clpool.opencl.pixelsPerItem", 0),
                    ProgramBinaryCache.defaultDirectory(),
                    layout.equals("loop") ? Layout.CHANNEL_LOOP : layout.equals("lanes") ? Layout.CHANNEL_LANES : Layout.AUTO);
        }

        public Tuning withZeroCopy(boolean on) {
            return new Tuning(on, workGroupSize, pixelsPerItem, kernelCache, layout);
        }

        public Tuning withWorkGroupSize(int items) {
            return new Tuning(zeroCopy, items, pixelsPerItem, kernelCache, layout);
        }

        public Tuning withPixelsPerItem(int pixels) {
            return new Tuning(zeroCopy, workGroupSize, pixels, kernelCache, layout);
        }

        /** Program binaries kept in {@code dir} between runs; null: not kept. */
        public Tuning withKernelCache(Path dir) {
            return new Tuning(zeroCopy, workGroupSize, pixelsPerItem, dir, layout);
        }

        public Tuning withLayout(Layout l) {
            return new Tuning(zeroCopy, workGroupSize, pixelsPerItem, kernelCache, l);
        }
    }

    private final ClDevice device;
    private final Options options;
    private final Tuning tuning;
    private final NativeObjects objects = new NativeObjects();
    private final ClContext context;
    private final ClQueue queue;
    private final ProgramCache programs;
    private final BufferPool buffers;
    private final WorkGroups groups;
    private final boolean accDouble;
    private final boolean zeroCopy;
    private final long maxAlloc;
    private final boolean eventsSupported;
    /** The pipeline's transfer queues, created on first use; the compute queue is {@link #queue}. */
    private ClQueue uploadQueue;
    private ClQueue downloadQueue;
    /** Host operations that ran pipelined, and their chunks: for tests. */
    private long pipelinedOps;
    private long pipelinedChunks;
    /** Host operations that split batch items (pool: row bands; global: pixel ranges), and their pieces: for tests. */
    private long splitOps;
    private long splitPieces;
    private final ReentrantLock lock = new ReentrantLock();
    /** Device-resident tensors not yet closed: released by {@link #close()}. */
    private final Set<DeviceBuffer> residents = new LinkedHashSet<>();
    private boolean closed;

    private OpenClBackend(ClDevice device, Options options, Tuning tuning, int programCacheCapacity) {
        this.device = device;
        this.options = options;
        this.tuning = tuning;
        this.context = new ClContext(device, objects);
        try {
            this.queue = context.createQueue();
        } catch (RuntimeException e) {
            context.close();
            throw e;
        }
        DeviceInfo info = device.info();
        this.programs = new ProgramCache(context, programCacheCapacity, new ProgramBinaryCache(tuning.kernelCache()));
        this.buffers = new BufferPool(context, Math.min(BUFFER_POOL_BYTES, info.globalMemBytes() / 8));
        this.groups = WorkGroups.of(info, tuning.workGroupSize(), tuning.layout());
        this.accDouble = options.allowDoubleAccumulation() && info.fp64();
        this.zeroCopy = tuning.zeroCopy() && info.hostUnifiedMemory();
        this.maxAlloc = options.maxAllocOverride() > 0 ? options.maxAllocOverride() : info.maxAllocBytes();
        this.eventsSupported = atLeastOpenCl12(info.version());
    }

    /** Whether a {@code CL_DEVICE_VERSION} string ("OpenCL 1.2 pocl ...") names 1.2 or later: markers and barriers. */
    static boolean atLeastOpenCl12(String version) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^OpenCL (\\d+)\\.(\\d+)").matcher(version == null ? "" : version);
        if (!m.find()) {
            return false;
        }
        int major = Integer.parseInt(m.group(1));
        return major > 1 || Integer.parseInt(m.group(2)) >= 2;
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
                backend.zeroCopy ? "zero-copy host tensors" : "host tensors copied",
                backend.groups.channelLoop() ? "channel-loop" : "channel-lanes",
                tuning.workGroupSize() > 0 ? tuning.workGroupSize() : "default");
        return backend;
    }

    public ClDevice device() {
        return device;
    }

    public Tuning tuning() {
        return tuning;
    }

    /** Whether host tensors are pooled in place (zero-copy), which needs a host-unified device. */
    public boolean zeroCopy() {
        return zeroCopy;
    }

    /** Native objects created and not released: zero after {@link #close()}. */
    public NativeObjects nativeObjects() {
        return objects;
    }

    /** Programs held by the cache now (never more than its capacity): for tests. */
    int cachedPrograms() {
        lock.lock();
        try {
            return programs.size();
        } finally {
            lock.unlock();
        }
    }

    /** Releases the device buffers kept idle for reuse (they are otherwise released by {@link #close()}). */
    public void releaseIdleBuffers() {
        locked(buffers::clear);
    }

    @Override
    public String kind() {
        return "opencl";
    }

    @Override
    public String description() {
        return "OpenCL " + device.info().summary() + " via " + device.binding().name();
    }

    // ---- host tensors ----

    @Override
    public void pool(PoolGeometry g, Tensor in, Tensor out) {
        locked(() -> {
            if (chunkItems(in, out) < 1) {
                poolInBands(g, in, out);
            } else {
                hostOp(in, out, (src, dst, nb) -> enqueuePool(g, in.dtype(), src, dst, nb));
            }
        });
    }

    /**
     * Pools a tensor one batch item of which does not fit in a device allocation (or in the
     * kernels' offsets): each item in row bands ({@link RowBands}), band after band through
     * {@link Staging}.
     */
    private void poolInBands(PoolGeometry g, Tensor in, Tensor out) {
        int inBytes = in.dtype().byteSize();
        int outBytes = out.dtype().byteSize();
        List<RowBands.Band> bands = rowBands(g, inBytes, outBytes);
        ByteBuffer src = in.buffer();
        ByteBuffer dst = out.buffer();
        for (int n = 0; n < g.input().n(); n++) {
            for (RowBands.Band b : bands) {
                try (Staging st = new Staging(RowBands.rows(src, g.input(), inBytes, n, b.inFrom(), b.inTo()),
                        RowBands.rows(dst, g.output(), outBytes, n, b.outFrom(), b.outTo()))) {
                    enqueuePool(b.geometry(), in.dtype(), st.in, st.out, 1);
                    st.complete();
                }
            }
        }
    }

    /**
     * The row bands one batch item of {@code g} is split into when it does not fit whole: each
     * band's input ({@code inBytes} per element) and each of its outputs ({@code outBytes} per
     * element: the widest output's) fit in one device allocation and hold at most
     * {@link Options#maxKernelElements()} elements.
     *
     * @throws ClException when not even the band of one output row fits
     */
    List<RowBands.Band> rowBands(PoolGeometry g, int inBytes, int outBytes) {
        long inRow = (long) g.input().w() * g.input().c();
        long outRow = (long) g.output().w() * g.output().c();
        long maxIn = Math.min(maxAlloc / (inRow * inBytes), options.maxKernelElements() / inRow);
        long maxOut = Math.min(maxAlloc / (outRow * outBytes), options.maxKernelElements() / outRow);
        int least = RowBands.inputRowsOfOneOutputRow(g.rows());
        if (least > maxIn || maxOut < 1) {
            throw tooLarge("the smallest row band of a batch item", ": one output row and the " + least
                    + " input rows its window reads", Math.max(least * inRow * inBytes, outRow * outBytes),
                    Math.max(least * inRow, outRow));
        }
        List<RowBands.Band> bands = RowBands.split(g, maxIn, maxOut);
        splitOps++;
        splitPieces += (long) g.input().n() * bands.size();
        LOG.debug("{} on {}: a batch item does not fit in one device allocation ({} bytes, {} elements);"
                + " pooling each in {} row bands", g.spec(), g.input(), maxAlloc, options.maxKernelElements(), bands.size());
        return bands;
    }

    @Override
    public void global(PoolMode mode, Tensor in, Tensor out) {
        checkGlobal(mode);
        Shape s = in.shape();
        locked(() -> {
            if (chunkItems(in, out) < 1) {
                globalInRanges(mode, in, out);
            } else {
                hostOp(in, out, (src, dst, nb) -> enqueueGlobal(mode, in.dtype(), s, src, dst, nb));
            }
        });
    }

    /**
     * Global pooling of a tensor one batch item of which does not fit in a device allocation (or
     * the kernels' offsets): each plane in ranges of whole pixels, as many as fit, one after
     * another through {@link Staging}. The device reduces a range to the partial results of its
     * pixel runs (maxima, or sums in the accumulator's type: never rounded averages); the host
     * combines them in plane order, maxima by the kernels' rule (so the result is a sequential
     * scan's, bit for bit) and sums in double, divided once by H*W and rounded once into the
     * output's type, as the kernels do.
     */
    private void globalInRanges(PoolMode mode, Tensor in, Tensor out) {
        Shape s = in.shape();
        int c = s.c();
        int hw = s.h() * s.w();
        long pixelBytes = (long) c * in.dtype().byteSize();
        long perRange = Math.min(hw, Math.min(maxAlloc / pixelBytes, options.maxKernelElements() / c));
        if (perRange < 1) {
            throw tooLarge("one pixel of a batch item", "", pixelBytes, c);
        }
        long ranges = (hw + perRange - 1) / perRange;
        splitOps++;
        splitPieces += s.n() * ranges;
        LOG.debug("global {} on {}: a batch item does not fit in one device allocation ({} bytes, {} elements);"
                + " reducing each plane in {} pixel ranges", mode.word(), s, maxAlloc, options.maxKernelElements(), ranges);
        boolean sums = mode == PoolMode.AVG;
        int partBytes = partialBytes(mode);
        ByteBuffer src = in.buffer();
        ByteBuffer parts = ByteBuffer.allocateDirect(0); // host memory for a range's partials, grown as needed
        double[] sum = new double[c];
        float[] max = new float[c];
        for (int n = 0; n < s.n(); n++) {
            Arrays.fill(sum, 0);
            Arrays.fill(max, Float.NEGATIVE_INFINITY);
            for (long p0 = 0; p0 < hw; p0 += perRange) {
                GlobalPlan plan = globalPlan(c, (int) Math.min(perRange, hw - p0), 1);
                int partsBytes = plan.runs() * c * partBytes;
                if (parts.capacity() < partsBytes) {
                    parts = ByteBuffer.allocateDirect(partsBytes);
                }
                ByteBuffer part = parts.slice(0, partsBytes).order(ByteOrder.nativeOrder());
                try (Staging st = new Staging(slice(src, (n * (long) hw + p0) * pixelBytes, plan.hw() * pixelBytes), part)) {
                    enqueueGlobalPartial(mode, in.dtype(), plan, false, st.in, st.out, 1);
                    st.complete();
                }
                // Partial k of channel ch at k*C + ch: runs in plane order.
                for (int i = 0; i < plan.runs() * c; i++) {
                    if (!sums) {
                        float v = part.getFloat(i * Float.BYTES);
                        float m = max[i % c];
                        max[i % c] = v > m || (v != v && m == m) ? v : m; // common.cl's MAX_UPDATE: the first NaN stays
                    } else {
                        sum[i % c] += partBytes == Double.BYTES ? part.getDouble(i * Double.BYTES) : part.getFloat(i * Float.BYTES);
                    }
                }
            }
            for (int ch = 0; ch < c; ch++) {
                out.set(n, 0, 0, ch, sums ? (float) (sum[ch] / hw) : max[ch]);
            }
        }
    }

    /** Enqueues an operation over {@code nb} batch items from {@code in} to {@code out} on {@link #queue}; does not wait. */
    interface DeviceChunkOp {
        void enqueue(ClBuffer in, ClBuffer out, int nb);
    }

    /** A host-tensor operation: pipelined when it pays, else chunk by chunk through {@link Staging}. */
    private void hostOp(Tensor in, Tensor out, DeviceChunkOp op) {
        int step = pipelineChunkItems(in, out);
        if (step > 0) {
            pipelined(in, out, step, op);
            return;
        }
        forEachBatchChunk(in, out, (n0, nb, src, dst) -> {
            try (Staging st = new Staging(src, dst)) {
                op.enqueue(st.in, st.out, nb);
                st.complete();
            }
        });
    }

    /** Below this many bytes (input + output) per chunk, a chunk's launch and event costs outweigh the overlap. */
    static final long PIPELINE_MIN_CHUNK_BYTES = 1L << 20;
    /** Chunks a large batch is split into, when the batch items are small enough. */
    static final int PIPELINE_TARGET_CHUNKS = 8;
    /** Buffers per side: chunk k+2 reuses chunk k's input and output buffers. */
    static final int PIPELINE_SLOTS = 2;

    /**
     * Batch items per chunk when the operation {@code in -> out} is to be pipelined, else 0: it is
     * pipelined on devices that copy (not zero-copy) with markers and barriers (OpenCL 1.2) when
     * that gives at least two chunks.
     */
    private int pipelineChunkItems(Tensor in, Tensor out) {
        if (zeroCopy || !eventsSupported) {
            return 0;
        }
        int n = in.shape().n();
        long limit = maxChunkItems(in, out);
        int step = pipelineChunkItems(n, in.byteSize() / n + out.byteSize() / n, limit);
        return (n + step - 1) / step >= 2 ? step : 0;
    }

    /**
     * Batch items per pipeline chunk for {@code n} items of {@code itemBytes} (input + output): about
     * {@link #PIPELINE_TARGET_CHUNKS} chunks, each at least {@link #PIPELINE_MIN_CHUNK_BYTES} (or one
     * item), and never more than {@code limit} items (the allocation and 32-bit offset limits).
     */
    static int pipelineChunkItems(int n, long itemBytes, long limit) {
        long byCount = (n + (long) PIPELINE_TARGET_CHUNKS - 1) / PIPELINE_TARGET_CHUNKS;
        long byBytes = (PIPELINE_MIN_CHUNK_BYTES + Math.max(itemBytes, 1) - 1) / Math.max(itemBytes, 1);
        return (int) Math.max(1, Math.min(limit, Math.min(n, Math.max(byCount, byBytes))));
    }

    /**
     * Runs {@code op} over the batch in chunks of {@code step} items, pipelined: chunk k's input is
     * written on the upload queue, its kernels run on the compute queue ({@link #queue}) once that
     * write is done, and its output is read on the download queue once they are done. Chunk k uses
     * input and output buffers {@code k % PIPELINE_SLOTS}: its upload waits for the kernels of the
     * chunk that used the input buffer before, its kernels for the download of the one that used
     * the output buffer before. Nothing waits on the host but the end. On any error every queue is
     * drained before the buffers and events are released, and the error propagates.
     */
    private void pipelined(Tensor in, Tensor out, int step, DeviceChunkOp op) {
        ClQueue upload = uploadQueue();
        ClQueue download = downloadQueue();
        int n = in.shape().n();
        long inItem = in.byteSize() / n;
        long outItem = out.byteSize() / n;
        ByteBuffer src = in.buffer();
        ByteBuffer dst = out.buffer();
        int chunks = (n + step - 1) / step;
        int slots = Math.min(PIPELINE_SLOTS, chunks);
        ClBuffer[] ins = new ClBuffer[slots];
        ClBuffer[] outs = new ClBuffer[slots];
        ClEvent[] computed = new ClEvent[chunks];
        ClEvent[] downloaded = new ClEvent[chunks];
        List<ClEvent> events = new ArrayList<>(3 * chunks + 1);
        boolean ok = false;
        try {
            for (int i = 0; i < slots; i++) {
                ins[i] = buffers.take(step * inItem);
                outs[i] = buffers.take(step * outItem);
            }
            // Pooled buffers may still be used by work queued on the compute queue (a device tensor
            // closed before its operation ran): uploads start after it.
            ClEvent earlier = queue.marker();
            events.add(earlier);
            upload.waitFor(earlier);
            for (int k = 0; k < chunks; k++) {
                int n0 = k * step;
                int nb = Math.min(step, n - n0);
                int slot = k % slots;
                if (k >= slots) {
                    upload.waitFor(computed[k - slots]);
                }
                upload.write(ins[slot], slice(src, n0 * inItem, nb * inItem), false);
                ClEvent uploaded = upload.marker();
                events.add(uploaded);
                queue.waitFor(uploaded);
                if (k >= slots) {
                    queue.waitFor(downloaded[k - slots]);
                }
                op.enqueue(ins[slot], outs[slot], nb);
                computed[k] = queue.marker();
                events.add(computed[k]);
                download.waitFor(computed[k]);
                download.read(outs[slot], slice(dst, n0 * outItem, nb * outItem), false);
                if (k + slots < chunks) {
                    downloaded[k] = download.marker();
                    events.add(downloaded[k]);
                }
            }
            // The one wait: the last read follows every kernel, and every kernel its upload.
            download.finish();
            queue.finish();
            upload.finish();
            ok = true;
            pipelinedOps++;
            pipelinedChunks += chunks;
        } catch (RuntimeException | Error e) {
            drain(e, upload, queue, download);
            throw e;
        } finally {
            events.forEach(ClEvent::close);
            for (int i = 0; i < slots; i++) {
                release(ins[i], ok);
                release(outs[i], ok);
            }
            // The device read src and wrote dst after their last use above: keep them (and the
            // tensors' memory, which a direct buffer frees when unreachable) alive until here.
            Reference.reachabilityFence(src);
            Reference.reachabilityFence(dst);
            Reference.reachabilityFence(in);
            Reference.reachabilityFence(out);
        }
    }

    /** Waits for everything enqueued on {@code queues}, adding any failure to {@code cause} as suppressed. */
    private static void drain(Throwable cause, ClQueue... queues) {
        for (ClQueue q : queues) {
            try {
                q.finish();
            } catch (RuntimeException e) {
                cause.addSuppressed(e);
            }
        }
    }

    /** Gives a buffer back for reuse after a clean run; releases it after an error (OpenCL frees it once unused). */
    private void release(ClBuffer b, boolean reuse) {
        if (b == null) {
            return;
        }
        if (reuse) {
            buffers.give(b);
        } else {
            b.close();
        }
    }

    private ClQueue uploadQueue() {
        if (uploadQueue == null) {
            uploadQueue = context.createQueue();
        }
        return uploadQueue;
    }

    private ClQueue downloadQueue() {
        if (downloadQueue == null) {
            downloadQueue = context.createQueue();
        }
        return downloadQueue;
    }

    /** Host operations that ran pipelined, and their chunks in all: for tests. */
    long[] pipelineCounts() {
        return locked(() -> new long[] {pipelinedOps, pipelinedChunks});
    }

    /** Host operations that split batch items (row bands, pixel ranges), and their pieces in all: for tests. */
    long[] bandCounts() {
        return locked(() -> new long[] {splitOps, splitPieces});
    }

    /**
     * The device buffers for one batch chunk of a host operation: on a host-unified device the
     * host memory itself (USE_HOST_PTR), else pooled device buffers with the input written to
     * one. {@link #complete()} makes the output visible in the host tensor; {@link #close()}
     * releases or recycles the buffers.
     */
    private final class Staging implements AutoCloseable {
        final ClBuffer in;
        final ClBuffer out;
        /** Kept until close: the device reads it after the constructor returns (or works in it, zero-copy). */
        private final ByteBuffer src;
        private final ByteBuffer dst;

        Staging(ByteBuffer src, ByteBuffer dst) {
            this.src = src;
            this.dst = dst;
            if (zeroCopy) {
                in = context.createBuffer(Cl.CL_MEM_READ_ONLY | Cl.CL_MEM_USE_HOST_PTR, src);
                ClBuffer o;
                try {
                    o = context.createBuffer(Cl.CL_MEM_WRITE_ONLY | Cl.CL_MEM_USE_HOST_PTR, dst);
                } catch (RuntimeException e) {
                    in.close();
                    throw e;
                }
                out = o;
            } else {
                in = buffers.take(src.remaining());
                ClBuffer o = null;
                try {
                    queue.write(in, src, false); // complete() waits; src outlives the call
                    o = buffers.take(dst.remaining());
                } catch (RuntimeException e) {
                    buffers.give(in);
                    throw e;
                }
                out = o;
            }
        }

        /** Waits for the queued work and makes the output visible in the host tensor. */
        void complete() {
            if (zeroCopy) {
                // A blocking map synchronises the host memory with the device's view of it; on a
                // USE_HOST_PTR buffer of a host-unified device it copies nothing.
                ByteBuffer mapped = queue.map(out, Cl.CL_MAP_READ, dst.remaining());
                queue.unmap(out, mapped);
            } else {
                queue.read(out, dst, true);
            }
        }

        @Override
        public void close() {
            if (zeroCopy) {
                in.close();
                out.close();
            } else {
                buffers.give(in);
                buffers.give(out);
            }
            // A direct buffer's memory is freed once it is unreachable; the non-blocking write
            // (or the USE_HOST_PTR buffers) used src and dst until the wait in complete() (or
            // the releases above).
            Reference.reachabilityFence(src);
            Reference.reachabilityFence(dst);
        }
    }

    // ---- device-resident tensors ----

    /** A device buffer holding one tensor; closing it gives the buffer back for reuse. */
    private final class DeviceBuffer implements ResidentTensor {
        final ClBuffer buffer;
        final Shape shape;
        private boolean released;

        DeviceBuffer(ClBuffer buffer, Shape shape) {
            this.buffer = buffer;
            this.shape = shape;
        }

        @Override
        public Shape shape() {
            return shape;
        }

        @Override
        public void download(Tensor into) {
            locked(() -> {
                requireLive();
                queue.read(buffer, into.buffer(), true);
            });
        }

        @Override
        public void download(ByteBuffer into) {
            locked(() -> {
                requireLive();
                int bytes = Math.toIntExact(shape.elementCount() * Float.BYTES);
                queue.read(buffer, into.slice(into.position(), bytes), true);
                into.position(into.position() + bytes);
            });
        }

        OpenClBackend owner() {
            return OpenClBackend.this;
        }

        void requireLive() {
            if (released) {
                throw new IllegalStateException("the device tensor " + shape + " is closed");
            }
        }

        @Override
        public void close() {
            lock.lock();
            try {
                if (released) {
                    return;
                }
                released = true;
                if (!closed) {
                    residents.remove(this);
                    buffers.give(buffer);
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public String toString() {
            return "device buffer " + shape + " on " + device;
        }
    }

    @Override
    public ResidentTensor upload(Tensor t) {
        return locked(() -> {
            DeviceBuffer b = track(t.shape());
            try {
                // Blocking: the upload is a snapshot of t as it is now, whatever the caller does next.
                queue.write(b.buffer, t.buffer(), true);
            } catch (RuntimeException e) {
                b.close();
                throw e;
            }
            return b;
        });
    }

    @Override
    public ResidentTensor allocate(Shape s) {
        return locked(() -> track(s));
    }

    private DeviceBuffer track(Shape s) {
        long bytes = s.elementCount() * Float.BYTES;
        if (s.elementCount() > options.maxKernelElements()) {
            // Unlike a host Tensor, a device tensor is not limited to 2^31-1 bytes.
            throw new ClException("clCreateBuffer", -61 /* CL_INVALID_BUFFER_SIZE */, "a device tensor " + s + " ("
                    + s.elementCount() + " elements) exceeds the " + options.maxKernelElements()
                    + " elements the kernels' 32-bit offsets reach");
        }
        if (bytes > maxAlloc) {
            throw new ClException("clCreateBuffer", -61 /* CL_INVALID_BUFFER_SIZE */, "a device tensor " + s + " ("
                    + bytes + " bytes) exceeds the device's largest allocation (" + maxAlloc + " bytes)");
        }
        DeviceBuffer b = new DeviceBuffer(buffers.take(bytes), s);
        residents.add(b);
        return b;
    }

    @Override
    public void pool(PoolGeometry g, ResidentTensor in, ResidentTensor out) {
        locked(() -> enqueuePool(g, DType.FLOAT32, mine(in, g.input()).buffer, mine(out, g.output()).buffer,
                g.input().n()));
    }

    @Override
    public void global(PoolMode mode, ResidentTensor in, ResidentTensor out) {
        checkGlobal(mode);
        Shape s = in.shape();
        locked(() -> enqueueGlobal(mode, DType.FLOAT32, s, mine(in, s).buffer, mine(out, Shape.of(s.n(), 1, 1, s.c())).buffer, s.n()));
    }

    @Override
    public void finish() {
        locked(queue::finish);
    }

    private DeviceBuffer mine(ResidentTensor t, Shape want) {
        if (!(t instanceof DeviceBuffer b) || b.owner() != this) {
            throw new IllegalArgumentException(t + " is not resident on " + description());
        }
        b.requireLive();
        if (!b.shape.equals(want)) {
            throw new IllegalArgumentException("device tensor " + b.shape + ": expected " + want);
        }
        return b;
    }

    // ---- dispatch ----

    /**
     * Enqueues the pool kernel over {@code nb} batch items of {@code g.input()} already on the
     * device, writing {@code nb} items of {@code g.output()} to {@code out}, both stored as
     * {@code dtype}; does not wait. The one dispatch path: {@link #pool} calls it per batch chunk,
     * device tensors and {@link SelfTest} on resident buffers.
     */
    void enqueuePool(PoolGeometry g, DType dtype, ClBuffer in, ClBuffer out, int nb) {
        Shape is = g.input();
        Shape os = g.output();
        boolean lp = g.mode() == PoolMode.LP;
        int vec = lp ? 1 : KernelOptions.wideVectorWidth(is.c());
        boolean channelLoop = groups.channelLoop();
        int opx = !channelLoop || lp ? 1 : tuning.pixelsPerItem() > 0 ? tuning.pixelsPerItem()
                : WorkGroups.pixelsPerItem(g.cols().window(), g.cols().stride(), g.cols().dilation(), true);
        String opts = KernelOptions.pool(g, vec, accDouble, channelLoop, opx) + KernelOptions.storage(dtype);
        long[][] range = groups.pool(nb, os.h(), os.w(), is.c() / vec, opx);
        locked(() -> {
            ClKernel kernel = programs.kernel("pool2d_nhwc.cl", opts, "pool2d");
            kernel.args(in, out, is.h(), is.w(), is.c(), os.h(), os.w());
            queue.run(kernel, range[0], range[1]);
        });
    }

    /**
     * How global pooling spreads {@code nb} planes of {@code hw} pixels and {@code c} channels over
     * work items: channels per vector, channel vectors per work item, and pixel runs of
     * {@code chunk} pixels, {@code runs} of them per plane.
     */
    private record GlobalPlan(int c, int hw, int vec, int blocks, int chunk, int runs) {
        int lanes() {
            return c / vec;
        }
    }

    private GlobalPlan globalPlan(int c, int hw, int nb) {
        int vec = KernelOptions.wideVectorWidth(c);
        int blocks = groups.globalBlocks(c / vec);
        int chunks = chunks(nb, c / vec / blocks, hw);
        int chunk = (hw + chunks - 1) / chunks;
        return new GlobalPlan(c, hw, vec, blocks, chunk, (hw + chunk - 1) / chunk);
    }

    /**
     * Enqueues global pooling of {@code nb} items of shape {@code s} (per item) from {@code in} to
     * {@code out}, both stored as {@code dtype}; does not wait. A two-pass reduction: contiguous
     * pixel runs, then the runs.
     */
    void enqueueGlobal(PoolMode mode, DType dtype, Shape s, ClBuffer in, ClBuffer out, int nb) {
        GlobalPlan p = globalPlan(s.c(), s.h() * s.w(), nb);
        if (p.runs() == 1) {
            // One run per plane: the first pass writes the results; no partials, one launch.
            enqueueGlobalPartial(mode, dtype, p, true, in, out, nb);
            return;
        }
        long partBytes = (long) nb * p.runs() * s.c() * partialBytes(mode);
        long[][] finalRange = groups.globalFinal(p.lanes(), nb);
        String opts = KernelOptions.global(mode, p.vec(), accDouble, p.blocks()) + KernelOptions.storage(dtype);
        locked(() -> {
            ClKernel fin = programs.kernel("global_nhwc.cl", opts, "global_final");
            ClBuffer part = buffers.take(partBytes);
            try {
                enqueueGlobalPartial(mode, dtype, p, false, in, part, nb);
                fin.args(part, out, p.hw(), s.c(), p.runs());
                queue.run(fin, finalRange[0], finalRange[1]);
            } finally {
                buffers.give(part); // reusable at once: later users are queued after these kernels
            }
        });
    }

    /**
     * Enqueues the first pass of global pooling over {@code nb} planes: into {@code out}, the
     * results where {@code single} (one run per plane), else each run's partial result (a maximum,
     * or a sum in the accumulator's type: {@link #partialBytes} each).
     */
    private void enqueueGlobalPartial(PoolMode mode, DType dtype, GlobalPlan p, boolean single, ClBuffer in,
                                      ClBuffer out, int nb) {
        String opts = KernelOptions.global(mode, p.vec(), accDouble, p.blocks(), single) + KernelOptions.storage(dtype);
        long[][] range = groups.globalPartial(p.lanes() / p.blocks(), p.runs(), nb);
        locked(() -> {
            ClKernel partial = programs.kernel("global_nhwc.cl", opts, "global_partial");
            partial.args(in, out, p.hw(), p.c(), p.chunk(), p.runs());
            queue.run(partial, range[0], range[1]);
        });
    }

    /** Bytes of one partial result of global pooling: a double sum where averages accumulate in double. */
    private int partialBytes(PoolMode mode) {
        return accDouble && mode == PoolMode.AVG ? Double.BYTES : Float.BYTES;
    }

    /** A kernel of this backend's program cache (the caller holds no lock: single-threaded use). */
    ClKernel kernel(String file, String options, String name) {
        return locked(() -> programs.kernel(file, options, name));
    }

    /** This backend's context and in-order queue, for device-resident work in this package. */
    ClContext context() {
        return context;
    }

    ClQueue queue() {
        return queue;
    }

    private static void checkGlobal(PoolMode mode) {
        if (mode != PoolMode.MAX && mode != PoolMode.AVG) {
            throw new IllegalArgumentException("global pooling supports max and avg, not " + mode.word());
        }
    }

    /** Pixel runs per plane: enough work items to fill the device, runs of at least 32 pixels. */
    private int chunks(int n, int lanes, int hw) {
        long target = Math.max(1, device.info().computeUnits()) * (long) groups.globalItemsPerUnit();
        long wanted = (target + (long) n * lanes - 1) / ((long) n * lanes);
        return (int) Math.max(1, Math.min(wanted, (hw + 31) / 32));
    }

    @Override
    public void backward(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn) {
        OpenClBackward.run(this, g, in, gradOut, gradIn);
    }

    @Override
    public void adaptive(AdaptiveGeometry g, Tensor in, Tensor out) {
        AdaptiveAndIndices.adaptive(this, g, in, out);
    }

    @Override
    public void maxWithIndices(PoolGeometry g, Tensor in, Tensor out, Indices indices) {
        AdaptiveAndIndices.maxWithIndices(this, g, in, out, indices);
    }

    // For op classes in this package (OpenClBackward, AdaptiveAndIndices): use inside locked(...) only.

    ProgramCache programs() {
        return programs;
    }

    boolean accDouble() {
        return accDouble;
    }

    interface ChunkOp {
        void run(int n0, int nb, ByteBuffer src, ByteBuffer dst);
    }

    /**
     * Runs {@code op} over slices of whole batch items whose input and output each fit in one
     * device allocation and hold at most {@link Options#maxKernelElements()} elements, the reach
     * of the kernels' 32-bit offsets (usually a single slice: the whole batch).
     */
    void forEachBatchChunk(Tensor in, Tensor out, ChunkOp op) {
        int n = in.shape().n();
        long inItem = in.byteSize() / n;
        long outItem = out.byteSize() / n;
        int step = (int) Math.min(n, maxChunkItems(in, out));
        ByteBuffer src = in.buffer();
        ByteBuffer dst = out.buffer();
        for (int n0 = 0; n0 < n; n0 += step) {
            int nb = Math.min(step, n - n0);
            op.run(n0, nb, slice(src, n0 * inItem, nb * inItem), slice(dst, n0 * outItem, nb * outItem));
        }
    }

    /**
     * The most batch items of {@code in -> out} one chunk may hold: its input and output each fit in
     * one device allocation and hold at most {@link Options#maxKernelElements()} elements.
     *
     * @throws ClException when not even one item fits
     */
    long maxChunkItems(Tensor in, Tensor out) {
        long items = chunkItems(in, out);
        if (items < 1) {
            int n = in.shape().n();
            throw tooLarge("one batch item", "", Math.max(in.byteSize() / n, out.byteSize() / n),
                    Math.max(in.shape().itemSize(), out.shape().itemSize()));
        }
        return items;
    }

    /** As {@link #maxChunkItems}, but 0 when not even one item fits. */
    long chunkItems(Tensor in, Tensor out) {
        int n = in.shape().n();
        return chunkItems(Math.max(in.shape().itemSize(), out.shape().itemSize()), in.byteSize() / n, out.byteSize() / n);
    }

    /**
     * The most batch items one chunk may hold such that each of its buffers ({@code itemBytes} per
     * item, one number per buffer) fits in one device allocation and holds at most
     * {@link Options#maxKernelElements()} elements ({@code itemElements}: the most of any buffer,
     * per item); 0 when not even one item fits.
     */
    long chunkItems(long itemElements, long... itemBytes) {
        long items = options.maxKernelElements() / Math.max(itemElements, 1);
        for (long b : itemBytes) {
            items = Math.min(items, maxAlloc / Math.max(b, 1));
        }
        return items;
    }

    /**
     * The refusal of a piece of work ({@code piece}, {@code detail} said after its size) of
     * {@code bytes} and {@code elements} that exceeds a device allocation (checked first) or the
     * kernels' 32-bit offsets.
     */
    private ClException tooLarge(String piece, String detail, long bytes, long elements) {
        String why = bytes > maxAlloc
                ? piece + " (" + bytes + " bytes" + detail + ") exceeds the device's largest allocation (" + maxAlloc + " bytes)"
                : piece + " (" + elements + " elements" + detail + ") exceeds the " + options.maxKernelElements()
                        + " elements the kernels' 32-bit offsets reach";
        return new ClException("clCreateBuffer", -61 /* CL_INVALID_BUFFER_SIZE */, why);
    }

    static ByteBuffer slice(ByteBuffer b, long offset, long length) {
        return b.slice(Math.toIntExact(offset), Math.toIntExact(length));
    }

    void locked(Runnable body) {
        locked(() -> {
            body.run();
            return null;
        });
    }

    private <T> T locked(Supplier<T> body) {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the OpenCL backend is closed");
            }
            return body.get();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            List<DeviceBuffer> open = new ArrayList<>(residents);
            residents.clear();
            if (!open.isEmpty()) {
                LOG.debug("releasing {} device tensors still open", open.size());
            }
            open.forEach(r -> r.buffer.close());
            buffers.close();
            programs.close();
            if (uploadQueue != null) {
                uploadQueue.close();
            }
            if (downloadQueue != null) {
                downloadQueue.close();
            }
            queue.close();
            context.close();
            if (objects.live() != 0) {
                LOG.warn("{} native OpenCL objects still live after close", objects.live());
            }
        } finally {
            lock.unlock();
        }
    }
}
