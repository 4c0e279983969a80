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
import java.util.concurrent.locks.ReentrantReadWriteLock;
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
 * <p><b>Thread safety.</b> One engine may be shared by any number of threads. Operations on the
 * CPU path run concurrently (each on the engine's fork-join pool); on a device they are
 * serialised (one command queue, and a {@code cl_kernel} is not thread-safe). Every result is the
 * same, bit for bit, as when the operations run one at a time. A fallback to the CPU path made by
 * one thread applies to all. {@link #close()} waits for operations in flight to finish, then
 * releases everything; an operation started after (or while waiting for) {@code close()} throws
 * {@link IllegalStateException}. Tensors are not synchronised: do not write an input while an
 * operation reads it.
 */
public final class PoolingEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PoolingEngine.class);

    private final BackendChoice choice;
    private final int cpuThreads;
    private volatile PoolingBackend backend;
    private volatile String fallbackReason;
    private PoolingBackend retired;
    /** Operations hold the read lock; close() takes the write lock, so it waits for them. */
    private final ReentrantReadWriteLock inFlight = new ReentrantReadWriteLock();
    private boolean closed;

    private PoolingEngine(Builder b) {
        this.choice = b.backend;
        this.cpuThreads = b.cpuThreads;
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
        Tensor out = Tensor.allocate(g.output());
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
        Tensor out = Tensor.allocate(Shape.of(s.n(), 1, 1, s.c()));
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
     * @throws InvalidSpecException for LP (no backward), a spec that cannot run on the input, or a
     *                              {@code gradOutput} of the wrong shape
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
        Tensor gradInput = Tensor.allocate(input.shape());
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
        Tensor out = Tensor.allocate(g.output());
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
        Tensor out = Tensor.allocate(g.output());
        run(b -> b.maxWithIndices(g, in, out, indices));
        return new PooledWithIndices(out, indices);
    }

    private void run(Consumer<PoolingBackend> op) {
        inFlight.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("the pooling engine is closed");
            }
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
        } finally {
            inFlight.readLock().unlock();
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

    private CpuBackend cpu() {
        return cpuThreads > 0 ? new CpuBackend(cpuThreads) : new CpuBackend();
    }

    /**
     * Waits for the operations in flight, then releases the device (or the CPU threads).
     * Idempotent; later operations throw {@link IllegalStateException}.
     */
    @Override
    public void close() {
        inFlight.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            synchronized (this) {
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
