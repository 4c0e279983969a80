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
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pooling on one OpenCL device, written once against {@link ClBinding}. Owns one context, one
 * in-order queue and a bounded program cache. Dispatch is serialised (kernels are not
 * thread-safe), so one backend may be shared by many threads.
 *
 * <p>Host tensors are uploaded, pooled and downloaded per call. When a tensor is larger than the
 * device's largest allocation, the batch is processed in chunks of whole batch items.
 */
public final class OpenClBackend implements PoolingBackend {
    private static final Logger LOG = LoggerFactory.getLogger(OpenClBackend.class);
    private static final int PROGRAM_CACHE_CAPACITY = 64;

    /** Knobs for tests and tuning; the defaults are right for normal use. */
    public record Options(boolean allowDoubleAccumulation, long maxAllocOverride) {
        public static final Options DEFAULT = new Options(true, 0);

        /** Float (compensated) accumulation even where the device has fp64: tests the no-fp64 path. */
        public Options withoutDouble() {
            return new Options(false, maxAllocOverride);
        }

        /** Pretend the device's largest allocation is {@code bytes}: tests batch chunking cheaply. */
        public Options withMaxAlloc(long bytes) {
            return new Options(allowDoubleAccumulation, bytes);
        }
    }

    private final ClDevice device;
    private final Options options;
    private final NativeObjects objects = new NativeObjects();
    private final ClContext context;
    private final ClQueue queue;
    private final ProgramCache programs;
    private final boolean accDouble;
    private final long maxAlloc;
    private final ReentrantLock lock = new ReentrantLock();
    private boolean closed;

    private OpenClBackend(ClDevice device, Options options) {
        this.device = device;
        this.options = options;
        this.context = new ClContext(device, objects);
        try {
            this.queue = context.createQueue();
        } catch (RuntimeException e) {
            context.close();
            throw e;
        }
        this.programs = new ProgramCache(context, PROGRAM_CACHE_CAPACITY);
        this.accDouble = options.allowDoubleAccumulation() && device.info().fp64();
        this.maxAlloc = options.maxAllocOverride() > 0 ? options.maxAllocOverride() : device.info().maxAllocBytes();
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
        ClBinding b = Bindings.require(binding);
        return open(OpenClDevices.choose(b, deviceIndex), options);
    }

    public static OpenClBackend open(ClDevice device, Options options) {
        OpenClBackend backend = new OpenClBackend(device, options);
        LOG.debug("opened {}", backend.description());
        return backend;
    }

    public ClDevice device() {
        return device;
    }

    /** Native objects created and not released: zero after {@link #close()}. */
    public NativeObjects nativeObjects() {
        return objects;
    }

    @Override
    public String kind() {
        return "opencl";
    }

    @Override
    public String description() {
        return "OpenCL " + device.info().summary() + " via " + device.binding().name();
    }

    @Override
    public void pool(PoolGeometry g, Tensor in, Tensor out) {
        locked(() -> forEachBatchChunk(in, out, (n0, nb, src, dst) -> {
            try (ClBuffer din = context.createBuffer(Cl.CL_MEM_READ_ONLY | Cl.CL_MEM_COPY_HOST_PTR, src);
                 ClBuffer dout = context.createBuffer(Cl.CL_MEM_WRITE_ONLY, dst.remaining())) {
                enqueuePool(g, in.dtype(), din, dout, nb);
                queue.read(dout, dst, true);
            }
        }));
    }

    /**
     * Enqueues the pool kernel over {@code nb} batch items of {@code g.input()} already on the
     * device, writing {@code nb} items of {@code g.output()} to {@code out}, both stored as
     * {@code dtype}; does not wait. The one dispatch path: {@link #pool} calls it per batch chunk,
     * {@link SelfTest} on resident buffers.
     */
    void enqueuePool(PoolGeometry g, DType dtype, ClBuffer in, ClBuffer out, int nb) {
        Shape is = g.input();
        Shape os = g.output();
        int vec = g.mode() == PoolMode.LP ? 1 : KernelOptions.vectorWidth(is.c());
        String opts = KernelOptions.pool(g, vec, accDouble) + KernelOptions.storage(dtype);
        locked(() -> {
            ClKernel kernel = programs.kernel("pool2d_nhwc.cl", opts, "pool2d");
            kernel.args(in, out, is.h(), is.w(), is.c(), os.h(), os.w());
            queue.run(kernel, new long[] {is.c() / vec, os.w(), (long) nb * os.h()}, null);
        });
    }

    @Override
    public void backward(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn) {
        OpenClBackward.run(this, g, in, gradOut, gradIn);
    }

