package dev.clpool;

import dev.clpool.backend.Fallback;
import dev.clpool.backend.HostIndices;
import dev.clpool.backend.PoolingBackend;
import dev.clpool.backend.ResidentTensor;
import java.util.Objects;

/**
 * The plumbing of an engine's device-tensor operations: moving inputs to the backend that runs
 * (temporary copies after a fallback), making the outputs there, releasing them if the operation
 * fails, and downloads. The engine validates and names the backend call; this does the rest.
 */
final class ResidentCalls {
    private final PoolingEngine engine;
    private final Fallback exec;
    private final HostMemoryPool memory;

    ResidentCalls(PoolingEngine engine, Fallback exec, HostMemoryPool memory) {
        this.engine = engine;
        this.exec = exec;
        this.memory = memory;
    }

    /** The engine's reusable host memory: downloads go there. */
    HostMemoryPool memory() {
        return memory;
    }

    /** A device-tensor operation's call on one backend: {@code src} are its inputs there. */
    interface Body<T> {
        T run(PoolingBackend b, ResidentTensor[] src);
    }

    /** One backend call that reads {@code src} and writes {@code dst}. */
    interface Op {
        void run(PoolingBackend b, ResidentTensor[] src, ResidentTensor dst);
    }

    /**
     * Runs {@code body} on the current backend (again on the CPU path after a device failure under
     * {@code auto}, see {@link Fallback#resident}), with {@code ins} moved there; temporary copies
     * are released afterwards (queued work that reads them still completes).
     */
    <T> T call(Body<T> body, DeviceHandle... ins) {
        for (DeviceHandle t : ins) {
            checkOwner(t);
        }
        return exec.resident(b -> {
            ResidentTensor[] src = new ResidentTensor[ins.length];
            try {
                for (int i = 0; i < ins.length; i++) {
                    src[i] = residentOn(ins[i], b);
                }
                return body.run(b, src);
            } finally {
                for (int i = 0; i < ins.length; i++) {
                    if (src[i] != null && src[i] != ins[i].storage) {
                        src[i].close();
                    }
                }
            }
        });
    }

    /** Runs {@code op} from {@code ins} into a new device tensor of shape {@code out}, released if {@code op} fails. */
    DeviceTensor into(Shape out, Op op, DeviceHandle... ins) {
        return into(TensorShape.of(out), op, ins);
    }

    /** {@link #into(Shape, Op, DeviceTensor...)} for any rank and layout: the storage holds {@link DeviceHandle#storageShape}. */
    DeviceTensor into(TensorShape out, Op op, DeviceHandle... ins) {
        return call((b, src) -> {
            ResidentTensor dst = b.allocate(DeviceHandle.storageShape(out));
            try {
                op.run(b, src, dst);
            } catch (RuntimeException e) {
                dst.close();
                throw e;
            }
            return new DeviceTensor(engine, b, dst, out);
        }, ins);
    }

    /** Max pooling with indices of {@code in} into new device values and indices, released if it fails. */
    DevicePooledWithIndices maxWithIndices(PoolGeometry g, IndexConvention convention, DeviceTensor in) {
        return maxWithIndices(g, convention, in, TensorShape.of(g.output()));
    }

    /** {@link #maxWithIndices(PoolGeometry, IndexConvention, DeviceTensor)} whose outputs users see as {@code logical}. */
    DevicePooledWithIndices maxWithIndices(PoolGeometry g, IndexConvention convention, DeviceTensor in, TensorShape logical) {
        return call((b, src) -> {
            ResidentTensor values = b.allocate(g.output());
            ResidentTensor indices = null;
            try {
                indices = b.allocateIndices(g.output(), convention);
                b.maxWithIndices(g, src[0], values, indices);
            } catch (RuntimeException e) {
                values.close();
                if (indices != null) {
                    indices.close();
                }
                throw e;
            }
            return new DevicePooledWithIndices(new DeviceTensor(engine, b, values, logical),
                    new DeviceIndices(engine, b, indices, convention, logical));
        }, in);
    }

    /** Fills new device values and returns host indices for them; see {@link #withHostIndices}. */
    interface IndicesOp {
        Indices run(PoolingBackend b, ResidentTensor[] src, ResidentTensor values);
    }

    /**
     * Max pooling with indices whose values {@code op} writes on the device (storage shape
     * {@code storage}) and whose indices it composes in host memory (storage shape too, in
     * {@code convention}): those are uploaded as the result's, and given back to the pool.
     */
    DevicePooledWithIndices withHostIndices(TensorShape logical, Shape storage, IndexConvention convention, IndicesOp op,
                                            DeviceTensor in) {
        return call((b, src) -> {
            ResidentTensor values = b.allocate(storage);
            ResidentTensor indices;
            try (Indices host = op.run(b, src, values)) {
                indices = b.uploadIndices(host);
            } catch (RuntimeException e) {
                values.close();
                throw e;
            }
            return new DevicePooledWithIndices(new DeviceTensor(engine, b, values, logical),
                    new DeviceIndices(engine, b, indices, convention, logical));
        }, in);
    }

    /** The contents of resident indices of storage shape {@code s}, in host memory from the pool; waits for them. */
    Indices hostCopy(ResidentTensor indices, Shape s, IndexConvention convention) {
        Indices host = Indices.allocate(memory, TensorShape.of(s), convention);
        try {
            indices.download(host.buffer());
            return host;
        } catch (RuntimeException e) {
            host.close();
            throw e;
        }
    }

    /** Copies {@code t}'s contents into {@code into}, after the work that produces them; no fallback. */
    void download(DeviceTensor t, Tensor into) {
        checkOwner(t);
        exec.onDevice(t.backend, () -> {
            t.requireOpen();
            t.storage.download(into);
        });
    }

    /** Copies {@code t}'s indices into {@code into}, after the work that produces them; no fallback. */
    void download(DeviceIndices t, Indices into) {
        checkOwner(t);
        exec.onDevice(t.backend, () -> {
            t.requireOpen();
            t.storage.download(into.buffer());
        });
    }

    /** {@code t}'s storage if it lives on {@code b}; else a temporary copy there (after a fallback). */
    private static ResidentTensor residentOn(DeviceHandle t, PoolingBackend b) {
        t.requireOpen();
        if (t.backend == b) {
            return t.storage;
        }
        if (t instanceof DeviceIndices i) {
            // A fallback runs on the CPU path, whose resident indices are host indices.
            ResidentTensor copy = b.allocateIndices(t.storage.shape(), i.convention());
            if (!(copy instanceof HostIndices h)) {
                copy.close();
                throw new IllegalStateException(t + " cannot move to " + b.description());
            }
            t.storage.download(h.indices().buffer());
            return copy;
        }
        Tensor host = Tensor.allocate(t.storage.shape());
        t.storage.download(host);
        return b.upload(host);
    }

    void checkOwner(DeviceHandle t) {
        Objects.requireNonNull(t, "device tensor");
        if (t.engine() != engine) {
            throw new IllegalArgumentException(t + " belongs to another engine");
        }
    }
}
