package dev.clpool;

import dev.clpool.backend.BackendSelector;
import dev.clpool.backend.Fallback;
import dev.clpool.backend.PoolingBackend;
// Configuration types only: the Builder's public methods take them (see ArchitectureTest).
import dev.clpool.opencl.ClDevice;
import dev.clpool.opencl.OpenClBackend;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
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
 * {@link DeviceUnavailableException}. Selection and fallback live in {@link BackendSelector} and
 * {@link Fallback}; the engine validates requests, allocates outputs and delegates.
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
 *
 * <p><b>Steady state.</b> Every operation has three forms: one that allocates its result, one that
 * writes into outputs the caller has ({@code pool(x, spec, out)}, {@code poolWithIndices(x, spec,
 * convention, values, indices)}, {@code backward(x, dy, spec, dx)}, {@code adaptive(mode, x, oh, ow,
 * out)}, {@code global(mode, x, out)}), and one on {@link DeviceTensor}s. Allocated results come from
 * the engine's reusable host memory: close each when done ({@link Tensor}, {@link Indices} and
 * {@link PooledWithIndices} are {@link AutoCloseable}) and the next call reuses it instead of paying
 * for fresh pages. In a loop, either reuse outputs or close results:
 *
 * <pre>{@code
 * Tensor out = Tensor.allocate(spec.outputShape(x.shape()));
 * for (Tensor batch : batches) {
 *     engine.pool(batch, spec, out);            // no allocation at all
 * }
 * for (Tensor batch : batches) {
 *     try (Tensor y = engine.pool(batch, spec)) {   // memory reused from the previous y
 *         consume(y);
 *     }
 * }
 * }</pre>
 *
 * A result that is never closed stays valid for as long as it (or a view of its memory) is
 * reachable, and its memory is then freed by the JDK rather than reused: correct, but each call
 * then pays for fresh memory. The pool keeps at most {@link Builder#hostMemoryPoolBytes} idle bytes
 * and drops them on {@link #close()}; results still open stay valid after the engine is closed.
 */
public final class PoolingEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PoolingEngine.class);

    private final Fallback exec;
    private final ResidentCalls resident;
    private final HostMemoryPool memory;
    private final AsyncSubmitter async = new AsyncSubmitter();

    private PoolingEngine(Builder b) {
        BackendSelector.Selection selection = BackendSelector.select(new BackendSelector.Request(b.backend,
                b.binding, b.device, b.clDevice, Arrays.stream(b.deviceIndices).boxed().collect(Collectors.toList()),
                b.clDevices, b.openClOptions, b.openClTuning, b.cpuThreads));
        int threads = b.cpuThreads;
        this.exec = new Fallback(selection, b.backend == BackendChoice.AUTO, b.smallOpsOnCpu, () -> BackendSelector.cpu(threads));
        this.memory = new HostMemoryPool(b.hostMemoryPoolBytes);
        this.resident = new ResidentCalls(this, exec, memory);
        LOG.debug("pooling engine on {} ({})", selection.backend().description(), selection.reason());
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
        return exec.current().kind();
    }

    /** Where operations run now, for people (device, binding or thread count). */
    public String backendDescription() {
        return exec.current().description();
    }

    /** Why the engine runs on the CPU although OpenCL was allowed ({@code auto}), if it does. */
    public Optional<String> fallbackReason() {
        return exec.fallbackReason();
    }

    // ---- host tensors: allocating forms (results from the engine's reusable memory) ----

    /** Windowed pooling; the output shape is {@code spec.outputShape(in.shape())}. Close the result when done. */
    public Tensor pool(Tensor in, PoolSpec spec) {
        PoolGeometry g = spec.geometry(in.shape());
        return memory.filled(memory.tensor(g.output(), in.dtype()), out -> pool(in, spec, out));
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
        EngineChecks.checkGlobalMode(mode);
        return memory.filled(memory.tensor(EngineChecks.globalShape(in.shape()), in.dtype()), out -> global(mode, in, out));
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
        PoolGeometry g = EngineChecks.backwardGeometry(input, gradOutput, spec);
        return memory.filled(memory.tensor(input.shape(), input.dtype()), dx -> exec.run(b -> b.backward(g, input, gradOutput, dx)));
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
        return memory.filled(memory.tensor(g.output(), in.dtype()), out -> exec.run(b -> b.adaptive(g, in, out)));
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
        Shape out = EngineChecks.indicesGeometry(in, spec, convention).output();
        return memory.filled(TensorShape.of(out), in.dtype(), convention, r -> poolWithIndices(in, spec, convention, r.values(), r.indices()));
    }

    // ---- host tensors: into outputs the caller has (no allocation) ----

    /**
     * Windowed pooling into {@code out}, which must have shape {@code spec.outputShape(in.shape())}
     * and {@code in}'s dtype: reuses the output's memory (no allocation per call); returns {@code out}.
     */
    public Tensor pool(Tensor in, PoolSpec spec, Tensor out) {
        PoolGeometry g = spec.geometry(in.shape());
        EngineChecks.requireOutput("output tensor", out, g.output(), in.dtype());
        exec.runSmall("pool", g.spec(), in.shape(), in.byteSize() + out.byteSize(), b -> b.pool(g, in, out));
        return out;
    }

    /** Global pooling into {@code out} of shape (N, 1, 1, C) and {@code in}'s dtype; returns {@code out}. */
    public Tensor global(PoolMode mode, Tensor in, Tensor out) {
        EngineChecks.checkGlobalMode(mode);
        Shape s = in.shape();
        EngineChecks.requireOutput("output tensor", out, EngineChecks.globalShape(s), in.dtype());
        exec.runSmall("global", mode, s, in.byteSize() + out.byteSize(), b -> b.global(mode, in, out));
        return out;
    }

    /**
     * {@link #poolWithIndices(Tensor, PoolSpec, IndexConvention)} into {@code values} (shape
     * {@code spec.outputShape(in.shape())}, {@code in}'s dtype) and {@code indices} (that shape,
     * {@code convention}): no allocation. Returns a {@link PooledWithIndices} of the two (closing it
     * closes them).
     */
    public PooledWithIndices poolWithIndices(Tensor in, PoolSpec spec, IndexConvention convention, Tensor values,
                                             Indices indices) {
        PoolGeometry g = EngineChecks.indicesGeometry(in, spec, convention);
        EngineChecks.requireOutput("values", values, g.output(), in.dtype());
        EngineChecks.requireIndices(indices, g.output(), convention);
        exec.run(b -> b.maxWithIndices(g, in, values, indices));
        return new PooledWithIndices(values, indices);
    }

    /**
     * {@link #backward(Tensor, Tensor, PoolSpec)} into {@code gradInput} ({@code input}'s shape and
     * dtype, neither {@code input} nor {@code gradOutput}): every element is written; returns it.
     */
    public Tensor backward(Tensor input, Tensor gradOutput, PoolSpec spec, Tensor gradInput) {
        PoolGeometry g = EngineChecks.backwardGeometry(input, gradOutput, spec);
        EngineChecks.requireGradInput(gradInput, input, gradOutput);
        exec.run(b -> b.backward(g, input, gradOutput, gradInput));
        return gradInput;
    }

    /** {@link #adaptive(PoolMode, Tensor, int, int)} into {@code out} (shape (N, oh, ow, C), {@code in}'s dtype); returns it. */
    public Tensor adaptive(PoolMode mode, Tensor in, int oh, int ow, Tensor out) {
        AdaptiveGeometry g = AdaptiveGeometry.of(mode, in.shape(), oh, ow);
        EngineChecks.requireOutput("output tensor", out, g.output(), in.dtype());
        exec.run(b -> b.adaptive(g, in, out));
        return out;
    }

    // ---- asynchronous submission ----

    /**
     * {@link #pool(Tensor, PoolSpec)} without waiting: the spec is checked against the input now
     * (an invalid one throws here), and the operation runs on the engine's submission thread after
     * those submitted before it. Do not write {@code in} until the future completes.
     */
    public CompletableFuture<Tensor> poolAsync(Tensor in, PoolSpec spec) {
        PoolGeometry g = spec.geometry(in.shape());
        Tensor out = memory.tensor(g.output(), in.dtype());
        return async.submit(() -> memory.filled(out, o -> pool(in, spec, o)));
    }

    /** {@link #global(PoolMode, Tensor)} without waiting; see {@link #poolAsync}. */
    public CompletableFuture<Tensor> globalAsync(PoolMode mode, Tensor in) {
        EngineChecks.checkGlobalMode(mode);
        Tensor out = memory.tensor(EngineChecks.globalShape(in.shape()), in.dtype());
        return async.submit(() -> memory.filled(out, o -> global(mode, in, o)));
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
        return exec.resident(b -> new DeviceTensor(this, b, b.upload(t)));
    }

    /**
     * Windowed pooling of a device tensor into a new one, without waiting for the device. The
     * result has shape {@code spec.outputShape(in.shape())}; close it when done.
     */
    public DeviceTensor pool(DeviceTensor in, PoolSpec spec) {
        PoolGeometry g = spec.geometry(in.shape());
        return resident.into(g.output(), (b, src, dst) -> b.pool(g, src[0], dst), in);
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
        EngineChecks.checkGlobalMode(mode);
        return resident.into(EngineChecks.globalShape(in.shape()), (b, src, dst) -> b.global(mode, src[0], dst), in);
    }

    /** {@link #poolWithIndices(DeviceTensor, PoolSpec, IndexConvention)} in the {@link IndexConvention#NHWC} convention. */
    public DevicePooledWithIndices poolWithIndices(DeviceTensor in, PoolSpec spec) {
        return poolWithIndices(in, spec, IndexConvention.NHWC);
    }

    /**
     * Max pooling with indices of a device tensor, without waiting for the device: values and
     * indices equal {@link #poolWithIndices(Tensor, PoolSpec, IndexConvention)}'s bit for bit. Close
     * the result when done.
     */
    public DevicePooledWithIndices poolWithIndices(DeviceTensor in, PoolSpec spec, IndexConvention convention) {
        resident.checkOwner(in);
        PoolGeometry g = EngineChecks.indicesGeometry(in.shape(), spec, convention);
        return resident.maxWithIndices(g, convention, in);
    }

    /**
     * Backward of max or avg pooling on device tensors, without waiting for the device: a new
     * device tensor of {@code input}'s shape, equal to {@link #backward(Tensor, Tensor, PoolSpec)}'s
     * result bit for bit. The rules on {@code gradOutput} are the host form's.
     */
    public DeviceTensor backward(DeviceTensor input, DeviceTensor gradOutput, PoolSpec spec) {
        resident.checkOwner(input);
        resident.checkOwner(gradOutput);
        PoolGeometry g = EngineChecks.backwardGeometry(input.shape(), gradOutput.shape(), spec);
        return resident.into(input.shape(), (b, src, dst) -> b.backward(g, src[0], src[1], dst), input, gradOutput);
    }

    /** Adaptive average of a device tensor to (oh, ow); see {@link #adaptive(PoolMode, DeviceTensor, int, int)}. */
    public DeviceTensor adaptiveAvg(DeviceTensor in, int oh, int ow) {
        return adaptive(PoolMode.AVG, in, oh, ow);
    }

    /** Adaptive maximum of a device tensor to (oh, ow); see {@link #adaptive(PoolMode, DeviceTensor, int, int)}. */
    public DeviceTensor adaptiveMax(DeviceTensor in, int oh, int ow) {
        return adaptive(PoolMode.MAX, in, oh, ow);
    }

    /** Adaptive pooling of a device tensor to (oh, ow), without waiting for the device: a new (N, oh, ow, C) device tensor. */
    public DeviceTensor adaptive(PoolMode mode, DeviceTensor in, int oh, int ow) {
        resident.checkOwner(in);
        AdaptiveGeometry g = AdaptiveGeometry.of(mode, in.shape(), oh, ow);
        return resident.into(g.output(), (b, src, dst) -> b.adaptive(g, src[0], dst), in);
    }

    /** Waits until every operation submitted so far has completed on the device. */
    public void finish() {
        PoolingBackend b = exec.current();
        exec.onDevice(b, b::finish);
    }

    /** Device-tensor plumbing (downloads) for {@link DeviceTensor} and {@link DeviceIndices}. */
    ResidentCalls resident() {
        return resident;
    }

    /**
     * Lets asynchronously submitted work finish and waits for the operations in flight, then
     * releases the device (or the CPU threads) and the idle host memory. Idempotent; later
     * operations throw {@link IllegalStateException}. Results already returned stay valid.
     */
    @Override
    public void close() {
        async.shutdownAndWait(); // submitted work completes; new submissions are refused
        exec.close();
        memory.close();
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
        private long hostMemoryPoolBytes = HostMemoryPool.DEFAULT_MAX_IDLE_BYTES;

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
            this.device = EngineChecks.deviceIndices(index)[0];
            return this;
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
         * operation is split across them in proportion to their measured speed ({@link dev.clpool.backend.SplitBackend});
         * device tensors live on the first. Overrides {@link #device(int)}.
         */
        public Builder devices(int... indices) {
            this.deviceIndices = EngineChecks.deviceIndices(indices);
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

        /**
         * The most bytes of host memory the engine keeps for reuse after results are closed (by
         * default 256 MiB); 0 keeps none (every result gets fresh memory).
         */
        public Builder hostMemoryPoolBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("host memory pool bytes must be >= 0, got " + bytes);
            }
            this.hostMemoryPoolBytes = bytes;
            return this;
        }

        public PoolingEngine build() {
            return new PoolingEngine(this);
        }
    }
}
