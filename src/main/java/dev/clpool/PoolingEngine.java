package dev.clpool;

import dev.clpool.DeviceUnavailableException.Reason;
import dev.clpool.backend.BackendLimitException;
import dev.clpool.backend.PoolingBackend;
import dev.clpool.backend.ResidentTensor;
import dev.clpool.backend.SplitBackend;
import dev.clpool.cpu.CpuBackend;
import dev.clpool.opencl.ClBuildException;
import dev.clpool.opencl.ClDevice;
import dev.clpool.opencl.ClException;
import dev.clpool.opencl.OpenClBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry point: validates each request, runs it on the chosen backend and returns the result.
 *
 * <pre>{@code
 * try (PoolingEngine engine = PoolingEngine.builder().backend(BackendChoice.AUTO).build()) {
 *     Tensor x = Tensor.of(Shape.of(1, 4, 4, 1), values);
 *     Tensor y = engine.pool(x, PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build());
 * }
 * }</pre>
 *
 * <p>With {@link BackendChoice#AUTO} the engine uses an OpenCL device when one is usable and
 * otherwise the CPU path; it logs why, once. If the device fails later (a kernel does not build,
 * the device runs out of resources) the engine switches to the CPU path for good, logs why, and
 * the operation still completes. With {@link BackendChoice#OPENCL} it never falls back: it throws
 * {@link DeviceUnavailableException}.
 *
 * <p>Every output has its input's {@link DType}: float32, float16 or bfloat16 storage, computed in
 * float32 and rounded once to the storage type (see {@link DType}). Index outputs are int64.
 *
 * <p><b>Thread safety.</b> One engine may be shared by any number of threads. Operations on the
 * CPU path run concurrently (each on the engine's fork-join pool); on a device they are
 * serialised (one command queue, and a {@code cl_kernel} is not thread-safe). Every result is the
 * same, bit for bit, as when the operation runs alone on the same backend. A fallback to the CPU
 * path made by one thread applies to all. {@link #close()} waits for operations in flight
 * (device-tensor operations included) to finish, then releases everything; an operation started
 * after (or while waiting for) {@code close()} throws {@link IllegalStateException}. Tensors are
 * not synchronised: do not write an input while an operation reads it.
 */
public final class PoolingEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PoolingEngine.class);

    private final BackendChoice choice;
    private final int cpuThreads;
    private volatile PoolingBackend backend;
    private volatile String fallbackReason;
    private PoolingBackend retired;
    /** Under auto: small host operations on the CPU path where faster; else null. */
    private final SmallOps smallOps;
    private PoolingBackend smallOpsCpu;
    /** Operations hold the read lock; close() takes the write lock, so it waits for them. */
    private final ReentrantReadWriteLock inFlight = new ReentrantReadWriteLock();
    private final AsyncSubmitter async = new AsyncSubmitter();
    private boolean closed;

    private PoolingEngine(Builder b) {
        this.choice = b.backend;
        this.cpuThreads = b.cpuThreads;
        this.smallOps = b.backend == BackendChoice.AUTO && b.smallOpsOnCpu ? new SmallOps(this::smallOpsCpu) : null;
        switch (b.backend) {
            case CPU:
                backend = cpu();
                break;
            case OPENCL:
                try {
                    backend = openCl(b);
                } catch (ClException e) {
                    // Context or queue creation failed: typed like a failure during an operation.
                    Reason reason = e instanceof ClBuildException ? Reason.BUILD_FAILED : Reason.DEVICE_ERROR;
                    throw new DeviceUnavailableException(reason, "OpenCL device could not be opened: " + e.getMessage(), e);
                }
                break;
            default:
                try {
                    backend = openCl(b);
                } catch (DeviceUnavailableException | ClException e) {
                    fallbackReason = e.getMessage();
                    LOG.info("OpenCL not used, running on the CPU path: {}", e.getMessage());
                    backend = cpu();
                }
                break;
        }
        LOG.debug("pooling engine on {}", backend.description());
    }

    private static PoolingBackend openCl(Builder b) {
        OpenClBackend.Tuning tuning = b.openClTuning != null ? b.openClTuning : OpenClBackend.Tuning.fromSystem();
        List<Supplier<PoolingBackend>> opens = new ArrayList<>();
        if (!b.clDevices.isEmpty()) {
            b.clDevices.forEach(d -> opens.add(() -> OpenClBackend.open(d, b.openClOptions, tuning)));
        } else if (b.deviceIndices.length > 0) {
            Arrays.stream(b.deviceIndices).forEach(i -> opens.add(() -> OpenClBackend.open(b.binding, i, b.openClOptions, tuning)));
        } else if (b.clDevice != null) {
            return OpenClBackend.open(b.clDevice, b.openClOptions, tuning);
        } else {
            return OpenClBackend.open(b.binding, b.device, b.openClOptions, tuning);
        }
        List<PoolingBackend> opened = new ArrayList<>();
        try {
            for (Supplier<PoolingBackend> open : opens) {
                opened.add(open.get());
            }
        } catch (RuntimeException e) {
            opened.forEach(PoolingBackend::close);
            throw e;
        }
        return SplitBackend.of(opened);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** An engine with the default choice: an OpenCL device if usable, else the CPU. */
    public static PoolingEngine create() {
        return builder().build();
    }

    /** {@code cpu} or {@code opencl}: where operations run now. */
    public String backendKind() {
        return backend.kind();
    }

    /** Where operations run now, for people (device, binding or thread count). */
    public String backendDescription() {
        return backend.description();
    }

    /** Why the engine runs on the CPU although OpenCL was allowed ({@code auto}), if it does. */
    public Optional<String> fallbackReason() {
        return Optional.ofNullable(fallbackReason);
    }

    /** Windowed pooling; the output shape is {@code spec.outputShape(in.shape())}. */
    public Tensor pool(Tensor in, PoolSpec spec) {
        PoolGeometry g = spec.geometry(in.shape());
        return pool(in, g, Tensor.allocate(g.output(), in.dtype()));
    }

    /** Average over each H×W plane: output (N, 1, 1, C). */
    public Tensor globalAvg(Tensor in) {
        return global(PoolMode.AVG, in);
    }

    /** Maximum over each H×W plane: output (N, 1, 1, C). */
    public Tensor globalMax(Tensor in) {
        return global(PoolMode.MAX, in);
    }

    /** Global pooling with {@code mode} MAX or AVG. */
    public Tensor global(PoolMode mode, Tensor in) {
        return global(mode, in, Tensor.allocate(globalShape(in.shape()), in.dtype()));
    }

    // ---- asynchronous submission ----

    /**
     * {@link #pool(Tensor, PoolSpec)} without waiting: the spec is checked against the input now
     * (an invalid one throws here), and the operation runs on the engine's submission thread after
     * those submitted before it. Do not write {@code in} until the future completes.
     */
    public CompletableFuture<Tensor> poolAsync(Tensor in, PoolSpec spec) {
        PoolGeometry g = spec.geometry(in.shape());
        Tensor out = Tensor.allocate(g.output(), in.dtype());
        return async.submit(() -> pool(in, g, out));
    }

    /** {@link #global(PoolMode, Tensor)} without waiting; see {@link #poolAsync}. */
    public CompletableFuture<Tensor> globalAsync(PoolMode mode, Tensor in) {
        checkGlobalMode(mode);
        Tensor out = Tensor.allocate(globalShape(in.shape()), in.dtype());
        return async.submit(() -> global(mode, in, out));
    }

    /**
     * Any work with this engine (a chain of device-tensor operations and a download, an adaptive
     * or backward pass, ...) run on the engine's submission thread, in submission order with
     * {@link #poolAsync} and {@link #globalAsync}; its result or exception completes the future.
     * {@link #close()} lets submitted work finish first.
     *
     * <pre>{@code
     * CompletableFuture<Tensor> y = engine.submit(e -> {
     *     try (DeviceTensor x = e.upload(input); DeviceTensor p = e.pool(x, spec)) {
     *         return p.download();
     *     }
     * });
     * }</pre>
     */
    public <T> CompletableFuture<T> submit(Function<PoolingEngine, T> work) {
        Objects.requireNonNull(work, "work");
        return async.submit(() -> work.apply(this));
    }

    /**
     * Backward of windowed max or avg pooling: the gradient with respect to {@code input}, shape
     * {@code input.shape()}, given {@code gradOutput}, whose shape must be
     * {@code spec.outputShape(input.shape())}. Max routes each output's gradient to its argmax (the
     * first maximum in scan order, or the first NaN); avg spreads it, divided by the divisor, over
     * the window's input elements. Overlapping windows add up. Avg reads only {@code input}'s shape.
     *
     * {@code gradOutput} must have {@code input}'s dtype, and so has the result.
     *
     * @throws InvalidSpecException for LP (no backward), a spec that cannot run on the input, or a
     *                              {@code gradOutput} of the wrong shape or dtype
     */
    public Tensor backward(Tensor input, Tensor gradOutput, PoolSpec spec) {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(gradOutput, "gradOutput");
        Objects.requireNonNull(spec, "spec");
        if (spec.mode() == PoolMode.LP) {
            throw new InvalidSpecException("mode", spec.mode().word(), "backward supports max and avg");
        }
        PoolGeometry g = spec.geometry(input.shape());
        if (!gradOutput.shape().equals(g.output())) {
            throw new InvalidSpecException("gradOutput shape", gradOutput.shape(), "must equal the output shape "
                    + g.output() + " of input " + input.shape() + " under " + spec);
        }
        if (gradOutput.dtype() != input.dtype()) {
            throw new InvalidSpecException("gradOutput dtype", gradOutput.dtype(), "must equal the input's dtype "
                    + input.dtype() + " (the input gradient has that dtype too)");
        }
        Tensor gradInput = Tensor.allocate(input.shape(), input.dtype());
        run(b -> b.backward(g, input, gradOutput, gradInput));
        return gradInput;
    }

    /** Adaptive average to (oh, ow): output (N, oh, ow, C); see {@link AdaptiveGeometry} for the regions. */
    public Tensor adaptiveAvg(Tensor in, int oh, int ow) {
        return adaptive(PoolMode.AVG, in, oh, ow);
    }

    /** Adaptive maximum to (oh, ow): output (N, oh, ow, C); see {@link AdaptiveGeometry} for the regions. */
    public Tensor adaptiveMax(Tensor in, int oh, int ow) {
        return adaptive(PoolMode.MAX, in, oh, ow);
    }

    /**
     * Adaptive pooling with {@code mode} MAX or AVG to (oh, ow), which may exceed (H, W).
     *
     * @throws InvalidSpecException oh or ow below 1, or mode LP
     */
    public Tensor adaptive(PoolMode mode, Tensor in, int oh, int ow) {
        AdaptiveGeometry g = AdaptiveGeometry.of(mode, in.shape(), oh, ow);
        Tensor out = Tensor.allocate(g.output(), in.dtype());
        run(b -> b.adaptive(g, in, out));
        return out;
    }

    /** Max pooling with indices in the default {@link IndexConvention#NHWC} convention. */
    public PooledWithIndices poolWithIndices(Tensor in, PoolSpec spec) {
        return poolWithIndices(in, spec, IndexConvention.NHWC);
    }

    /**
     * Max pooling ({@code spec.mode()} must be MAX) that also returns, for each output element,
     * the index of the input element it came from: the first maximum in window scan order, or the
     * first NaN; never padding. The values equal {@link #pool(Tensor, PoolSpec)}'s bit for bit.
     */
    public PooledWithIndices poolWithIndices(Tensor in, PoolSpec spec, IndexConvention convention) {
        Objects.requireNonNull(convention, "convention");
        if (spec.mode() != PoolMode.MAX) {
            throw new InvalidSpecException("mode", spec.mode().word(), "indices come with max pooling only");
        }
        PoolGeometry g = spec.geometry(in.shape());
        Indices indices = Indices.allocate(g.output(), convention);
        Tensor out = Tensor.allocate(g.output(), in.dtype());
        run(b -> b.maxWithIndices(g, in, out, indices));
        return new PooledWithIndices(out, indices);
    }

    /**
     * Windowed pooling into {@code out}, which must have shape {@code spec.outputShape(in.shape())}:
     * reuses the output's memory (no allocation per call); returns {@code out}.
     */
    public Tensor pool(Tensor in, PoolSpec spec, Tensor out) {
        PoolGeometry g = spec.geometry(in.shape());
        requireShape(in, out, g.output());
        return pool(in, g, out);
    }

    private Tensor pool(Tensor in, PoolGeometry g, Tensor out) {
        run(b -> small(b, new SmallOps.Kind("pool", g.spec(), in.shape()), in, out, x -> x.pool(g, in, out)));
        return out;
    }

    /** Global pooling into {@code out} of shape (N, 1, 1, C); returns {@code out}. */
    public Tensor global(PoolMode mode, Tensor in, Tensor out) {
        checkGlobalMode(mode);
        Shape s = in.shape();
        requireShape(in, out, globalShape(s));
        run(b -> small(b, new SmallOps.Kind("global", mode, s), in, out, x -> x.global(mode, in, out)));
        return out;
    }

    // ---- device-resident tensors: upload once, chain operations, download once ----

    /**
     * A copy of {@code t} where this engine computes (its device, or host memory on the CPU
     * path), taken before this returns: later changes to {@code t} do not show in it.
     */
    public DeviceTensor upload(Tensor t) {
        Objects.requireNonNull(t, "tensor");
        if (t.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException("device tensors hold float32 for now, got " + t.dtype()
                    + ": convert first (Tensor.convert) or pool the host tensor directly");
        }
        return resident(b -> new DeviceTensor(this, b, b.upload(t)));
    }

    /**
     * Windowed pooling of a device tensor into a new one, without waiting for the device. The
     * result has shape {@code spec.outputShape(in.shape())}; close it when done.
     */
    public DeviceTensor pool(DeviceTensor in, PoolSpec spec) {
        PoolGeometry g = spec.geometry(in.shape());
        return resident(in, g.output(), (b, src, dst) -> b.pool(g, src, dst));
    }

    /** Average over each H×W plane of a device tensor: a new (N, 1, 1, C) device tensor. */
    public DeviceTensor globalAvg(DeviceTensor in) {
        return global(PoolMode.AVG, in);
    }

    /** Maximum over each H×W plane of a device tensor: a new (N, 1, 1, C) device tensor. */
    public DeviceTensor globalMax(DeviceTensor in) {
        return global(PoolMode.MAX, in);
    }

    /** Global pooling ({@code mode} MAX or AVG) of a device tensor, without waiting for the device. */
    public DeviceTensor global(PoolMode mode, DeviceTensor in) {
        checkGlobalMode(mode);
        return resident(in, globalShape(in.shape()), (b, src, dst) -> b.global(mode, src, dst));
    }

    /** One device-tensor operation on a backend: reads {@code src}, writes {@code dst}. */
    private interface ResidentOp {
        void run(PoolingBackend b, ResidentTensor src, ResidentTensor dst);
    }

    /**
     * Runs {@code op} from {@code in} into a new device tensor of shape {@code outShape} on the
     * current backend; the new storage is released if the operation fails, and a temporary copy
     * of {@code in} (after a fallback) is released either way.
     */
    private DeviceTensor resident(DeviceTensor in, Shape outShape, ResidentOp op) {
        return resident(b -> {
            ResidentTensor src = residentOn(in, b);
            ResidentTensor dst = b.allocate(outShape);
            try {
                op.run(b, src, dst);
            } catch (RuntimeException e) {
                dst.close();
                throw e;
            } finally {
                if (src != in.storage) {
                    src.close();
                }
            }
            return new DeviceTensor(this, b, dst);
        });
    }

    /** Waits until every operation submitted so far has completed on the device. */
    public void finish() {
        inFlight(() -> {
            PoolingBackend b = backend;
            try {
                b.finish();
            } catch (ClException e) {
                throw new DeviceUnavailableException(Reason.DEVICE_ERROR, b.description() + ": " + e.getMessage(), e);
            }
            return null;
        });
    }

    void download(DeviceTensor t, Tensor into) {
        checkOwner(t);
        inFlight(() -> {
            t.requireOpen();
            try {
                t.storage.download(into);
            } catch (ClException e) {
                // The data lives on the device: there is nothing to fall back to.
                throw new DeviceUnavailableException(Reason.DEVICE_ERROR, t.backend.description() + ": " + e.getMessage(), e);
            }
            return null;
        });
    }

    /**
     * Runs a device-tensor operation on the current backend. Under {@code auto}, a device failure
     * switches the engine to the CPU path (as for host tensors) and the operation runs again
     * there, its inputs downloaded from the failed device if it can still read them.
     */
    private DeviceTensor resident(Function<PoolingBackend, DeviceTensor> op) {
        return inFlight(() -> {
            PoolingBackend b = backend;
            try {
                return op.apply(b);
            } catch (BackendLimitException e) {
                // A device tensor too large for the device: nothing was created; no other backend holds it.
                throw new DeviceUnavailableException(Reason.DEVICE_ERROR, b.description() + ": " + e.getMessage(), e);
            } catch (ClException e) {
                Reason reason = e instanceof ClBuildException ? Reason.BUILD_FAILED : Reason.DEVICE_ERROR;
                if (choice != BackendChoice.AUTO) {
                    throw new DeviceUnavailableException(reason, b.description() + ": " + e.getMessage(), e);
                }
                PoolingBackend cpu = fallBack(b, e);
                try {
                    return op.apply(cpu);
                } catch (ClException again) {
                    throw new DeviceUnavailableException(Reason.DEVICE_ERROR, "the device failed (" + e.getMessage()
                            + ") and its data could not be read back: " + again.getMessage(), again);
                }
            }
        });
    }

    /** Runs {@code body} as an operation in flight: close() waits for it; after close() it is refused. */
    private <T> T inFlight(Supplier<T> body) {
        inFlight.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("the pooling engine is closed");
            }
            return body.get();
        } finally {
            inFlight.readLock().unlock();
        }
    }

    /** {@code t}'s storage if it lives on {@code b}; else a temporary copy there (after a fallback). */
    private ResidentTensor residentOn(DeviceTensor t, PoolingBackend b) {
        checkOwner(t);
        t.requireOpen();
        if (t.backend == b) {
            return t.storage;
        }
        Tensor host = Tensor.allocate(t.shape());
        t.storage.download(host);
        return b.upload(host);
    }

    private void checkOwner(DeviceTensor t) {
        Objects.requireNonNull(t, "device tensor");
        if (t.engine() != this) {
            throw new IllegalArgumentException(t + " belongs to another engine");
        }
    }

    /**
     * Runs a host-tensor operation on {@code b}, except that under {@code auto} a small one may run
     * on the CPU path where that measured faster ({@link SmallOps}).
     */
    private void small(PoolingBackend b, SmallOps.Kind kind, Tensor in, Tensor out, Consumer<PoolingBackend> op) {
        if (smallOps == null) {
            op.accept(b);
        } else {
            smallOps.run(b, kind, in.byteSize() + out.byteSize(), op);
        }
    }

    private synchronized PoolingBackend smallOpsCpu() {
        if (smallOpsCpu == null) {
            smallOpsCpu = cpu();
        }
        return smallOpsCpu;
    }

    /** Global pooling's output shape, (N, 1, 1, C). */
    private static Shape globalShape(Shape in) {
        return Shape.of(in.n(), 1, 1, in.c());
    }

    private static void checkGlobalMode(PoolMode mode) {
        Objects.requireNonNull(mode, "mode");
        if (mode == PoolMode.LP) {
            throw new InvalidSpecException("mode", mode.word(), "global pooling supports max and avg");
        }
    }

    private static void requireShape(Tensor in, Tensor out, Shape want) {
        Objects.requireNonNull(out, "out");
        if (!out.shape().equals(want)) {
            throw new IllegalArgumentException("output tensor " + out.shape() + ": expected " + want);
        }
        if (out.dtype() != in.dtype()) {
            throw new IllegalArgumentException("output tensor dtype " + out.dtype() + ": expected the input's " + in.dtype());
        }
    }

    private void run(Consumer<PoolingBackend> op) {
        inFlight(() -> {
            PoolingBackend b = backend;
            try {
                op.accept(b);
            } catch (BackendLimitException e) {
                // Too large for this backend, nothing failed: this request alone runs on the CPU path.
                if (choice != BackendChoice.AUTO) {
                    throw new DeviceUnavailableException(Reason.DEVICE_ERROR, b.description() + ": " + e.getMessage(), e);
                }
                LOG.info("running one request on the CPU path: {}", e.getMessage());
                op.accept(smallOpsCpu());
            } catch (ClException e) {
                Reason reason = e instanceof ClBuildException ? Reason.BUILD_FAILED : Reason.DEVICE_ERROR;
                if (choice != BackendChoice.AUTO) {
                    throw new DeviceUnavailableException(reason, b.description() + ": " + e.getMessage(), e);
                }
                op.accept(fallBack(b, e));
            }
            return null;
        });
    }

    private synchronized PoolingBackend fallBack(PoolingBackend failed, ClException e) {
        if (backend == failed) {
            fallbackReason = failed.description() + " failed (" + e.getMessage() + ")";
            LOG.warn("switching to the CPU path: {}", fallbackReason);
            retired = failed;
            backend = cpu();
        }
        return backend;
    }

    private PoolingBackend cpu() {
        // The CPU path computes in float32; WideningBackend gives it 16-bit storage.
        return new WideningBackend(cpuThreads > 0 ? new CpuBackend(cpuThreads) : new CpuBackend());
    }

    /**
     * Lets asynchronously submitted work finish and waits for the operations in flight, then
     * releases the device (or the CPU threads). Idempotent; later operations throw
     * {@link IllegalStateException}.
     */
    @Override
    public void close() {
        async.shutdownAndWait(); // submitted work completes; new submissions are refused
        inFlight.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            synchronized (this) {
                if (smallOpsCpu != null) {
                    smallOpsCpu.close();
                }
                backend.close();
                if (retired != null) {
                    retired.close();
                }
            }
        } finally {
            inFlight.writeLock().unlock();
        }
    }

    /** Configures a {@link PoolingEngine}. */
    public static final class Builder {
        private BackendChoice backend = BackendChoice.AUTO;
        private BindingChoice binding = BindingChoice.AUTO;
        private int device = -1;
        private int cpuThreads;
        private ClDevice clDevice;
        private int[] deviceIndices = new int[0];
        private List<ClDevice> clDevices = List.of();
        private OpenClBackend.Options openClOptions = OpenClBackend.Options.DEFAULT;
        private OpenClBackend.Tuning openClTuning;
        private boolean smallOpsOnCpu = true;

        public Builder backend(BackendChoice backend) {
            this.backend = Objects.requireNonNull(backend, "backend");
            return this;
        }

        public Builder binding(BindingChoice binding) {
            this.binding = Objects.requireNonNull(binding, "binding");
            return this;
        }

        /** The OpenCL device by its number in {@code clpool probe}; by default the best suitable one. */
        public Builder device(int index) {
            this.device = requireIndex(index);
            return this;
        }

        private static int requireIndex(int index) {
            if (index < 0) {
                throw new IllegalArgumentException("device index must be >= 0, got " + index);
            }
            return index;
        }

        /**
         * Exactly this OpenCL device (as found by {@link dev.clpool.opencl.OpenClDevices}), for
         * runtimes that choose devices themselves; overrides {@link #binding} and {@link #device(int)}.
         */
        public Builder device(ClDevice device) {
            this.clDevice = Objects.requireNonNull(device, "device");
            return this;
        }

        /**
         * Several OpenCL devices by their numbers in {@code clpool probe}: the batch of each host
         * operation is split across them in proportion to their measured speed ({@link SplitBackend});
         * device tensors live on the first. Overrides {@link #device(int)}.
         */
        public Builder devices(int... indices) {
            for (int i : indices) {
                requireIndex(i);
            }
            if (Arrays.stream(indices).distinct().count() != indices.length) {
                throw new IllegalArgumentException("device indices repeat: " + Arrays.toString(indices));
            }
            this.deviceIndices = indices.clone();
            return this;
        }

        /**
         * Exactly these OpenCL devices, split as {@link #devices(int...)} does; overrides every other
         * device choice. Each gets its own context, so one device may appear twice.
         */
        public Builder devices(List<ClDevice> devices) {
            this.clDevices = List.copyOf(devices);
            return this;
        }

        /** Threads of the CPU path; by default one per available processor. */
        public Builder cpuThreads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("cpu threads must be >= 1, got " + threads);
            }
            this.cpuThreads = threads;
            return this;
        }

        public Builder openClOptions(OpenClBackend.Options options) {
            this.openClOptions = Objects.requireNonNull(options, "options");
            return this;
        }

        /**
         * Under {@code AUTO} (the default: true), whether small host-tensor operations may run on the
         * CPU path where that measures faster than the device's launch and synchronisation costs.
         */
        public Builder smallOpsOnCpu(boolean allowed) {
            this.smallOpsOnCpu = allowed;
            return this;
        }

        /** Performance knobs of the OpenCL backend (same results whatever they are); by default from system properties. */
        public Builder openClTuning(OpenClBackend.Tuning tuning) {
            this.openClTuning = Objects.requireNonNull(tuning, "tuning");
            return this;
        }

        public PoolingEngine build() {
            return new PoolingEngine(this);
        }
    }
}
