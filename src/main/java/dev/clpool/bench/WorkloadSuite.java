package dev.clpool.bench;

import dev.clpool.DType;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.TensorShape;
import dev.clpool.bench.Workload.Op;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The workload suite (issue 12): the pooling layers of well-known networks, each with the place
 * in the network's published definition it comes from, covering every operation clpool has.
 * Batch sizes are chosen so that one input is at most about 100 MB of float32.
 */
public final class WorkloadSuite {
    private WorkloadSuite() {
    }

    private static final String RESNET = "ResNet-50: He et al., Deep Residual Learning, CVPR 2016, Table 1 (conv2_x 3x3 max"
            + " pool stride 2 on 112x112x64); torchvision resnet.py nn.MaxPool2d(kernel_size=3, stride=2, padding=1)";
    private static final String VGG = "VGG-16: Simonyan & Zisserman, Very Deep Convolutional Networks, ICLR 2015, Sec. 2.1"
            + " and Table 1 config D (max-pooling 2x2 window, stride 2, after each block)";
    private static final String INCEPTION = "Inception-v3: Szegedy et al., Rethinking the Inception Architecture,"
            + " CVPR 2016, Table 1; torchvision inception.py";
    private static final String DENSENET = "DenseNet-121: Huang et al., Densely Connected Convolutional Networks, CVPR 2017,"
            + " Table 1 (transition layer 1: 2x2 average pool stride 2, 56x56 to 28x28, 128 channels after compression"
            + " 0.5); torchvision densenet.py _Transition nn.AvgPool2d(kernel_size=2, stride=2)";
    private static final String YOLOV4 = "YOLOv4: Bochkovskiy et al., 2020, Sec. 3.4 (SPP); darknet cfg/yolov4.cfg"
            + " [maxpool] stride=1 size=5/9/13 on the 19x19x512 map at 608x608";
    private static final String UNET = "U-Net: Ronneberger et al., MICCAI 2015, Sec. 2 and Fig. 1 (2x2 max pooling"
            + " stride 2; first level 568x568x64 for a 572x572 tile)";

    private static final String C3D = "C3D: Tran et al., Learning Spatiotemporal Features with 3D Convolutional Networks,"
            + " ICCV 2015, Sec. 3.2 and Fig. 3 (16-frame 112x112 clips; pool1 1x2x2 stride 1x2x2 after conv1a (64"
            + " channels), pool2-5 2x2x2 stride 2)";
    private static final String UNET3D = "3D U-Net: Cicek et al., MICCAI 2016, Sec. 2 and Fig. 1 (2x2x2 max pooling,"
            + " strides of two; first analysis level 64 channels; a 64x64x64 crop)";
    private static final String M5 = "M5: Dai et al., Very Deep Convolutional Neural Networks for Raw Waveforms, ICASSP"
            + " 2017, Table 1 (4 s of 8 kHz audio, conv [80/4, 128] gives 7981 steps, then max pool 4)";
    private static final String VGG_HEAD = "torchvision vgg.py self.avgpool = nn.AdaptiveAvgPool2d((7, 7));"
            + " VGG-16 features at a 320x320 input are 10x10x512";
    private static final String SPPNET = "SPP-net: He et al., Spatial Pyramid Pooling, ECCV 2014, Sec. 2.3"
            + " (6x6 level of the {6,3,2,1} pyramid over ZF-5 conv5, 13x13x256)";
    private static final String CBAM = "CBAM: Woo et al., ECCV 2018, Sec. 3.1 (channel attention:"
            + " max-pooled descriptor; in ResNet-50 stage 1, 56x56x256)";
    private static final String BOX_FILTER = "Guided filter: He, Sun & Tang, Guided Image Filtering, TPAMI 2013,"
            + " Algorithm 1 (f_mean: a (2r+1)x(2r+1) box filter, stride 1, divided by the in-image count N),"
            + " applied to YOLOv4's 19x19x512 SPP map;";
    private static final String CF = " (channels-first, as PyTorch's contiguous NCHW tensors and ONNX models hold it)";

    /** Every workload, in the order the bench prints them. */
    public static List<Workload> all() {
        List<Workload> all = new ArrayList<>(planar());
        all.addAll(0, layers2d());
        return List.copyOf(all);
    }

