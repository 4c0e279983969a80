package dev.clpool.backend;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.Axis;
import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.PlanarGeometry;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.UnpoolGeometry;

/**
 * A place pooling runs: the CPU path or one OpenCL device. The engine validates every request
 * (through {@link dev.clpool.PoolSpec#geometry}) and allocates the output before calling a
 * backend, so backends only compute. Implementations are thread-safe.
 *
 * <p>The tensors of one call share a {@link dev.clpool.DType} (the engine allocates outputs with
 * the input's); the output is the float32 result rounded once to it. The CPU path computes in
 * float32 only and is given 16-bit storage by the engine, which converts at the edges.
 */
public interface PoolingBackend extends AutoCloseable {

    /** {@code cpu} or {@code opencl}. */
    String kind();

    /** A one-line description for people: the device, the binding, the thread count. */
    String description();

    /** Windowed pooling: {@code out} has shape {@code g.output()}. */
    void pool(PoolGeometry g, Tensor in, Tensor out);

    /**
     * Windowed pooling of 16-bit tensors ({@code in} and {@code out} of one 16-bit storage type) on
     * the stored patterns, where this backend has such a kernel for the request: it must write the
     * bits that pooling the tensor widened to float32 and rounding the result once gives. Returns
     * true once {@code out} is written; false, with nothing written, where it has none (a caller that
     * widens, {@link WideningBackend}, then widens). A default: none.
     */
    default boolean poolStored(PoolGeometry g, Tensor in, Tensor out) {
        return false;
    }

    /**
     * {@link #poolStored}'s global form: global pooling ({@code mode}) of a 16-bit (N, H, W, C)
     * tensor on its stored patterns, to the widened path's bits; true once {@code out} is written,
     * false (nothing written) where this backend has no such kernel. A default: none.
     */
    default boolean globalStored(PoolMode mode, Tensor in, Tensor out) {
        return false;
    }

    /** Global pooling over each H×W plane: {@code mode} is MAX or AVG, {@code out} is (N, 1, 1, C). */
    void global(PoolMode mode, Tensor in, Tensor out);

    /**
     * Backward of windowed max or avg pooling: {@code gradIn} (shape {@code g.input()}) receives the
     * gradient with respect to {@code in}, given {@code gradOut} (shape {@code g.output()}). Every
     * element of {@code gradIn} is written. A default so that backends without it still compile.
     */
    default void backward(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn) {
        throw new UnsupportedOperationException(description() + ": backward pooling is not implemented");
    }

    /** Adaptive pooling to an output size: {@code out} has shape {@code g.output()}. A default, like backward. */
    default void adaptive(AdaptiveGeometry g, Tensor in, Tensor out) {
        throw new UnsupportedOperationException(description() + ": adaptive pooling is not implemented");
    }

    /**
     * Max pooling ({@code g.mode()} is MAX) that also writes, for each output element, where its
     * value came from, as {@code indices.convention()} says; {@code out} and {@code indices} have
     * shape {@code g.output()}. A default, like backward.
     */
    default void maxWithIndices(PoolGeometry g, Tensor in, Tensor out, Indices indices) {
        throw new UnsupportedOperationException(description() + ": max pooling with indices is not implemented");
    }

    /**
     * {@link #maxWithIndices} of the planes of a channels-first tensor with {@code channels}
     * channels, viewed as one channel ({@code g.input()} is (N·C, H, W, 1)), with {@code indices}
     * (shape {@code g.output()}) receiving SEMANTICS.md's {@code nhwc} indices of the channels-first
     * tensor: {@code (y·W + x)·C + c} for plane {@code n·C + c}, not the view's plane positions.
     * The default writes plane positions ({@link IndexConvention#PYTORCH}) and then rewrites them;
     * a backend may form them directly.
     */
    default void maxWithNhwcPlaneIndices(PoolGeometry g, Tensor in, Tensor out, Indices indices, int channels) {
        maxWithIndices(g, in, out, indices);
        HostIndices.planeToNhwc(indices, g.output().n(), (long) g.output().h() * g.output().w(), channels);
    }

