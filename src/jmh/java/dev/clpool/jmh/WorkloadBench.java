package dev.clpool.jmh;

import dev.clpool.BackendChoice;
import dev.clpool.BindingChoice;
import dev.clpool.DType;
import dev.clpool.PoolingEngine;
import dev.clpool.bench.Workload;
import dev.clpool.bench.WorkloadOps;
import dev.clpool.bench.WorkloadSuite;
import dev.clpool.bench.WorkloadSuite.Api;
import dev.clpool.bench.WorkloadSuite.Variant;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
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
 * clpool on the workload suite ({@link WorkloadSuite}), through {@link PoolingEngine} as a user
 * calls it: {@code api=alloc} (a new result per call, closed at once), {@code api=alloc-dropped}
 * (left to the garbage collector) or {@code api=into} (an output made once), on {@code backend=cpu} (one thread
 * per core, as the peers) or an OpenCL binding ({@code jocl}, {@code lwjgl}). Issue 11's
 * allocation cases ({@code alloc-pool-100mib}, ...) run here too:
 * {@code -p workload=alloc-pool-100mib -p api=into,alloc,alloc-dropped}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx6g", "--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class WorkloadBench {

    /** The workloads PyTorch has (all but LP with padding, which lp_pool2d does not take). */
    public static final String TORCH = "resnet50-stem-max,resnet50-stem-indices,resnet50-stem-backward,resnet50-head-gap,"
            + "mobilenetv2-head-gap,cbam-channel-gmp,vgg16-block1-max,vgg16-block4-max,vgg16-head-adaptive7,"
            + "sppnet-level6,inception3-stem-max,inception3-a-avg,inception3-a-avg-backward,densenet121-transition-avg,"
            + "densenet121-transition-backward,yolov4-spp-max5,yolov4-spp-max9,yolov4-spp-max13,yolov5-sppf-max5,"
            + "segnet-encoder-indices,segnet-encoder4-indices,unet-level1-indices,unet-level1-backward,"
            + "guided-filter-box13,guided-filter-box3";

    /** Every workload of {@link WorkloadSuite#all()}, for the {@code @Param} annotations (they need a constant). */
    public static final String ALL = TORCH + ",facenet-3b-l2,resnet50-stem-max-cf,inception3-a-avg-cf,resnet50-head-gap-cf,"
            + "segnet-encoder4-indices-cf,densenet121-transition-backward-cf,m5-pool1-max,m5-pool1-max-cl,c3d-pool1-max,"
            + "c3d-pool1-max-cl,c3d-pool2-max,unet3d-level1-indices,unet3d-level1-backward,cbam-channel-gmp-cf,"
            + "resnet50-stem-backward-cf,resnet50-stem-indices-cf,sppnet-level6-cf,vgg16-head-adaptive7-cf,"
            + "unet3d-level1-indices-cl,unet3d-level1-backward-cl,facenet-3b-l2-cf";

    /** The workloads onnxruntime has an operator for (MaxPool with Indices, AveragePool, LpPool, Global*Pool). */
    public static final String ORT = "resnet50-stem-max,resnet50-stem-indices,resnet50-head-gap,mobilenetv2-head-gap,"
            + "cbam-channel-gmp,vgg16-block1-max,vgg16-block4-max,inception3-stem-max,inception3-a-avg,"
            + "densenet121-transition-avg,yolov4-spp-max5,yolov4-spp-max9,yolov4-spp-max13,yolov5-sppf-max5,"
            + "segnet-encoder-indices,segnet-encoder4-indices,unet-level1-indices,facenet-3b-l2,"
            + "guided-filter-box13,guided-filter-box3";

    @Param({ALL})
    public String workload;

    @Param({"random"})
    public String data;

    @Param({"float32"})
    public String dtype;

    @Param({"alloc"})
    public String api;

    @Param({"cpu"})
    public String backend;

    private PoolingEngine engine;
    private Runnable call;

    @Setup
    public void setUp() {
        Set<String> listed = new TreeSet<>(Arrays.asList(ALL.split(",")));
        Set<String> suite = new TreeSet<>(WorkloadSuite.all().stream().map(Workload::name).toList());
        if (!listed.equals(suite)) {
            throw new IllegalStateException("WorkloadBench.ALL " + listed + " differs from WorkloadSuite " + suite);
        }
        Workload w = WorkloadSuite.named(workload);
        Variant v = new Variant(DType.valueOf(dtype.toUpperCase(Locale.ROOT)),
                dev.clpool.bench.Data.valueOf(data.toUpperCase(Locale.ROOT)),
                api.equals("alloc") ? Api.ALLOCATING : api.equals("alloc-dropped") ? Api.DROPPED
                        : Api.valueOf(api.toUpperCase(Locale.ROOT)));
        engine = backend.equals("cpu") ? PoolingEngine.builder().backend(BackendChoice.CPU).build()
                : PoolingEngine.builder().backend(BackendChoice.OPENCL)
                        .binding(BindingChoice.valueOf(backend.toUpperCase(Locale.ROOT))).build();
        call = new WorkloadOps(w, v).call(engine, v.api());
    }

    @TearDown
    public void tearDown() {
        engine.close();
    }

    @Benchmark
    public void run() {
        call.run();
    }
}
