package dev.clpool;

import dev.clpool.DeviceUnavailableException.Reason;
import dev.clpool.backend.PoolingBackend;
import dev.clpool.cpu.CpuBackend;
import dev.clpool.opencl.ClBuildException;
import dev.clpool.opencl.ClDevice;
import dev.clpool.opencl.ClException;
import dev.clpool.opencl.OpenClBackend;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
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
 * <p>Thread-safe: one engine may be shared by many threads.
 */
public final class PoolingEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PoolingEngine.class);

    private final BackendChoice choice;
    private final int cpuThreads;
    private volatile PoolingBackend backend;
    private volatile String fallbackReason;
    private PoolingBackend retired;

    private PoolingEngine(Builder b) {
        this.choice = b.backend;
        this.cpuThreads = b.cpuThreads;
        switch (b.backend) {
            case CPU:
                backend = cpu();
                break;
            case OPENCL:
                backend = openCl(b);
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

    private static OpenClBackend openCl(Builder b) {
        return b.clDevice != null ? OpenClBackend.open(b.clDevice, b.openClOptions)
                : OpenClBackend.open(b.binding, b.device, b.openClOptions);
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
        Tensor out = Tensor.allocate(g.output(), in.dtype());
        run(b -> b.pool(g, in, out));
        return out;
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
        Objects.requireNonNull(mode, "mode");
        if (mode == PoolMode.LP) {
            throw new InvalidSpecException("mode", mode.word(), "global pooling supports max and avg");
        }
        Shape s = in.shape();
        Tensor out = Tensor.allocate(Shape.of(s.n(), 1, 1, s.c()), in.dtype());
        run(b -> b.global(mode, in, out));
        return out;
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

    private void run(Consumer<PoolingBackend> op) {
        PoolingBackend b = backend;
        try {
            op.accept(b);
        } catch (ClException e) {
            Reason reason = e instanceof ClBuildException ? Reason.BUILD_FAILED : Reason.DEVICE_ERROR;
            if (choice != BackendChoice.AUTO) {
                throw new DeviceUnavailableException(reason, b.description() + ": " + e.getMessage(), e);
            }
            op.accept(fallBack(b, e));
        }
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

    @Override
    public synchronized void close() {
        backend.close();
        if (retired != null) {
            retired.close();
        }
    }

    /** Configures a {@link PoolingEngine}. */
    public static final class Builder {
        private BackendChoice backend = BackendChoice.AUTO;
        private BindingChoice binding = BindingChoice.AUTO;
        private int device = -1;
        private int cpuThreads;
        private ClDevice clDevice;
        private OpenClBackend.Options openClOptions = OpenClBackend.Options.DEFAULT;

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
            if (index < 0) {
                throw new IllegalArgumentException("device index must be >= 0, got " + index);
            }
            this.device = index;
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

        public PoolingEngine build() {
            return new PoolingEngine(this);
        }
    }
}
