package dev.clpool.jmh;

import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Tensor;
import dev.clpool.cpu.CpuBackend;
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
 * clpool's CPU path on the suite: {@link CpuBackend} with one thread per core, input and output
 * already allocated (the time of the pooling itself, as onnxruntime's is measured with a bound output).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx4g", "--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 6, time = 1)
public class CpuPoolBench {

    @Param({"max2x2s2_1x512x512x64", "max3x3s2p1_32x112x112x64", "avg3x3s1p1_8x56x56x64",
            "globalavg_32x7x7x2048", "globalavg_8x224x224x64", "tinymax2x2s2_1x8x8x16"})
    public String op;

    /** CPU threads; 0 = one per core (the default, and what the table in docs/performance.md uses). */
    @Param({"0"})
    public int threads;

    private Suite suite;
    private CpuBackend backend;
    private PoolGeometry geometry;
    private Tensor in;
    private Tensor out;

    @Setup
    public void setUp() {
        suite = Suite.valueOf(op);
        backend = threads == 0 ? new CpuBackend() : new CpuBackend(threads);
        in = Data.nhwc(suite.input(), 42);
        out = Tensor.allocate(suite.output());
        geometry = suite.global() ? null : suite.spec().geometry(suite.input());
    }

    @TearDown
    public void tearDown() {
        backend.close();
    }

    @Benchmark
    public Tensor pool() {
        if (geometry == null) {
            backend.global(PoolMode.AVG, in, out);
        } else {
            backend.pool(geometry, in, out);
        }
        return out;
    }
}