    /**
     * 1-D and 3-D layers, and channels-first twins of 2-D rows (same bytes as the channels-last row
     * of the same name without {@code -cf}: issue 13 asks for at most 1.2x).
     */
    private static List<Workload> planar() {
        return List.of(
                Workload.windowed("resnet50-stem-max-cf", RESNET + CF, Op.POOL, "max k=3 s=2 pad=1",
                        TensorShape.channelsFirst(32, 64, 112, 112)),
                Workload.windowed("inception3-a-avg-cf", INCEPTION + " (InceptionA branch_pool)" + CF, Op.POOL,
                        "avg k=3 s=1 pad=1 include-pad", TensorShape.channelsFirst(32, 256, 35, 35)),
                Workload.global("resnet50-head-gap-cf", "ResNet-50 global average pool" + CF, PoolMode.AVG,
                        TensorShape.channelsFirst(32, 2048, 7, 7)),
                Workload.windowed("segnet-encoder4-indices-cf", "SegNet encoder stage 4 with indices" + CF,
                        Op.POOL_WITH_INDICES, "max k=2 s=2", TensorShape.channelsFirst(2, 512, 45, 60)),
                Workload.windowed("densenet121-transition-backward-cf", DENSENET + " (training: backward)" + CF,
                        Op.BACKWARD, "avg k=2 s=2", TensorShape.channelsFirst(16, 128, 56, 56)),
                Workload.windowed("resnet50-stem-indices-cf", RESNET + " (training: max with indices)" + CF,
                        Op.POOL_WITH_INDICES, "max k=3 s=2 pad=1", TensorShape.channelsFirst(32, 64, 112, 112)),
                Workload.windowed("resnet50-stem-backward-cf", RESNET + " (training: backward of the max pool)" + CF,
                        Op.BACKWARD, "max k=3 s=2 pad=1", TensorShape.channelsFirst(32, 64, 112, 112)),
                Workload.adaptive("vgg16-head-adaptive7-cf", VGG_HEAD + CF, PoolMode.AVG,
                        TensorShape.channelsFirst(8, 512, 10, 10), 7, 7),
                Workload.adaptive("sppnet-level6-cf", SPPNET + CF, PoolMode.MAX, TensorShape.channelsFirst(32, 256, 13, 13), 6, 6),
                Workload.global("cbam-channel-gmp-cf", CBAM + CF, PoolMode.MAX, TensorShape.channelsFirst(16, 256, 56, 56)),
                Workload.windowed("facenet-3b-l2-cf", "FaceNet: Schroff et al., CVPR 2015, Table 2, NN2 inception (3b)"
                        + " pool 'L2, 3x3, 1'" + CF, Op.POOL, "lp k=3 s=1 pad=1 p=2", TensorShape.channelsFirst(32, 256, 28, 28)),
                Workload.windowed("m5-pool1-max", M5 + CF, Op.POOL, "max k=4 s=4 rank=1",
                        TensorShape.channelsFirst(16, 128, 7981)),
                Workload.windowed("m5-pool1-max-cl", M5 + " (channels-last)", Op.POOL, "max k=4 s=4 rank=1",
                        TensorShape.channelsLast(16, new int[] {7981}, 128)),
                Workload.windowed("c3d-pool1-max", C3D + CF, Op.POOL, "max k=1x2x2 s=1x2x2",
                        TensorShape.channelsFirst(2, 64, 16, 112, 112)),
                Workload.windowed("c3d-pool1-max-cl", C3D + " (channels-last)", Op.POOL, "max k=1x2x2 s=1x2x2",
                        TensorShape.channelsLast(2, new int[] {16, 112, 112}, 64)),
                Workload.windowed("c3d-pool2-max", C3D + CF, Op.POOL, "max k=2x2x2 s=2x2x2",
                        TensorShape.channelsFirst(2, 128, 16, 56, 56)),
                Workload.windowed("unet3d-level1-indices", UNET3D + " (training: max with indices)" + CF,
                        Op.POOL_WITH_INDICES, "max k=2x2x2 s=2x2x2", TensorShape.channelsFirst(1, 64, 64, 64, 64)),
                Workload.windowed("unet3d-level1-backward", UNET3D + " (training: backward of the max pool)" + CF,
                        Op.BACKWARD, "max k=2x2x2 s=2x2x2", TensorShape.channelsFirst(1, 64, 64, 64, 64)),
                Workload.windowed("unet3d-level1-indices-cl", UNET3D + " (training: max with indices; channels-last)",
                        Op.POOL_WITH_INDICES, "max k=2x2x2 s=2x2x2", TensorShape.channelsLast(1, new int[] {64, 64, 64}, 64)),
                Workload.windowed("unet3d-level1-backward-cl", UNET3D + " (training: backward of the max pool;"
                        + " channels-last)", Op.BACKWARD, "max k=2x2x2 s=2x2x2",
                        TensorShape.channelsLast(1, new int[] {64, 64, 64}, 64)));
    }