    /**
     * Max unpooling ({@link UnpoolGeometry}): {@code out} (shape {@code g.output()}, the values'
     * storage type) becomes zero except where an index of {@code indices} (in {@code g.convention()},
     * whatever {@code indices.convention()} says) names an element: there the value, bit for bit;
     * of several values naming one element, the last in the values' channels-last order. Tensors are
     * read as {@code g} says (their {@code Shape} may be any of the right element count). An index
     * outside the output throws {@link dev.clpool.InvalidInputException} naming the first (in that
     * order), with {@code out} untouched. A default, like backward.
     */
    default void unpool(Tensor values, Indices indices, UnpoolGeometry g, Tensor out) {
        throw new UnsupportedOperationException(description() + ": max unpooling is not implemented");
    }

    /**
     * A copy of {@code t} where this backend computes (a snapshot: later changes to {@code t} do
     * not show). The default keeps it in host memory, which is right for host backends.
     */
    default ResidentTensor upload(Tensor t) {
        return HostResident.copyOf(t);
    }

    /**
     * Windowed pooling of channels-first planes ({@link PlanarGeometry}): {@code in} holds
     * {@code g.planes()} contiguous input planes (or volumes), {@code out} the output ones, in one
     * storage type, read by size whatever their {@code Shape} says. A default, like backward.
     */
    default void poolPlanar(PlanarGeometry g, Tensor in, Tensor out) {
        throw new UnsupportedOperationException(description() + ": planar pooling is not implemented");
    }

    /** {@link #poolPlanar(PlanarGeometry, Tensor, Tensor)} between resident tensors; may return before the work is done. */
    default void poolPlanar(PlanarGeometry g, ResidentTensor in, ResidentTensor out) {
        poolPlanar(g, host(in), host(out));
    }

    /**
     * Backward of channels-first float32 host tensors in one pass, where this backend has a kernel
     * for the geometry: {@code in} and {@code gradIn} hold {@code planes} contiguous planes (or
     * volumes) of the spatial {@code axes} (outermost first), {@code gradOut} the output ones.
     * Returns true once every element of {@code gradIn} is written, false (nothing written) where
     * there is no such kernel and the caller lowers the operation to the 2-D backward. A default:
     * none.
     */
    default boolean backwardPlanar(PoolMode mode, Axis[] axes, int planes, Tensor in, Tensor gradOut, Tensor gradIn) {
        return false;
    }

    /**
     * Whether {@link #backwardPlanar} has a kernel for this geometry on float32 tensors: a caller
     * that would convert 16-bit tensors for it asks first. A default: none.
     */
    default boolean hasBackwardPlanar(PoolMode mode, Axis[] axes) {
        return false;
    }

    /**
     * Copies host tensor {@code src} into {@code dst} (same element count), each element rounded
     * once to {@code dst}'s storage type, bit for bit as {@link Tensor#convertInto}: the
     * operations that work in float32 between passes (3-D pooling of 16-bit tensors) convert
     * through it. A default: {@link Tensor#convertInto}, one element at a time; the CPU path
     * converts in blocks over its threads.
     */
    default void convert(Tensor src, Tensor dst) {
        src.convertInto(dst);
    }

    /**
     * Global avg or max over {@code planes} contiguous planes of {@code planeSize} elements
     * (channels-first), one value per plane: by default the 2-D global pooling of the same memory
     * seen with one channel.
     */
    default void globalPlanar(PoolMode mode, int planes, int planeSize, Tensor in, Tensor out) {
        global(mode, Tensor.wrap(Shape.of(planes, 1, planeSize, 1), in.dtype(), in.buffer()),
                Tensor.wrap(Shape.of(planes, 1, 1, 1), out.dtype(), out.buffer()));
    }

