package dev.clpool.jmh;

import java.nio.ByteBuffer;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
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
 * The host copy baseline: the input tensor's bytes copied to another direct buffer, on one thread
 * ({@code ByteBuffer.put}, a memcpy) and split over one thread per core. The report uses the
 * faster, counting bytes read plus bytes written (twice the input) as for pooling.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx4g", "--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 6, time = 1)
public class CopyBench {

    @Param({"max2x2s2_1x512x512x64", "max3x3s2p1_32x112x112x64", "avg3x3s1p1_8x56x56x64",
            "globalavg_32x7x7x2048", "globalavg_8x224x224x64", "tinymax2x2s2_1x8x8x16"})
    public String op;

    private ByteBuffer src;
    private ByteBuffer dst;
    private ForkJoinPool pool;
    private int parts;

    @Setup
    public void setUp() {
        Suite suite = Suite.valueOf(op);
        src = Data.nhwc(suite.input(), 42).buffer();
        dst = ByteBuffer.allocateDirect(src.capacity());
        parts = Runtime.getRuntime().availableProcessors();
        pool = new ForkJoinPool(parts);
    }

    @TearDown
    public void tearDown() {
        pool.shutdown();
    }

    @Benchmark
    public ByteBuffer copySerial() {
        dst.clear();
        dst.put(src.duplicate());
        return dst;
    }

    @Benchmark
    public ByteBuffer copyParallel() {
        int size = src.capacity();
        int chunk = (size / parts + 63) & ~63;
        pool.submit(() -> IntStream.range(0, parts).parallel().forEach(p -> {
            int from = Math.min(size, p * chunk);
            int to = Math.min(size, from + chunk);
            dst.slice(from, to - from).put(src.slice(from, to - from));
        })).join();
        return dst;
    }
}
