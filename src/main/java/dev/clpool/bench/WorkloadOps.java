package dev.clpool.bench;

import dev.clpool.PoolingEngine;
import dev.clpool.Tensor;
import dev.clpool.bench.Workload.Op;
import dev.clpool.bench.WorkloadSuite.Api;
import dev.clpool.bench.WorkloadSuite.Variant;
import java.util.Objects;

/**
 * A workload's inputs, made once, and its operation as a {@link Runnable} through either API of
 * {@link PoolingEngine}: allocating (a new result per call, dropped at once, as a steady loop of
 * {@code y = engine.pool(x, spec)} does) or into an output made here once.
 */
public final class WorkloadOps {
    private final Workload workload;
    private final Tensor x;
    private final Tensor dy;

    /**
     * Inputs for {@code w} in {@code v}: x of {@code v}'s data and storage type; for backward,
     * also dy (random, of x's type: the gradient does not vary with the kind of x).
     */
    public WorkloadOps(Workload w, Variant v) {
        this.workload = Objects.requireNonNull(w, "workload");
        this.x = v.data().tensor(w.shape(), v.dtype(), w.name().hashCode());
        this.dy = w.op() == Op.BACKWARD ? Data.RANDOM.tensor(w.outputShape(), v.dtype(), 7L * w.name().hashCode()) : null;
    }

    /** Whether {@code PoolingEngine} has a form of {@code op} that writes into a tensor the caller has. */
    public static boolean hasInto(Op op) {
        return op == Op.POOL || op == Op.GLOBAL;
    }

    public Workload workload() {
        return workload;
    }

    /** The input (x). */
    public Tensor input() {
        return x;
    }

    /**
     * One call of the workload on {@code engine} through {@code api}; null when the engine has no
     * such form of the operation ({@link #hasInto}). The into form's outputs are made here, once.
     */
    public Runnable call(PoolingEngine engine, Api api) {
        Workload w = workload;
        if (api == Api.INTO) {
            if (!hasInto(w.op())) {
                return null;
            }
            Tensor out = Tensor.allocate(w.resultShape(), x.dtype());
            return w.op() == Op.POOL ? () -> engine.pool(x, w.spec(), out) : () -> engine.global(w.mode(), x, out);
        }
        return switch (w.op()) {
            case POOL -> () -> engine.pool(x, w.spec());
            case POOL_WITH_INDICES -> () -> engine.poolWithIndices(x, w.spec());
            case BACKWARD -> () -> engine.backward(x, dy, w.spec());
            case GLOBAL -> () -> engine.global(w.mode(), x);
            case ADAPTIVE -> () -> engine.adaptive(w.mode(), x, w.oh(), w.ow());
        };
    }
}