    private static List<Workload> layers2d() {
        return List.of(
                Workload.windowed("resnet50-stem-max", RESNET, Op.POOL, "max k=3 s=2 pad=1", Shape.of(32, 112, 112, 64)),
                Workload.windowed("resnet50-stem-indices", RESNET + " (training: max with indices)",
                        Op.POOL_WITH_INDICES, "max k=3 s=2 pad=1", Shape.of(32, 112, 112, 64)),
                Workload.windowed("resnet50-stem-backward", RESNET + " (training: backward of the max pool)",
                        Op.BACKWARD, "max k=3 s=2 pad=1", Shape.of(32, 112, 112, 64)),
                Workload.global("resnet50-head-gap", "ResNet-50: He et al., CVPR 2016, Table 1 (average pool over"
                        + " 7x7x2048); torchvision resnet.py nn.AdaptiveAvgPool2d((1, 1))", PoolMode.AVG,
                        Shape.of(32, 7, 7, 2048)),
                Workload.global("mobilenetv2-head-gap", "MobileNetV2: Sandler et al., CVPR 2018, Table 2 (avgpool 7x7"
                        + " on 7x7x1280)", PoolMode.AVG, Shape.of(32, 7, 7, 1280)),
                Workload.global("cbam-channel-gmp", CBAM, PoolMode.MAX, Shape.of(16, 56, 56, 256)),
                Workload.windowed("vgg16-block1-max", VGG + "; block 1 at 224x224x64", Op.POOL, "max k=2 s=2",
                        Shape.of(8, 224, 224, 64)),
                Workload.windowed("vgg16-block4-max", VGG + "; block 4 at 28x28x512", Op.POOL, "max k=2 s=2",
                        Shape.of(32, 28, 28, 512)),
                Workload.adaptive("vgg16-head-adaptive7", VGG_HEAD, PoolMode.AVG, Shape.of(8, 10, 10, 512), 7, 7),
                Workload.adaptive("sppnet-level6", SPPNET, PoolMode.MAX, Shape.of(32, 13, 13, 256), 6, 6),
                Workload.windowed("inception3-stem-max", INCEPTION + " (pool 3x3/2 on 147x147x64;"
                        + " F.max_pool2d(x, kernel_size=3, stride=2))", Op.POOL, "max k=3 s=2", Shape.of(8, 147, 147, 64)),
                Workload.windowed("inception3-a-avg", INCEPTION + " (InceptionA branch_pool: F.avg_pool2d(x,"
                        + " kernel_size=3, stride=1, padding=1), count_include_pad default True; Mixed_5c 35x35x256)",
                        Op.POOL, "avg k=3 s=1 pad=1 include-pad", Shape.of(32, 35, 35, 256)),
                Workload.windowed("inception3-a-avg-backward", INCEPTION + " (training: backward of the InceptionA"
                        + " average pool)", Op.BACKWARD, "avg k=3 s=1 pad=1 include-pad", Shape.of(32, 35, 35, 256)),
                Workload.windowed("densenet121-transition-avg", DENSENET, Op.POOL, "avg k=2 s=2",
                        Shape.of(16, 56, 56, 128)),
                Workload.windowed("densenet121-transition-backward", DENSENET + " (training: backward)", Op.BACKWARD,
                        "avg k=2 s=2", Shape.of(16, 56, 56, 128)),
                Workload.windowed("yolov4-spp-max5", YOLOV4, Op.POOL, "max k=5 s=1 pad=2", Shape.of(8, 19, 19, 512)),
                Workload.windowed("yolov4-spp-max9", YOLOV4, Op.POOL, "max k=9 s=1 pad=4", Shape.of(8, 19, 19, 512)),
                Workload.windowed("yolov4-spp-max13", YOLOV4, Op.POOL, "max k=13 s=1 pad=6", Shape.of(8, 19, 19, 512)),
                Workload.windowed("yolov5-sppf-max5", "YOLOv5: ultralytics/yolov5 models/common.py SPPF"
                        + " nn.MaxPool2d(kernel_size=5, stride=1, padding=2), three times; YOLOv5l at 640x640:"
                        + " 20x20, 1024 // 2 = 512 channels", Op.POOL, "max k=5 s=1 pad=2", Shape.of(8, 20, 20, 512)),
                Workload.windowed("segnet-encoder-indices", "SegNet: Badrinarayanan et al., TPAMI 2017, Sec. 3"
                        + " (max-pooling 2x2 stride 2, indices stored for the decoder's upsampling; CamVid"
                        + " 360x480, first encoder 64 channels)", Op.POOL_WITH_INDICES, "max k=2 s=2",
                        Shape.of(2, 360, 480, 64)),
                Workload.windowed("segnet-encoder4-indices", "SegNet: Badrinarayanan et al., TPAMI 2017, Sec. 3"
                        + " (VGG-16 encoder, stage 4 at 45x60x512 for a 360x480 CamVid frame, max-pooling 2x2 stride 2"
                        + " with indices)", Op.POOL_WITH_INDICES, "max k=2 s=2", Shape.of(2, 45, 60, 512)),
                Workload.windowed("unet-level1-indices", UNET + " (training: max with indices)", Op.POOL_WITH_INDICES,
                        "max k=2 s=2", Shape.of(1, 568, 568, 64)),
                Workload.windowed("unet-level1-backward", UNET + " (training: backward of the max pool)", Op.BACKWARD,
                        "max k=2 s=2", Shape.of(1, 568, 568, 64)),
                Workload.windowed("facenet-3b-l2", "FaceNet: Schroff et al., CVPR 2015, Table 2, NN2 inception (3b)"
                        + " pool 'L2, 3x3, 1' on 28x28x256", Op.POOL, "lp k=3 s=1 pad=1 p=2", Shape.of(32, 28, 28, 256)),
                Workload.windowed("guided-filter-box13", BOX_FILTER + " radius 6", Op.POOL, "avg k=13 s=1 pad=6",
                        Shape.of(8, 19, 19, 512)),
                Workload.windowed("guided-filter-box3", BOX_FILTER + " radius 1 (the 3x3 baseline of issue 12's"
                        + " large-window rule)", Op.POOL, "avg k=3 s=1 pad=1", Shape.of(8, 19, 19, 512)));
    }

