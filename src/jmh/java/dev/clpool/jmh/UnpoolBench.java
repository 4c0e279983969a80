package dev.clpool.jmh;

import dev.clpool.BindingChoice;
import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.Layout;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import dev.clpool.UnpoolGeometry;
import dev.clpool.backend.PoolingBackend;
import dev.clpool.cpu.CpuBackend;
import dev.clpool.opencl.OpenClBackend;
import java.nio.LongBuffer;
import java.util.SplittableRandom;
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
 * Max unpooling of a SegNet decoder layer: values (N, 112, 112, 64) with the indices of a 2x2
 * stride-2 max pooling (one random tap of each window) back to (N, 224, 224, 64), in either layout
 * and the conventions whose CPU paths differ (nhwc: per batch item in channels-last order; pytorch:
 * per plane for channels-first; onnx: one item, so per item too). {@code pool} is the forward max
 * pooling of the same layer on the same backend (channels-last): the reference unpooling's cost is
 * read against, as both move about the same bytes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx4g", "--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 6, time = 1)
public class UnpoolBench {
    private static final int H = 112;
    private static final int W = 112;
    private static final int C = 64;

    @Param({"channels-last", "channels-first"})
    public String layout;

    @Param({"nhwc", "pytorch"})
    public String convention;

    /** {@code cpu} (one thread per core) or {@code opencl} (the first device, auto binding). */
    @Param({"cpu"})
    public String backend;

    @Param({"4"})
    public int n;

    private PoolingBackend b;
    private UnpoolGeometry geometry;
    private Tensor values;
    private Indices indices;
    private Tensor out;
    private PoolGeometry forward;
    private Tensor poolIn;
    private Tensor poolOut;

    @Setup
    public void setUp() {
        b = backend.equals("cpu") ? new CpuBackend() : OpenClBackend.open(BindingChoice.AUTO, -1);
        Layout l = Layout.parse(layout);
        IndexConvention conv = IndexConvention.parse(convention);
        TensorShape vs = TensorShape.of(n, C, new int[] {H, W}, l);
        geometry = UnpoolGeometry.of(vs, new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, new int[] {0, 0}, null, conv);
        Shape flat = Shape.of(n, H, W, C); // the element count; the geometry says the layout
        values = Data.nhwc(flat, 7);
        indices = Indices.allocate(flat, conv);
        LongBuffer ix = indices.longs();
        SplittableRandom r = new SplittableRandom(11);
        TensorShape os = geometry.output();
        for (int i = 0; i < vs.elementCount(); i++) {
            long p = geometry.channelsLastPosition(i);
            int c = (int) (p % C);
            long q = p / C % ((long) H * W);
            int nn = (int) (p / C / ((long) H * W));
            long tq = (2 * (q / W) + r.nextInt(2)) * os.spatial(1) + 2 * (q % W) + r.nextInt(2);
            ix.put(i, switch (conv) {
                case NHWC -> tq * C + c;
                case PYTORCH -> tq;
                default -> ((long) nn * C + c) * os.spatialSize() + tq;
            });
        }
        out = Tensor.allocate(Shape.of(n, 2 * H, 2 * W, C));
        poolIn = Data.nhwc(Shape.of(n, 2 * H, 2 * W, C), 5);
        poolOut = Tensor.allocate(flat);
        forward = PoolSpec.max(2, 2).build().geometry(poolIn.shape());
    }

    @TearDown
    public void tearDown() {
        b.close();
    }

    @Benchmark
    public Tensor unpool() {
        b.unpool(values, indices, geometry, out);
        return out;
    }

    @Benchmark
    public Tensor pool() {
        b.pool(forward, poolIn, poolOut);
        return poolOut;
    }
}
