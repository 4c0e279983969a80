package dev.clpool.backend;

import dev.clpool.DeviceUnavailableException;
import dev.clpool.DeviceUnavailableException.Reason;
import dev.clpool.opencl.ClBuildException;
import dev.clpool.opencl.ClException;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where an engine's operations run, and what happens when a device fails: the backend chosen by
 * {@link BackendSelector}, the auto/opencl policy, and the one mapping of device errors to
 * {@link DeviceUnavailableException}.
 *
 * <ul>
 * <li>A device failure ({@link ClException}) under {@code auto} moves the engine to the CPU path
 *     for good (logged once, at warn) and the operation runs again there; under {@code opencl} it
 *     throws {@link DeviceUnavailableException}: {@link Reason#BUILD_FAILED} for a kernel that did
 *     not build ({@link ClBuildException}), {@link Reason#DEVICE_ERROR} otherwise.</li>
 * <li>A request too large for the device ({@link BackendLimitException}) under {@code auto} runs on
 *     the CPU path alone, and the device stays in use; under {@code opencl} it throws
 *     {@link Reason#DEVICE_ERROR}.</li>
 * <li>Device-tensor operations fall back as host operations do; their inputs then come from the
 *     failed device (the engine downloads them), and if it cannot read them the operation throws
 *     {@link Reason#DEVICE_ERROR}. A device tensor too large for the device throws: no other
 *     backend holds its inputs.</li>
 * </ul>
 *
 * <p>Operations run "in flight": {@link #close()} waits for them, and refuses those that start
 * after. Thread-safe.
 */
public final class Fallback implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Fallback.class);

    private final boolean auto;
    private final Supplier<PoolingBackend> cpuFactory;
    private volatile PoolingBackend backend;
    private volatile String fallbackReason;
    private PoolingBackend retired;
    /** Under auto: small host operations on the CPU path where faster; else null. */
    private final SmallOps smallOps;
    /** The CPU path for small operations and single oversized requests, made on first use. */
    private PoolingBackend sideCpu;
    /** Operations hold the read lock; close() takes the write lock, so it waits for them. */
    private final ReentrantReadWriteLock inFlight = new ReentrantReadWriteLock();
    private boolean closed;

    /**
     * Runs on {@code selection}'s backend. {@code auto}: the builder's choice was {@code auto}
     * (fall back rather than throw); {@code smallOpsOnCpu}: under auto, route small host operations
     * by {@link SmallOps}; {@code cpu} makes a CPU backend (for the fallback and small operations).
     */
    public Fallback(BackendSelector.Selection selection, boolean auto, boolean smallOpsOnCpu,
                    Supplier<PoolingBackend> cpu) {
        this.auto = auto;
        this.cpuFactory = cpu;
        this.backend = selection.backend();
        this.fallbackReason = selection.fellBack() ? selection.reason() : null;
        this.smallOps = auto && smallOpsOnCpu ? new SmallOps(this::sideCpu) : null;
    }

    /**
     * The one mapping of a backend failure to the public exception: a kernel that did not build is
     * {@link Reason#BUILD_FAILED}, anything else (an OpenCL error, a request beyond the device's
     * limits) {@link Reason#DEVICE_ERROR}. The message is {@code where + ": " + e.getMessage()}.
     */
    public static DeviceUnavailableException unavailable(String where, RuntimeException e) {
        Reason reason = e instanceof ClBuildException ? Reason.BUILD_FAILED : Reason.DEVICE_ERROR;
        return new DeviceUnavailableException(reason, where + ": " + e.getMessage(), e);
    }

    /** Where operations run now. */
    public PoolingBackend current() {
        return backend;
    }

    /** Why the engine runs on the CPU although a device was allowed ({@code auto}), if it does. */
    public Optional<String> fallbackReason() {
        return Optional.ofNullable(fallbackReason);
    }

    /** Runs {@code body} in flight: {@link #close()} waits for it; after close it throws {@link IllegalStateException}. */
    public <T> T inFlight(Supplier<T> body) {
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

    /** A host-tensor operation, with the fallbacks described above. */
    public void run(Consumer<PoolingBackend> op) {
        inFlight(() -> {
            PoolingBackend b = backend;
            try {
                op.accept(b);
            } catch (BackendLimitException e) {
                // Too large for this backend, nothing failed: this request alone runs on the CPU path.
                if (!auto) {
                    throw unavailable(b.description(), e);
                }
                LOG.info("running one request on the CPU path: {}", e.getMessage());
                op.accept(sideCpu());
            } catch (ClException e) {
                if (!auto) {
                    throw unavailable(b.description(), e);
                }
                op.accept(fallBack(b, e));
            }
            return null;
        });
    }

    /**
     * A host-tensor operation that, under {@code auto}, may run on the CPU path when it is small and
     * measured faster there ({@link SmallOps}). Its cost depends on {@code op} (a name),
     * {@code spec} (the spec or mode) and {@code input} (the input shape); {@code bytes} is its
     * input plus output size.
     */
    public void runSmall(String opName, Object spec, dev.clpool.Shape input, long bytes, Consumer<PoolingBackend> op) {
        if (smallOps == null) {
            run(op);
        } else {
            SmallOps.Kind kind = new SmallOps.Kind(opName, spec, input);
            run(b -> smallOps.run(b, kind, bytes, op));
        }
    }

    /**
     * A device-tensor operation on the current backend; under {@code auto}, after a device failure,
     * again on the CPU path ({@code op} moves its inputs there).
     */
    public <T> T resident(Function<PoolingBackend, T> op) {
        return inFlight(() -> {
            PoolingBackend b = backend;
            try {
                return op.apply(b);
            } catch (BackendLimitException e) {
                // A device tensor too large for the device: nothing was created; no other backend holds it.
                throw unavailable(b.description(), e);
            } catch (ClException e) {
                if (!auto) {
                    throw unavailable(b.description(), e);
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

    /**
     * Work on data that lives on {@code b} (a download, a wait): in flight, with a device failure
     * mapped by {@link #unavailable}; there is nothing to fall back to.
     */
    public void onDevice(PoolingBackend b, Runnable work) {
        inFlight(() -> {
            try {
                work.run();
            } catch (ClException e) {
                throw unavailable(b.description(), e);
            }
            return null;
        });
    }

    private synchronized PoolingBackend fallBack(PoolingBackend failed, ClException e) {
        if (backend == failed) {
            fallbackReason = failed.description() + " failed (" + e.getMessage() + ")";
            LOG.warn("switching to the CPU path: {}", fallbackReason);
            retired = failed;
            backend = cpuFactory.get();
        }
        return backend;
    }

    private synchronized PoolingBackend sideCpu() {
        if (sideCpu == null) {
            sideCpu = cpuFactory.get();
        }
        return sideCpu;
    }

    /** Waits for the operations in flight, then releases every backend. Idempotent. */
    @Override
    public void close() {
        inFlight.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            synchronized (this) {
                if (sideCpu != null) {
                    sideCpu.close();
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
}
