package dev.clpool.jmh;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.clpool.DType;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.bench.Workload;
import java.nio.file.Path;

/**
 * PyTorch's CPU kernels through DJL's PyTorch engine, as the peer of the workload benchmarks.
 *
 * <p>Loading: the native libraries come from the classpath (pytorch-native-cpu and pytorch-jni,
 * both in the bench profile) and are unpacked once into {@code target/djl-cache}; DJL's offline
 * mode ({@code ai.djl.offline=true}) is on, so a missing library fails instead of downloading.
 * Threads: as many intra-op threads as clpool's CPU path uses (one per core), one inter-op thread.
 * Layout: tensors are NHWC in memory and handed to PyTorch as their NCHW permutation, which has
 * PyTorch's channels-last strides, so its channels-last CPU kernels run and outputs stay
 * channels-last (no transposition is timed).
 */
final class Torch {
    /** clpool's CPU path uses one thread per core; so does the peer. */
    static final int THREADS = Runtime.getRuntime().availableProcessors();
    private static final long[] NHWC_TO_NCHW = {0, 3, 1, 2};
    private static final long[] NCHW_TO_NHWC = {0, 2, 3, 1};

    static {
        setDefault("ai.djl.offline", "true");
        setDefault("DJL_CACHE_DIR", Path.of("target", "djl-cache").toAbsolutePath().toString());
        setDefault("ai.djl.pytorch.num_threads", Integer.toString(THREADS));
        setDefault("ai.djl.pytorch.num_interop_threads", "1");
    }

    private Torch() {
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /** The PyTorch engine, loaded offline, with {@link #THREADS} intra-op threads. */
    static Engine engine() {
        Engine e = Engine.getEngine("PyTorch");
        JniUtils.setNumThreads(THREADS);
        if (JniUtils.getNumThreads() != THREADS) {
            throw new IllegalStateException("PyTorch runs " + JniUtils.getNumThreads() + " threads, clpool " + THREADS);
        }
        return e;
    }

    /** {@code t}'s elements (NHWC) as a PyTorch NHWC tensor (a copy made now). */
    static PtNDArray nhwc(NDManager m, Tensor t) {
        Shape s = t.shape();
        DataType type = t.dtype() == DType.FLOAT16 ? DataType.FLOAT16 : DataType.FLOAT32;
        if (t.dtype() != DType.FLOAT32 && t.dtype() != DType.FLOAT16) {
            throw new IllegalArgumentException("no PyTorch peer for " + t.dtype());
        }
        return (PtNDArray) m.create(t.buffer(), new ai.djl.ndarray.types.Shape(s.n(), s.h(), s.w(), s.c()), type);
    }

    /** The NCHW view of an NHWC tensor: channels-last strides. */
    static PtNDArray channelsLast(PtNDArray nhwc) {
        return JniUtils.permute(nhwc, NHWC_TO_NCHW);
    }

    /** An NCHW (channels-last) result's elements in NHWC order, as floats. */
    static float[] toNhwc(PtNDArray nchw) {
        try (PtNDArray v = JniUtils.permute(nchw, NCHW_TO_NHWC);
             PtNDArray f = JniUtils.to(v, DataType.FLOAT32, v.getDevice())) {
            return f.toFloatArray();
        }
    }

    /**
     * Whether PyTorch has {@code w}'s forward operation as clpool defines it: symmetric padding,
     * no dilation, and for LP no padding at all (lp_pool2d takes none).
     */
    static boolean supports(Workload w) {
        PoolSpec s = w.spec();
        if (s == null) {
            return true;
        }
        PoolGeometry g = s.geometry(w.shape());
        boolean symmetric = g.rows().padBegin() == g.rows().padEnd() && g.cols().padBegin() == g.cols().padEnd();
        boolean padded = g.rows().padBegin() > 0 || g.cols().padBegin() > 0;
        return symmetric && s.dilationH() == 1 && s.dilationW() == 1 && !(s.mode() == PoolMode.LP && padded);
    }

    /** {@code w}'s forward operation on an NCHW (channels-last) tensor: max_pool2d, avg_pool2d, lp_pool2d or adaptive. */
    static PtNDArray forward(Workload w, PtNDArray x) {
        switch (w.op()) {
            case GLOBAL:
                return adaptive(w.mode(), x, 1, 1);
            case ADAPTIVE:
                return adaptive(w.mode(), x, w.oh(), w.ow());
            default:
                break;
        }
        PoolSpec s = w.spec();
        PoolGeometry g = s.geometry(w.shape());
        var k = new ai.djl.ndarray.types.Shape(s.windowH(), s.windowW());
        var st = new ai.djl.ndarray.types.Shape(s.strideH(), s.strideW());
        var pad = new ai.djl.ndarray.types.Shape(g.rows().padBegin(), g.cols().padBegin());
        return switch (s.mode()) {
            case MAX -> JniUtils.maxPool(x, k, st, pad, s.ceilMode());
            case AVG -> JniUtils.avgPool(x, k, st, pad, s.ceilMode(), s.countIncludePad());
            case LP -> JniUtils.lpPool(x, s.p(), k, st, s.ceilMode());
        };
    }

    private static PtNDArray adaptive(PoolMode mode, PtNDArray x, int oh, int ow) {
        var size = new ai.djl.ndarray.types.Shape(oh, ow);
        return mode == PoolMode.MAX ? JniUtils.adaptiveMaxPool(x, size) : JniUtils.adaptiveAvgPool(x, size);
    }
}
