package dev.clpool.bench;

import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.PoolingEngine;
import dev.clpool.Tensor;
import dev.clpool.bench.Workload.Op;
import dev.clpool.bench.WorkloadSuite.Api;
import dev.clpool.bench.WorkloadSuite.Variant;
import java.util.Objects;

/**
 * A workload's inputs, made once, and its operation as a {@link Runnable} through either API of
 * {@link PoolingEngine}: allocating (a new result per call, closed at once or dropped, as a steady
 * loop of {@code y = engine.pool(x, spec)} does) or into an output made here once.
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
        this.x = v.data().tensor(w.tensorShape(), v.dtype(), w.name().hashCode());
        this.dy = w.op() == Op.BACKWARD ? Data.RANDOM.tensor(w.outputTensorShape(), v.dtype(), 7L * w.name().hashCode())
                : null;
    }

    public Workload workload() {
        return workload;
    }

    /** The input (x). */
    public Tensor input() {
        return x;
    }

    /**
     * One call of the workload on {@code engine} through {@code api}: {@link Api#ALLOCATING} closes
     * each result at once (the steady-state pattern: its memory goes back to the engine's pool),
     * {@link Api#DROPPED} leaves it to the garbage collector, {@link Api#INTO} writes into outputs
     * made here, once.
     */
    public Runnable call(PoolingEngine engine, Api api) {
        Workload w = workload;
        if (api == Api.INTO) {
            return into(engine);
        }
        boolean close = api == Api.ALLOCATING;
        return switch (w.op()) {
            case POOL -> () -> done(engine.pool(x, w.spec()), close);
            case POOL_WITH_INDICES -> () -> done(engine.poolWithIndices(x, w.spec()), close);
            case BACKWARD -> () -> done(engine.backward(x, dy, w.spec()), close);
            case GLOBAL -> () -> done(engine.global(w.mode(), x), close);
            case ADAPTIVE -> () -> done(engine.adaptive(w.mode(), x, new int[] {w.oh(), w.ow()}), close);
        };
    }

    private Runnable into(PoolingEngine engine) {
        Workload w = workload;
        if (w.op() == Op.POOL_WITH_INDICES) {
            Tensor values = Tensor.allocate(w.outputTensorShape(), x.dtype());
            Indices indices = Indices.allocate(w.outputTensorShape(), IndexConvention.NHWC);
            return () -> engine.poolWithIndices(x, w.spec(), IndexConvention.NHWC, values, indices);
        }
        Tensor out = Tensor.allocate(w.resultShape(), x.dtype());
        return switch (w.op()) {
            case POOL -> () -> engine.pool(x, w.spec(), out);
            case BACKWARD -> () -> engine.backward(x, dy, w.spec(), out);
            case GLOBAL -> () -> engine.global(w.mode(), x, out);
            case ADAPTIVE -> () -> engine.adaptive(w.mode(), x, new int[] {w.oh(), w.ow()}, out);
            case POOL_WITH_INDICES -> throw new AssertionError("handled above");
        };
    }

    private static void done(AutoCloseable result, boolean close) {
        if (close) {
            try {
                result.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing a result failed", e);
            }
        }
    }
}
