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
 * <p>Tensors of spatial rank 1, 2 and 3, channels-last or channels-first ({@link TensorShape}), go
 * through the same methods; results come back in the input's layout.
 *
 * <p><b>Thread safety.</b> One engine may be shared by any number of threads: CPU-path operations
 * run concurrently, device operations are serialised; every result is the same, bit for bit, as
 * when the operation runs alone. {@link #close()} waits for operations in flight, then releases
 * everything; later operations throw {@link IllegalStateException}. Tensors are not synchronised.
 *
 * <p><b>Steady state.</b> Every operation has a form that allocates its result (from the engine's
 * reusable host memory: close results when done, or drop them and the garbage collector brings
 * their memory back, see {@link Builder#hostMemoryPoolBytes}), one that writes into outputs the
 * caller has ({@code pool(x, spec, out)}, {@code backward(x, dy, spec, dx)}, ...), and one on
 * {@link DeviceTensor}s. docs/library.md ("Steady state") shows the loop patterns.
 */
public final class PoolingEngine extends DeviceForms implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PoolingEngine.class);

    private final Fallback exec;
    private final ResidentCalls resident;
    private final HostMemoryPool memory;
    private final NdHost nd;
    private final AsyncSubmitter async = new AsyncSubmitter();

    private PoolingEngine(Builder b) {
        BackendSelector.Selection selection = BackendSelector.select(new BackendSelector.Request(b.backend,
                b.binding, b.device, b.clDevice, Arrays.stream(b.deviceIndices).boxed().collect(Collectors.toList()),
                b.clDevices, b.openClOptions, b.openClTuning, b.cpuThreads));
        int threads = b.cpuThreads;
        this.exec = new Fallback(selection, b.backend == BackendChoice.AUTO, b.smallOpsOnCpu, () -> BackendSelector.cpu(threads));
        this.memory = new HostMemoryPool(b.hostMemoryPoolBytes);
        this.resident = new ResidentCalls(this, exec, memory);
        this.nd = new NdHost(this, memory, exec);
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

    /**
     * Windowed pooling of a tensor of any rank and layout; the output shape is
     * {@code spec.outputShape(in.tensorShape())}, in the input's layout. Close the result when done.
     */
    public Tensor pool(Tensor in, PoolSpec spec) {
        TensorShape out = spec.outputShape(in.tensorShape());
        return memory.filled(memory.tensor(out, in.dtype()), o -> pool(in, spec, o));
    }

    /** Average over each plane (or volume): every spatial size 1, for example (N, 1, 1, C). */
    public Tensor globalAvg(Tensor in) {
        return global(PoolMode.AVG, in);
    }

    /** Maximum over each plane (or volume): every spatial size 1, for example (N, 1, 1, C). */
    public Tensor globalMax(Tensor in) {
        return global(PoolMode.MAX, in);
    }

    /** Global pooling with {@code mode} MAX, AVG or LP (with p = 2, as ONNX GlobalLpPool's default). */
    public Tensor global(PoolMode mode, Tensor in) {
        Objects.requireNonNull(mode, "mode");
        return memory.filled(memory.tensor(in.tensorShape().global(), in.dtype()), out -> global(mode, in, out));
    }

    /** Global lp pooling, {@code (sum |x|^p)^(1/p)} over each plane or volume (ONNX GlobalLpPool). */
    public Tensor globalLp(Tensor in, double p) {
        return memory.filled(memory.tensor(in.tensorShape().global(), in.dtype()), out -> globalLp(in, p, out));
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
        return memory.filled(memory.tensor(input.tensorShape(), input.dtype()), dx -> backward(input, gradOutput, spec, dx));
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
        return adaptive(mode, in, new int[] {oh, ow});
    }

    /** Adaptive pooling of a tensor of any rank and layout to {@code size}, one number per spatial axis. */
    public Tensor adaptive(PoolMode mode, Tensor in, int... size) {
        TensorShape out = NdHost.adaptiveShape(in.tensorShape(), size);
        AdaptiveGeometry.checkMode(mode);
        return memory.filled(memory.tensor(out, in.dtype()), o -> adaptive(mode, in, size, o));
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
        EngineChecks.checkIndicesMode(spec, convention);
        TensorShape out = spec.outputShape(in.tensorShape());
        return PooledWithIndices.filled(memory, out, in.dtype(), convention, r -> poolWithIndices(in, spec, convention, r.values(), r.indices()));
    }

    // ---- host tensors: into outputs the caller has (no allocation) ----

    /**
     * Windowed pooling into {@code out}, which must have shape {@code spec.outputShape(in.shape())}
     * and {@code in}'s dtype: reuses the output's memory (no allocation per call); returns {@code out}.
     */
    public Tensor pool(Tensor in, PoolSpec spec, Tensor out) {
        if (!in.tensorShape().isShape2d()) {
            return nd.pool(in, spec, out);
        }
        PoolGeometry g = spec.geometry(in.shape());
        EngineChecks.requireOutput("output tensor", out, g.output(), in.dtype());
        exec.runSmall("pool", g.spec(), in.shape(), in.byteSize() + out.byteSize(), b -> b.pool(g, in, out));
        return out;
    }

    /** Global pooling into {@code out} (every spatial size 1) of {@code in}'s dtype; returns {@code out}. */
    public Tensor global(PoolMode mode, Tensor in, Tensor out) {
        if (Objects.requireNonNull(mode, "mode") == PoolMode.LP) {
            return nd.globalLp(in, 2.0, out);
        }
        if (!in.tensorShape().isShape2d()) {
            return nd.global(mode, in, out);
        }
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
        if (!in.tensorShape().isShape2d()) {
            return nd.poolWithIndices(in, spec, convention, values, indices);
        }
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
        if (!input.tensorShape().isShape2d()) {
            return nd.backward(input, gradOutput, spec, gradInput);
        }
        PoolGeometry g = EngineChecks.backwardGeometry(input, gradOutput, spec);
        EngineChecks.requireGradInput(gradInput, input, gradOutput);
        exec.run(b -> b.backward(g, input, gradOutput, gradInput));
        return gradInput;
    }

    /** {@link #adaptive(PoolMode, Tensor, int, int)} into {@code out} (shape (N, oh, ow, C), {@code in}'s dtype); returns it. */
    public Tensor adaptive(PoolMode mode, Tensor in, int oh, int ow, Tensor out) {
        if (!in.tensorShape().isShape2d()) {
            return nd.adaptive(mode, in, new int[] {oh, ow}, out);
        }
        AdaptiveGeometry g = AdaptiveGeometry.of(mode, in.shape(), oh, ow);
        EngineChecks.requireOutput("output tensor", out, g.output(), in.dtype());
        exec.run(b -> b.adaptive(g, in, out));
        return out;
    }

    /** {@link #globalLp(Tensor, double)} into {@code out} (every spatial size 1, {@code in}'s dtype); returns it. */
    public Tensor globalLp(Tensor in, double p, Tensor out) {
        return nd.globalLp(in, p, out);
    }

    /** {@link #adaptive(PoolMode, Tensor, int...)} into {@code out}; returns it. */
    public Tensor adaptive(PoolMode mode, Tensor in, int[] size, Tensor out) {
        if (in.tensorShape().isShape2d() && size != null && size.length == 2) {
            return adaptive(mode, in, size[0], size[1], out);
        }
        AdaptiveGeometry.checkMode(mode);
        return nd.adaptive(mode, in, size, out);
    }

    /**
     * Max unpooling, the inverse of {@link #poolWithIndices}: a zero tensor of the default output
     * size (per axis {@code (in-1)*s + k - begin - end}) with each of {@code values} written where
     * its index (in {@code indices.convention()}) points, decoded in the output's shape; of several
     * values naming one element, the last in channels-last order wins. {@code spec} gives window,
     * stride and explicit padding (no dilation). Any rank and layout.
     *
     * @throws InvalidInputException an index outside the output (the first is named); nothing written
     */
    public Tensor unpool(Tensor values, Indices indices, PoolSpec spec) {
        return unpool(values, indices, spec, (int[]) null);
    }

    /** {@link #unpool(Tensor, Indices, PoolSpec)} to {@code outputSize} (per axis, at least the default, less than it plus the stride). */
    public Tensor unpool(Tensor values, Indices indices, PoolSpec spec, int[] outputSize) {
        UnpoolGeometry g = NdHost.unpoolGeometry(values, indices, spec, outputSize);
        return memory.filled(memory.tensor(g.output(), values.dtype()), out -> unpool(values, indices, spec, out));
    }

    /** {@link #unpool(Tensor, Indices, PoolSpec)} into {@code out}, whose spatial sizes are the output size; returns it. */
    public Tensor unpool(Tensor values, Indices indices, PoolSpec spec, Tensor out) {
        return nd.unpool(values, indices, spec, out);
    }

    // ---- asynchronous submission ----

    /**
     * {@link #pool(Tensor, PoolSpec)} without waiting: the spec is checked against the input now
     * (an invalid one throws here), and the operation runs on the engine's submission thread after
     * those submitted before it. Do not write {@code in} until the future completes.
     */
    public CompletableFuture<Tensor> poolAsync(Tensor in, PoolSpec spec) {
        Tensor out = memory.tensor(spec.outputShape(in.tensorShape()), in.dtype());
        return async.submit(() -> memory.filled(out, o -> pool(in, spec, o)));
    }

    /** {@link #global(PoolMode, Tensor)} without waiting; see {@link #poolAsync}. */
    public CompletableFuture<Tensor> globalAsync(PoolMode mode, Tensor in) {
        Objects.requireNonNull(mode, "mode");
        Tensor out = memory.tensor(in.tensorShape().global(), in.dtype());
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

    /** Waits until every operation submitted so far has completed on the device. */
    public void finish() {
        PoolingBackend b = exec.current();
        exec.onDevice(b, b::finish);
    }

    /** Device-tensor plumbing (downloads) for {@link DeviceTensor} and {@link DeviceIndices}. */
    @Override
    ResidentCalls resident() {
        return resident;
    }

    @Override
    Fallback exec() {
        return exec;
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
        private long hostMemoryPoolBytes = HostMemorySizes.defaultMaxBytes();

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
         * The most bytes of host memory the engine's pool holds for results, lent and kept for
         * reuse (by default a quarter of the direct memory the JVM allows, within 1 and 4 GiB: the
         * outputs of a max pooling with indices of a 100 MiB batch fit, several times over for
         * smaller ones); 0 keeps none (every result gets fresh memory). Before results still lent
         * reach it, the engine calls {@link System#gc()} once so that results dropped without
         * {@code close()} come back (turned off by {@code -Dclpool.hostMemory.gcNudge=false});
         * results beyond it that are still in use get fresh memory, which is not kept.
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
