package dev.clpool.jmh;

import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.clpool.BackendChoice;
import dev.clpool.DType;
import dev.clpool.PoolMode;
import dev.clpool.PoolingEngine;
import dev.clpool.Tensor;
import dev.clpool.bench.Workload;
import dev.clpool.bench.Workload.Op;
import dev.clpool.bench.WorkloadSuite;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The peer: PyTorch's CPU pooling through DJL ({@link Torch}: offline, clpool's thread count,
 * channels-last) on the workload suite, each call allocating its result as PyTorch does, the
 * result closed at once. Per operation:
 * <ul>
 *   <li>pool: max_pool2d, avg_pool2d, lp_pool2d (LP with padding has no PyTorch form);
 *   <li>indices: max_pool2d on an input that requires grad, which PyTorch runs as
 *       max_pool2d_with_indices (the indices stay inside the autograd graph; DJL does not hand them out);
 *   <li>backward: one training step, forward with grad then backward with a given dy into a fresh
 *       leaf (so no gradient is accumulated into an old one); {@link WorkloadReport} subtracts the
 *       matching forward row to give the backward alone, and shows both;
 *   <li>global: adaptive_avg_pool2d / adaptive_max_pool2d to 1x1; adaptive: the same to oh x ow.
 * </ul>
 * Setup checks, on random float32 data, that PyTorch computes what clpool computes (max exactly,
 * sums within 1e-5 relative), or the comparison would mean nothing.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx6g", "--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class TorchWorkloadBench {

    @Param({WorkloadBench.TORCH})
    public String workload;

    @Param({"random"})
    public String data;

    @Param({"float32"})
    public String dtype;

    private NDManager manager;
    private Workload w;
    private Tensor x;
    private PtNDArray xNhwc;
    private PtNDArray xView;
    private PtNDArray dyNhwc;
    private PtNDArray dyView;

    @Setup
    public void setUp() {
        w = WorkloadSuite.named(workload);
        if (!Torch.supports(w)) {
            throw new UnsupportedOperationException(w.name() + " (" + w.label() + "): PyTorch has no such operation");
        }
        DType type = DType.valueOf(dtype.toUpperCase(Locale.ROOT));
        dev.clpool.bench.Data kind = dev.clpool.bench.Data.valueOf(data.toUpperCase(Locale.ROOT));
        manager = Torch.engine().newBaseManager();
        // Indices and backward need autograd (thread-local: setup runs on the benchmark thread).
        JniUtils.setGradMode(w.op() == Op.POOL_WITH_INDICES || w.op() == Op.BACKWARD);
        x = kind.tensor(w.shape(), type, w.name().hashCode());
        xNhwc = Torch.nhwc(manager, x);
        if (w.op() == Op.POOL_WITH_INDICES) {
            JniUtils.attachGradient(xNhwc, true);
        }
        xView = Torch.channelsLast(xNhwc);
        if (w.op() == Op.BACKWARD) {
            Tensor dy = dev.clpool.bench.Data.RANDOM.tensor(w.outputShape(), type, 7L * w.name().hashCode());
            dyNhwc = Torch.nhwc(manager, dy);
            dyView = Torch.channelsLast(dyNhwc);
        }
        if (kind == dev.clpool.bench.Data.RANDOM && type == DType.FLOAT32) {
            check();
        }
    }

    @TearDown
    public void tearDown() {
        manager.close();
    }

    @Benchmark
    public long run() {
        if (w.op() == Op.BACKWARD) {
            return step();
        }
        try (PtNDArray y = Torch.forward(w, xView)) {
            return y.getHandle();
        }
    }

    /** Forward with grad and backward with dy, into a fresh leaf over x's storage. */
    private long step() {
        try (PtNDArray leaf = JniUtils.detachGradient(xNhwc)) {
            JniUtils.attachGradient(leaf, true);
            try (PtNDArray view = Torch.channelsLast(leaf); PtNDArray y = Torch.forward(w, view)) {
                JniUtils.backward(y, dyView, false, false);
            }
            try (PtNDArray g = JniUtils.getGradient(leaf)) {
                return g.getHandle();
            }
        }
    }

    private void check() {
        float[] want;
        float[] got;
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            if (w.op() == Op.BACKWARD) {
                Tensor dy = dev.clpool.bench.Data.RANDOM.tensor(w.outputShape(), DType.FLOAT32, 7L * w.name().hashCode());
                want = cpu.backward(x, dy, w.spec()).toArray();
                try (PtNDArray leaf = JniUtils.detachGradient(xNhwc)) {
                    JniUtils.attachGradient(leaf, true);
                    try (PtNDArray view = Torch.channelsLast(leaf); PtNDArray y = Torch.forward(w, view)) {
                        JniUtils.backward(y, dyView, false, false);
                    }
                    try (PtNDArray g = JniUtils.getGradient(leaf)) {
                        got = g.toFloatArray();
                    }
                }
            } else {
                want = switch (w.op()) {
                    case GLOBAL -> cpu.global(w.mode(), x).toArray();
                    case ADAPTIVE -> cpu.adaptive(w.mode(), x, w.oh(), w.ow()).toArray();
                    default -> cpu.pool(x, w.spec()).toArray();
                };
                try (PtNDArray y = Torch.forward(w, xView)) {
                    got = Torch.toNhwc(y);
                }
            }
        }
        boolean exact = w.poolMode() == PoolMode.MAX && w.op() != Op.BACKWARD;
        Compare.check("PyTorch", w, want, got, exact);
    }
}