    /** The workload (or allocation case) called {@code name}. */
    public static Workload named(String name) {
        List<Workload> both = new ArrayList<>(all());
        both.addAll(allocationCases(false));
        for (Workload w : both) {
            if (w.name().equals(name)) {
                return w;
            }
        }
        throw new NoSuchElementException("no workload called " + name);
    }

    /**
     * What the full run measures of {@code w}: float32 random data through the allocating API
     * (results closed) and into an existing output, then ReLU'd, all-zero, constant and sorted data
     * and float16 storage into an existing output, on random and on ReLU'd data (whose zeros
     * once took a slow path in the conversion back to float16).
     */
    public static List<Run> fullRuns(Workload w) {
        return List.of(new Run(w, new Variant(DType.FLOAT32, Data.RANDOM, Api.ALLOCATING)),
                new Run(w, new Variant(DType.FLOAT32, Data.RANDOM, Api.INTO)),
                new Run(w, new Variant(DType.FLOAT32, Data.RELU, Api.INTO)),
                new Run(w, new Variant(DType.FLOAT32, Data.ZERO, Api.INTO)),
                new Run(w, new Variant(DType.FLOAT32, Data.CONSTANT, Api.INTO)),
                new Run(w, new Variant(DType.FLOAT32, Data.SORTED, Api.INTO)),
                new Run(w, new Variant(DType.FLOAT16, Data.RANDOM, Api.INTO)),
                new Run(w, new Variant(DType.FLOAT16, Data.RELU, Api.INTO)));
    }

