package dev.clpool.jmh;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.clpool.BackendChoice;
import dev.clpool.DType;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.bench.Workload;
import dev.clpool.bench.Workload.Op;
import dev.clpool.bench.WorkloadSuite;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
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
 * The other peer: onnxruntime's CPU operators on the workloads it has (MaxPool, with its Indices
 * output for the indices workloads, AveragePool, LpPool, GlobalAveragePool, GlobalMaxPool; no
 * adaptive pooling and no backward). As {@link OrtPoolBench}: NCHW (its CPU kernels' layout; the
 * same elements, transposed once in setup), clpool's thread count, pre-bound outputs, float32.
 * Setup checks the values against clpool's on random data (max exactly, sums within 1e-5).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx6g", "--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class OrtWorkloadBench {

    @Param({WorkloadBench.ORT})
    public String workload;

    @Param({"random"})
    public String data;

    private OrtSession session;
    private final Map<String, OnnxTensor> inputs = new HashMap<>();
    private final Map<String, OnnxTensor> outputs = new HashMap<>();

    @Setup
    public void setUp() throws OrtException {
        Workload w = WorkloadSuite.named(workload);
        dev.clpool.bench.Data kind = dev.clpool.bench.Data.valueOf(data.toUpperCase(Locale.ROOT));
        Tensor x = kind.tensor(w.shape(), DType.FLOAT32, w.name().hashCode());
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(Torch.THREADS);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            session = env.createSession(model(w), options);
        }
        Shape os = w.outputShape();
        FloatBuffer y = Data.direct(os.elementCount());
        inputs.put("x", OnnxTensor.createTensor(env, Data.toNchw(x), Data.nchwDims(w.shape())));
        outputs.put("y", OnnxTensor.createTensor(env, y, Data.nchwDims(os)));
        if (w.op() == Op.POOL_WITH_INDICES) {
            var i = ByteBuffer.allocateDirect(Math.toIntExact(os.elementCount() * Long.BYTES))
                    .order(ByteOrder.nativeOrder()).asLongBuffer();
            outputs.put("i", OnnxTensor.createTensor(env, i, Data.nchwDims(os)));
        }
        run();
        if (kind == dev.clpool.bench.Data.RANDOM) {
            try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
                float[] want = w.op() == Op.GLOBAL ? cpu.global(w.mode(), x).toArray() : cpu.pool(x, w.spec()).toArray();
                Compare.check("onnxruntime", w, want, Data.nchwToNhwc(y, os), w.poolMode() == PoolMode.MAX);
            }
        }
    }

    @TearDown
    public void tearDown() throws OrtException {
        for (OnnxTensor t : inputs.values()) {
            t.close();
        }
        for (OnnxTensor t : outputs.values()) {
            t.close();
        }
        session.close();
    }

    @Benchmark
    public OrtSession run() throws OrtException {
        // Pinned outputs belong to the caller: closing the result leaves them open.
        session.run(inputs, outputs).close();
        return session;
    }

    private static byte[] model(Workload w) {
        long[] in = Data.nchwDims(w.shape());
        long[] out = Data.nchwDims(w.outputShape());
        if (w.op() == Op.GLOBAL) {
            return OnnxModel.pooling(w.mode() == PoolMode.MAX ? "GlobalMaxPool" : "GlobalAveragePool", in, out);
        }
        if (w.op() != Op.POOL && w.op() != Op.POOL_WITH_INDICES) {
            throw new UnsupportedOperationException(w.name() + ": onnxruntime has no " + w.op().word() + " operator");
        }
        PoolSpec s = w.spec();
        PoolGeometry g = s.geometry(w.shape());
        Object[] common = {"kernel_shape", new long[] {s.windowH(), s.windowW()},
                "strides", new long[] {s.strideH(), s.strideW()},
                "pads", new long[] {g.rows().padBegin(), g.cols().padBegin(), g.rows().padEnd(), g.cols().padEnd()}};
        return switch (s.mode()) {
            case MAX -> w.op() == Op.POOL_WITH_INDICES ? OnnxModel.maxPoolWithIndices(in, out, common)
                    : OnnxModel.pooling("MaxPool", in, out, common);
            case AVG -> OnnxModel.pooling("AveragePool", in, out, append(common, "count_include_pad",
                    new long[] {s.countIncludePad() ? 1 : 0}));
            case LP -> OnnxModel.pooling("LpPool", in, out, append(common, "p", new long[] {Math.round(s.p())}));
        };
    }

    private static Object[] append(Object[] a, String name, long[] value) {
        Object[] r = Arrays.copyOf(a, a.length + 2);
        r[a.length] = name;
        r[a.length + 1] = value;
        return r;
    }
}