    @Override
    public void global(PoolMode mode, Tensor in, Tensor out) {
        if (mode != PoolMode.MAX && mode != PoolMode.AVG) {
            throw new IllegalArgumentException("global pooling supports max and avg, not " + mode.word());
        }
        Shape s = in.shape();
        int vec = KernelOptions.vectorWidth(s.c());
        boolean dbl = accDouble && mode == PoolMode.AVG;
        String opts = KernelOptions.global(mode, vec, accDouble) + KernelOptions.storage(in.dtype());
        int hw = s.h() * s.w();
        locked(() -> {
            ClKernel partial = programs.kernel("global_nhwc.cl", opts, "global_partial");
            ClKernel fin = programs.kernel("global_nhwc.cl", opts, "global_final");
            forEachBatchChunk(in, out, (n0, nb, src, dst) -> {
                int lanes = s.c() / vec;
                int chunks = chunks(nb, lanes, hw);
                int chunk = (hw + chunks - 1) / chunks;
                chunks = (hw + chunk - 1) / chunk;
                long partBytes = (long) nb * chunks * s.c() * (dbl ? Double.BYTES : Float.BYTES);
                try (ClBuffer din = context.createBuffer(Cl.CL_MEM_READ_ONLY | Cl.CL_MEM_COPY_HOST_PTR, src);
                     ClBuffer part = context.createBuffer(Cl.CL_MEM_READ_WRITE, partBytes);
                     ClBuffer dout = context.createBuffer(Cl.CL_MEM_WRITE_ONLY, dst.remaining())) {
                    partial.args(din, part, hw, s.c(), chunk, chunks);
                    queue.run(partial, new long[] {lanes, chunks, nb}, null);
                    fin.args(part, dout, hw, s.c(), chunks);
                    queue.run(fin, new long[] {lanes, nb}, null);
                    queue.read(dout, dst, true);
                }
            });
        });
    }

    @Override
    public void adaptive(AdaptiveGeometry g, Tensor in, Tensor out) {
        AdaptiveAndIndices.adaptive(this, g, in, out);
    }

    @Override
    public void maxWithIndices(PoolGeometry g, Tensor in, Tensor out, Indices indices) {
        AdaptiveAndIndices.maxWithIndices(this, g, in, out, indices);
    }

    /** Pixel runs per plane: enough work items to fill the device, runs of at least 32 pixels. */
    private int chunks(int n, int lanes, int hw) {
        long target = Math.max(1, device.info().computeUnits()) * 256L;
        long wanted = (target + (long) n * lanes - 1) / ((long) n * lanes);
        return (int) Math.max(1, Math.min(wanted, (hw + 31) / 32));
    }

    interface ChunkOp {
        void run(int n0, int nb, ByteBuffer src, ByteBuffer dst);
    }

    /**
     * Runs {@code op} over slices of whole batch items whose input and output each fit in one
     * device allocation (usually a single slice: the whole batch).
     */
    void forEachBatchChunk(Tensor in, Tensor out, ChunkOp op) {
        int n = in.shape().n();
        long inItem = in.byteSize() / n;
        long outItem = out.byteSize() / n;
        long perChunk = Math.min(maxAlloc / Math.max(inItem, 1), maxAlloc / Math.max(outItem, 1));
        if (perChunk < 1) {
            throw new ClException("clCreateBuffer", -61 /* CL_INVALID_BUFFER_SIZE */,
                    "one batch item (" + Math.max(inItem, outItem) + " bytes) exceeds the device's largest allocation ("
                            + maxAlloc + " bytes)");
        }
        int step = (int) Math.min(n, perChunk);
        ByteBuffer src = in.buffer();
        ByteBuffer dst = out.buffer();
        for (int n0 = 0; n0 < n; n0 += step) {
            int nb = Math.min(step, n - n0);
            op.run(n0, nb, slice(src, n0 * inItem, nb * inItem), slice(dst, n0 * outItem, nb * outItem));
        }
    }

    static ByteBuffer slice(ByteBuffer b, long offset, long length) {
        return b.slice(Math.toIntExact(offset), Math.toIntExact(length));
    }

    void locked(Runnable body) {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the OpenCL backend is closed");
            }
            body.run();
        } finally {
            lock.unlock();
        }
    }

    // For op classes and device-resident work in this package (OpenClBackward, SelfTest):
    // use these inside locked(...) only.

    ClContext context() {
        return context;
    }

    ClQueue queue() {
        return queue;
    }

    ProgramCache programs() {
        return programs;
    }

    boolean accDouble() {
        return accDouble;
    }

    /** The largest allocation batch chunks must fit (AdaptiveAndIndices sizes its index buffer by it). */
    long maxAlloc() {
        return maxAlloc;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            programs.close();
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
