package dev.clpool.jmh;

import dev.clpool.BackendChoice;
import dev.clpool.BindingChoice;
import dev.clpool.Padding;
import dev.clpool.PoolSpec;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
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
 * Issue 11's README-style loop, {@code Tensor y = engine.pool(x, spec);} with {@code y} never
 * closed, against {@code engine.pool(x, spec, out)} into one output: max 3x3 s2 p1 on NHWC float32,
 * on the CPU path or an OpenCL binding. Average time, so the pool's collector nudges (a
 * {@code System.gc()} per bound's worth of dropped results) are in the figure, not left out as a
 * median would. {@code api=alloc} closes each result, for reference.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx4g", "--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class DroppedResultsBench {

    @Param({"32x112x112x64", "8x56x56x64"})
    public String shape;

    @Param({"into", "dropped"})
    public String api;

    /** cpu, jocl or lwjgl. */
    @Param({"cpu"})
    public String backend;

    private PoolingEngine engine;
    private PoolSpec spec;
    private Tensor x;
    private Tensor out;

    @Setup
    public void setUp() {
        String[] d = shape.split("x");
        Shape s = Shape.of(Integer.parseInt(d[0]), Integer.parseInt(d[1]), Integer.parseInt(d[2]), Integer.parseInt(d[3]));
        spec = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
        engine = backend.equals("cpu") ? PoolingEngine.builder().backend(BackendChoice.CPU).build()
                : PoolingEngine.builder().backend(BackendChoice.OPENCL)
                        .binding(BindingChoice.valueOf(backend.toUpperCase(Locale.ROOT))).build();
        x = Data.nhwc(s, 42);
        out = Tensor.allocate(spec.outputShape(s));
    }

    @TearDown
    public void tearDown() {
        engine.close();
    }

    @Benchmark
    public Object run() {
        switch (api) {
            case "into":
                return engine.pool(x, spec, out);
            case "alloc":
                try (Tensor y = engine.pool(x, spec)) {
                    return y.shape();
                }
            default:
                return engine.pool(x, spec); // dropped: never closed
        }
    }
}