    /** {@link #globalPlanar(PoolMode, int, int, Tensor, Tensor)} between resident tensors; may return before the work is done. */
    default void globalPlanar(PoolMode mode, int planes, int planeSize, ResidentTensor in, ResidentTensor out) {
        globalPlanar(mode, planes, planeSize, host(in), host(out));
    }

    /** Uninitialised storage for a tensor of shape {@code s} where this backend computes. */
    default ResidentTensor allocate(Shape s) {
        return new HostResident(Tensor.allocate(s));
    }

    /**
     * Windowed pooling between resident tensors of this backend; may return before the work is
     * done ({@link ResidentTensor#download} and {@link #finish} wait for it).
     */
    default void pool(PoolGeometry g, ResidentTensor in, ResidentTensor out) {
        pool(g, host(in), host(out));
    }

    /** Global pooling between resident tensors of this backend; may return before the work is done. */
    default void global(PoolMode mode, ResidentTensor in, ResidentTensor out) {
        global(mode, host(in), host(out));
    }

    /** Uninitialised int64 storage for the indices of a max pooling with output shape {@code s}. */
    default ResidentTensor allocateIndices(Shape s, IndexConvention convention) {
        return new HostIndices(Indices.allocate(s, convention));
    }

    /** A copy of {@code indices} where this backend computes, as {@link #allocateIndices} makes them (a snapshot). */
    default ResidentTensor uploadIndices(Indices indices) {
        Indices copy = Indices.allocate(indices.tensorShape(), indices.convention());
        copy.buffer().put(indices.buffer());
        return new HostIndices(copy);
    }

    /**
     * Max pooling with indices between resident tensors of this backend ({@code indices} from
     * {@link #allocateIndices}, in its convention); may return before the work is done.
     */
    default void maxWithIndices(PoolGeometry g, ResidentTensor in, ResidentTensor out, ResidentTensor indices) {
        if (!(indices instanceof HostIndices h)) {
            throw new IllegalArgumentException("indices resident on another backend: " + indices);
        }
        maxWithIndices(g, host(in), host(out), h.indices());
    }

    /** Backward of max or avg pooling between resident tensors of this backend; may return before the work is done. */
    default void backward(PoolGeometry g, ResidentTensor in, ResidentTensor gradOut, ResidentTensor gradIn) {
        backward(g, host(in), host(gradOut), host(gradIn));
    }

    /**
     * {@link #backwardPlanar(PoolMode, Axis[], int, Tensor, Tensor, Tensor)} between resident
     * tensors of this backend; may return before the work is done. A default: none (false).
     */
    default boolean backwardPlanar(PoolMode mode, Axis[] axes, int planes, ResidentTensor in, ResidentTensor gradOut,
                                   ResidentTensor gradIn) {
        return false;
    }

    /**
     * {@link #unpool(Tensor, Indices, UnpoolGeometry, Tensor)} between resident tensors of this
     * backend ({@code indices} from {@link #allocateIndices}; {@code g} gives the convention):
     * float32 values, read by size whatever their {@code Shape} says. Waits for the index check, so
     * that a bad index throws here, with {@code out} untouched; the rest may still be running.
     */
    default void unpool(UnpoolGeometry g, ResidentTensor values, ResidentTensor indices, ResidentTensor out) {
        if (!(indices instanceof HostIndices h)) {
            throw new IllegalArgumentException("indices resident on another backend: " + indices);
        }
        unpool(host(values), h.indices(), g, host(out));
    }

    /** Adaptive pooling between resident tensors of this backend; may return before the work is done. */
    default void adaptive(AdaptiveGeometry g, ResidentTensor in, ResidentTensor out) {
        adaptive(g, host(in), host(out));
    }

    /** Waits until all work submitted to this backend has completed (nothing to wait for on the host). */
    default void finish() {
    }

    private static Tensor host(ResidentTensor t) {
        if (t instanceof HostResident h) {
            return h.tensor();
        }
        throw new IllegalArgumentException("a tensor resident on another backend: " + t);
    }

    /** Releases every resource; idempotent, never throws. */
    @Override
    void close();
}
