package dev.clpool.jmh;

import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.cpu.ChannelsFirstPool;
import dev.clpool.cpu.CpuBackend;
import java.nio.FloatBuffer;
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
 * Issue 13's budget for channels-first tensors (at most 1.2× the channels-last time on the same
 * data size), on the CPU path: the same elements pooled
 * <ul>
 * <li>{@code nhwc}: channels-last, by the 2-D channels-last kernels ({@link CpuBackend#pool});</li>
 * <li>{@code nchw}: channels-first, by {@link ChannelsFirstPool};</li>
 * <li>{@code c1view}: channels-first viewed as channels-last with batch N*C and one channel, by the
 * channels-last kernels (the lowering without the channels-first kernels).</li>
 * </ul>
 * Input already in place, output already allocated, one thread per core.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx4g", "--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 6, time = 1)
public class ChannelsFirstBench {

    /** Operation and NCHW shape (max 3×3 s2 p1, avg 3×3 s1 p1, global average). */
    @Param({"max3x3s2p1_32x64x112x112", "avg3x3s1p1_8x64x56x56", "globalavg_32x2048x7x7"})
    public String op;

    @Param({"nhwc", "nchw", "c1view"})
    public String layout;

    private CpuBackend backend;
    private ChannelsFirstPool channelsFirst;
    private PoolGeometry geometry;
    private Tensor in;
    private Tensor out;
    private int planes;
    private int planeSize;

    @Setup
    public void setUp() {
        String[] parts = op.split("_");
        String[] dims = parts[1].split("x");
        int n = Integer.parseInt(dims[0]);
        int c = Integer.parseInt(dims[1]);
        int h = Integer.parseInt(dims[2]);
        int w = Integer.parseInt(dims[3]);
        planes = n * c;
        planeSize = h * w;
        backend = new CpuBackend();
        channelsFirst = new ChannelsFirstPool(backend);
        Tensor nhwc = Data.nhwc(Shape.of(n, h, w, c), 42);
        Shape view = Shape.of(planes, h, w, 1);
        Shape shape = layout.equals("nhwc") ? nhwc.shape() : view;
        if (layout.equals("nhwc")) {
            in = nhwc;
        } else {
            in = Tensor.allocate(view);
            in.floats().put(Data.toNchw(nhwc));
        }
        if (parts[0].equals("globalavg")) {
            out = Tensor.allocate(Shape.of(shape.n(), 1, 1, shape.c()));
            return;
        }
        PoolSpec spec = parts[0].startsWith("max")
                ? PoolSpec.max(3, 3).stride(2).padding(dev.clpool.Padding.of(1)).build()
                : PoolSpec.avg(3, 3).stride(1).padding(dev.clpool.Padding.of(1)).build();
        geometry = spec.geometry(shape);
        out = Tensor.allocate(geometry.output());
    }

    @TearDown
    public void tearDown() {
        backend.close();
    }

    @Benchmark
    public Tensor pool() {
        FloatBuffer src = in.floats();
        FloatBuffer dst = out.floats();
        if (geometry == null) {
            if (layout.equals("nchw")) {
                channelsFirst.global(PoolMode.AVG, 2, src, dst, planes, planeSize);
            } else {
                backend.global(PoolMode.AVG, in, out);
            }
        } else if (layout.equals("nchw")) {
            channelsFirst.pool(geometry.mode(), 2, false, in.buffer(), out.buffer(), planes, geometry.rows(), geometry.cols());
        } else {
            backend.pool(geometry, in, out);
        }
        return out;
    }
}
