package dev.clpool.opencl;

import dev.clpool.IndexConvention;
import dev.clpool.Shape;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the routines share on one OpenCL device: the context, the in-order compute queue and
 * the pipeline's upload and download queues (created on first use), the program cache, the pool
 * of reusable device buffers, the work-group sizes, the {@link Limits} and the dispatch lock.
 * Routines ask it for what they need ({@link #kernel}, {@link #buffers()}, {@link #queue()}) and
 * use {@link Staging}, {@link HostBatches} and {@link Pipeline} to move host tensors; it knows no
 * operation. Kernels are not thread-safe, so every use happens under {@link #locked}.
 */
final class DeviceSession implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceSession.class);
    /** Idle device memory kept for reuse: at most this, and at most an eighth of the device's. */
    private static final long BUFFER_POOL_BYTES = 512L << 20;

    private final ClDevice device;
    private final NativeObjects objects = new NativeObjects();
    private final ClContext context;
    private final ClQueue queue;
    private final ProgramCache programs;
    private final BufferPool buffers;
    private final WorkGroups groups;
    private final Limits limits;
    private final boolean accDouble;
    private final boolean zeroCopy;
    private final boolean eventsSupported;
    /** The driver runs kernels in the host memory of {@code CL_MEM_USE_HOST_PTR} buffers: {@link #finishSyncs()}. */
    private final boolean inPlaceDriver;
    private final int pixelsPerItem;
    /** The tuning's {@code portableHalf}: float16 kernels built with {@code -D HALF_PORTABLE}. */
    private final boolean portableHalf;
    private ClQueue uploadQueue;
    private ClQueue downloadQueue;
    /** Host operations that ran pipelined, and their chunks: for tests. */
    private long pipelinedOps;
    private long pipelinedChunks;
    /** Host operations that split batch items (row bands, pixel ranges), and their pieces: for tests. */
    private long splitOps;
    private long splitPieces;
    private final ReentrantLock lock = new ReentrantLock();
    /** Device-resident tensors not yet closed: released by {@link #close()}. */
    private final Set<ResidentBuffer> residents = new LinkedHashSet<>();
    private boolean closed;

    DeviceSession(ClDevice device, OpenClBackend.Options options, OpenClBackend.Tuning tuning, int programCacheCapacity) {
        this.device = device;
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
        this.limits = new Limits(options.maxAllocOverride() > 0 ? options.maxAllocOverride() : info.maxAllocBytes(),
                options.maxKernelElements());
        this.accDouble = options.allowDoubleAccumulation() && info.fp64();
        this.zeroCopy = tuning.zeroCopy() && info.hostUnifiedMemory();
        this.eventsSupported = atLeastOpenCl12(info.version());
        this.inPlaceDriver = zeroCopy && inPlace(info.type(), info.platformName());
        this.pixelsPerItem = tuning.pixelsPerItem();
        this.portableHalf = tuning.portableHalf();
    }

    /**
     * Whether the driver of a device of this type on this platform is known to run kernels in the
     * host memory of a {@code CL_MEM_USE_HOST_PTR} buffer, with no copy of its own: PoCL's CPU devices, whose
     * buffers take the host pointer as their device memory and whose map and unmap copy nothing
     * when the two are the same (pocl's common driver), so a finished queue leaves the outputs in
     * the host tensors.
     */
    static boolean inPlace(long deviceType, String platformName) {
        return (deviceType & Cl.CL_DEVICE_TYPE_CPU) != 0 && platformName != null
                && platformName.contains("Portable Computing Language");
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

    ClDevice device() {
        return device;
    }

    NativeObjects objects() {
        return objects;
    }

    ClContext context() {
        return context;
    }

    /** The in-order compute queue: every kernel runs here, and resident work is ordered by it. */
    ClQueue queue() {
        return queue;
    }

    BufferPool buffers() {
        return buffers;
    }

    WorkGroups groups() {
        return groups;
    }

    Limits limits() {
        return limits;
    }

    /** Whether sums accumulate in double (the device has fp64 and the options allow it). */
    boolean accDouble() {
        return accDouble;
    }

    /** Whether host tensors are worked on in place (host-unified device, zero-copy not turned off). */
    boolean zeroCopy() {
        return zeroCopy;
    }

    /**
     * Whether a zero-copy host operation completes with one {@code clFinish} instead of a blocking
     * map and an unmap of each output: on drivers that run kernels in the host memory itself
     * ({@link #inPlace}), where the map is one more command to schedule and wait for (through JOCL
     * about 45 µs a call on PoCL here, against a call's 50 µs of fixed cost). A system property
     * forces it for tests and measurements: {@code -Dclpool.opencl.finishSync=never} maps as
     * elsewhere ({@code always} still needs such a driver).
     */
    boolean finishSyncs() {
        return ForcedChoice.chosen("clpool.opencl.finishSync", inPlaceDriver, () -> true);
    }

    /** Whether host operations of several chunks are pipelined: a device that copies, with markers. */
    boolean pipelines() {
        return !zeroCopy && eventsSupported;
    }

    /** Output pixels per work item forced by the tuning; 0: chosen from the window. */
    int pixelsPerItemOverride() {
        return pixelsPerItem;
    }

    /**
     * A kernel from the program cache, built on first use. Setting its arguments and launching it
     * must happen under the same {@link #locked} call that asked for it.
     */
    ClKernel kernel(String file, String options, String name) {
        String built = portableHalf && options.contains(KernelOptions.HALF_STORAGE) ? options + " -D HALF_PORTABLE" : options;
        return locked(() -> programs.kernel(file, built, name));
    }

    int cachedPrograms() {
        return locked(programs::size);
    }

    ClQueue uploadQueue() {
        if (uploadQueue == null) {
            uploadQueue = context.createQueue();
        }
        return uploadQueue;
    }

    ClQueue downloadQueue() {
        if (downloadQueue == null) {
            downloadQueue = context.createQueue();
        }
        return downloadQueue;
    }

    void countPipelined(int chunks) {
        pipelinedOps++;
        pipelinedChunks += chunks;
    }

    void countSplit(long pieces) {
        splitOps++;
        splitPieces += pieces;
    }

    long[] pipelineCounts() {
        return locked(() -> new long[] {pipelinedOps, pipelinedChunks});
    }

    long[] splitCounts() {
        return locked(() -> new long[] {splitOps, splitPieces});
    }

    /**
     * A device tensor of shape {@code s}: float32 values, or int64 indices in {@code convention}
     * (null for values), tracked so that {@link #close()} releases it if its owner does not.
     */
    ResidentBuffer resident(Shape s, IndexConvention convention) {
        return locked(() -> {
            int elementBytes = convention == null ? Float.BYTES : Long.BYTES;
            limits.checkResident(s, elementBytes);
            ResidentBuffer b = new ResidentBuffer(this, buffers.take(s.elementCount() * elementBytes), s, convention);
            residents.add(b);
            return b;
        });
    }

    /** Gives a closed resident tensor's buffer back for reuse (nothing once the session is closed). */
    void release(ResidentBuffer b) {
        lock.lock();
        try {
            if (!closed) {
                residents.remove(b);
                buffers.give(b.buffer());
            }
        } finally {
            lock.unlock();
        }
    }

    void locked(Runnable body) {
        locked(() -> {
            body.run();
            return null;
        });
    }

    <T> T locked(Supplier<T> body) {
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
            List<ResidentBuffer> open = new ArrayList<>(residents);
            residents.clear();
            if (!open.isEmpty()) {
                LOG.debug("releasing {} device tensors still open", open.size());
            }
            open.forEach(r -> r.buffer().close());
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
