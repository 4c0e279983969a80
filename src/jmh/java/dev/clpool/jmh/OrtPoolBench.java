package dev.clpool.jmh;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.cpu.CpuBackend;
import java.nio.FloatBuffer;
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
 * The peer: onnxruntime's CPU pooling (MaxPool, AveragePool, GlobalAveragePool) on the suite.
 * onnxruntime's CPU kernels are NCHW, so it gets the same elements in its native NCHW layout
 * (transposed once in setup, not timed), the same thread count as clpool (intra-op threads = cores),
 * and a pre-bound output tensor, so each run is the pooling alone. Setup checks that its result
 * equals clpool's (max exactly, averages within 1e-5 relative).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx4g", "--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 6, time = 1)
public class OrtPoolBench {

    @Param({"max2x2s2_1x512x512x64", "max3x3s2p1_32x112x112x64", "avg3x3s1p1_8x56x56x64",
            "globalavg_32x7x7x2048", "globalavg_8x224x224x64", "tinymax2x2s2_1x8x8x16"})
    public String op;

    private OrtEnvironment env;
    private OrtSession session;
    private OnnxTensor input;
    private OnnxTensor output;
    private Map<String, OnnxTensor> inputs;
    private Map<String, OnnxTensor> outputs;

    @Setup
    public void setUp() throws OrtException {
        Suite suite = Suite.valueOf(op);
        Shape is = suite.input();
        Shape os = suite.output();
        Tensor x = Data.nhwc(is, 42);
        env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            session = env.createSession(model(suite), options);
        }
        FloatBuffer nchwIn = Data.toNchw(x);
        FloatBuffer nchwOut = Data.direct(os.elementCount());
        input = OnnxTensor.createTensor(env, nchwIn, Data.nchwDims(is));
        output = OnnxTensor.createTensor(env, nchwOut, Data.nchwDims(os));
        inputs = Map.of("x", input);
        outputs = Map.of("y", output);
        run();
        check(suite, x, Data.nchwToNhwc(nchwOut, os));
    }

    @TearDown
    public void tearDown() throws OrtException {
        input.close();
        output.close();
        session.close();
    }

    @Benchmark
    public OnnxTensor run() throws OrtException {
        // Pinned outputs belong to the caller: closing the result leaves them open.
        session.run(inputs, outputs).close();
        return output;
    }

    private static byte[] model(Suite suite) {
        long[] in = Data.nchwDims(suite.input());
        long[] out = Data.nchwDims(suite.output());
        if (suite.global()) {
            return OnnxModel.pooling("GlobalAveragePool", in, out);
        }
        PoolSpec s = suite.spec();
        var g = s.geometry(suite.input());
        long[] kernel = {s.windowH(), s.windowW()};
        long[] strides = {s.strideH(), s.strideW()};
        long[] pads = {g.rows().padBegin(), g.cols().padBegin(), g.rows().padEnd(), g.cols().padEnd()};
        if (s.mode() == PoolMode.MAX) {
            return OnnxModel.pooling("MaxPool", in, out, "kernel_shape", kernel, "strides", strides, "pads", pads);
        }
        return OnnxModel.pooling("AveragePool", in, out, "kernel_shape", kernel, "strides", strides, "pads", pads,
                "count_include_pad", new long[] {s.countIncludePad() ? 1 : 0});
    }

    /** onnxruntime must compute what clpool computes, or the comparison means nothing. */
    private static void check(Suite suite, Tensor x, float[] ort) {
        Tensor want = Tensor.allocate(suite.output());
        try (CpuBackend cpu = new CpuBackend()) {
            if (suite.global()) {
                cpu.global(PoolMode.AVG, x, want);
            } else {
                cpu.pool(suite.spec().geometry(suite.input()), x, want);
            }
        }
        float[] w = want.toArray();
        for (int i = 0; i < w.length; i++) {
            boolean ok = suite.mode() == PoolMode.MAX
                    ? Float.floatToRawIntBits(w[i]) == Float.floatToRawIntBits(ort[i])
                    : Math.abs(w[i] - ort[i]) <= 1e-5 * Math.max(1, Math.abs(w[i]));
            if (!ok) {
                throw new IllegalStateException(suite + ": onnxruntime gives " + ort[i] + " at " + i
                        + ", clpool " + w[i]);
            }
        }
    }
}