    /**
     * The quick subset: one figure per chosen workload, the variants spread over them so that
     * every operation kind, kind of data, storage type and API appears once. The smaller layers
     * of each kind, so that {@code bench --quick} stays under a minute (LP is in the full run only:
     * PoCL needs seconds for the FaceNet layer).
     */
    public static List<Run> quickRuns() {
        return List.of(
                new Run(named("resnet50-stem-max"), new Variant(DType.FLOAT32, Data.ZERO, Api.INTO)),
                new Run(named("yolov4-spp-max13"), new Variant(DType.FLOAT32, Data.RELU, Api.INTO)),
                new Run(named("segnet-encoder4-indices"), new Variant(DType.FLOAT32, Data.RANDOM, Api.ALLOCATING)),
                new Run(named("densenet121-transition-backward"), new Variant(DType.FLOAT16, Data.RANDOM,
                        Api.ALLOCATING)),
                new Run(named("vgg16-head-adaptive7"), new Variant(DType.FLOAT32, Data.RELU, Api.ALLOCATING)),
                new Run(named("resnet50-head-gap"), new Variant(DType.FLOAT16, Data.RANDOM, Api.INTO)),
                new Run(named("mobilenetv2-head-gap"), new Variant(DType.FLOAT32, Data.CONSTANT, Api.INTO)),
                new Run(named("sppnet-level6"), new Variant(DType.FLOAT32, Data.SORTED, Api.INTO)),
                new Run(named("c3d-pool2-max"), new Variant(DType.FLOAT32, Data.RANDOM, Api.INTO)));
    }

    private static final String ISSUE11 = "issue 11: a steady loop of allocating calls against the into-existing form";

    /**
     * Issue 11's cases: each operation with outputs of 1, 10 and 100 MiB (float32; the indices of
     * {@code poolWithIndices} come on top), measured into an existing output and through the
     * allocating API with results closed and dropped, alternately. Global pooling's output is N x C, so it has the 1 MiB case
     * only (64 x 7x7 x 4096, a 49 MiB input). The quick run takes the 10 MiB case of pool.
     */
    public static List<Workload> allocationCases(boolean quick) {
        List<Workload> all = new ArrayList<>();
        for (int n : quick ? new int[] {10} : new int[] {1, 10, 100}) {
            Shape plane = Shape.of(n, 64, 64, 64); // n MiB of float32
            all.add(Workload.windowed("alloc-pool-" + n + "mib", ISSUE11, Op.POOL, "max k=3 s=1 pad=1", plane));
            if (!quick) {
                all.add(Workload.windowed("alloc-indices-" + n + "mib", ISSUE11, Op.POOL_WITH_INDICES,
                        "max k=3 s=1 pad=1", plane));
                all.add(Workload.windowed("alloc-backward-" + n + "mib", ISSUE11, Op.BACKWARD, "max k=3 s=1 pad=1",
                        plane));
                all.add(Workload.adaptive("alloc-adaptive-" + n + "mib", ISSUE11, PoolMode.AVG, Shape.of(n, 80, 80, 64),
                        64, 64));
            }
        }
        if (!quick) {
            all.add(Workload.global("alloc-global-1mib", ISSUE11, PoolMode.AVG, Shape.of(64, 7, 7, 4096)));
        }
        return all;
    }

    /** One figure to measure: a workload in one variant. */
    public record Run(Workload workload, Variant variant) {
    }

    /** Storage type, data and API of one figure. */
    public record Variant(DType dtype, Data data, Api api) {
        @Override
        public String toString() {
            return dtype.word() + " " + data.word() + " " + api.word();
        }
    }

    /** Whether a result comes from a new tensor per call or is written into one the caller has. */
    public enum Api {
        /** A new result per call, closed at once (its memory goes back to the engine's pool). */
        ALLOCATING("alloc"),
        /** A new result per call, dropped (the garbage collector recovers it). */
        DROPPED("alloc-dropped"),
        /** Into an output the caller made once. */
        INTO("into");

        private final String word;

        Api(String word) {
            this.word = word;
        }

        public String word() {
            return word;
        }
    }
}
