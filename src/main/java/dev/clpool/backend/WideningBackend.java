package dev.clpool.backend;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.DType;
import dev.clpool.Indices;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Tensor;
import dev.clpool.UnpoolGeometry;

/**
 * Gives a float32-only backend (the CPU path) every storage type, converting at the edges and
 * nowhere else: 16-bit inputs are widened to float32 temporaries (exact), the backend runs its
 * float32 code unchanged, and each output is rounded once into its storage type. Float32 requests
 * pass straight through, with no copy.
 *
 * <p>This is SEMANTICS' rule for 16-bit storage by construction: the output is the float32 result
 * rounded once. The cost is a float32 copy of the input and the output while the call runs.
 */
public final class WideningBackend implements PoolingBackend {
    private final PoolingBackend delegate;

    public WideningBackend(PoolingBackend delegate) {
        this.delegate = delegate;
    }

    @Override
    public String kind() {
        return delegate.kind();
    }

    @Override
    public String description() {
        return delegate.description();
    }

    @Override
    public void pool(PoolGeometry g, Tensor in, Tensor out) {
        if (float32(in, out)) {
            delegate.pool(g, in, out);
        } else {
            Tensor wide = wide(out);
            delegate.pool(g, widen(in), wide);
            narrow(wide, out);
        }
    }

    @Override
    public void global(PoolMode mode, Tensor in, Tensor out) {
        if (float32(in, out)) {
            delegate.global(mode, in, out);
        } else {
            Tensor wide = wide(out);
            delegate.global(mode, widen(in), wide);
            narrow(wide, out);
        }
    }

    @Override
    public void backward(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn) {
        if (float32(in, gradOut) && gradIn.dtype() == DType.FLOAT32) {
            delegate.backward(g, in, gradOut, gradIn);
        } else {
            Tensor wide = wide(gradIn);
            delegate.backward(g, widen(in), widen(gradOut), wide);
            narrow(wide, gradIn);
        }
    }

    @Override
    public void adaptive(AdaptiveGeometry g, Tensor in, Tensor out) {
        if (float32(in, out)) {
            delegate.adaptive(g, in, out);
        } else {
            Tensor wide = wide(out);
            delegate.adaptive(g, widen(in), wide);
            narrow(wide, out);
        }
    }

    @Override
    public void maxWithIndices(PoolGeometry g, Tensor in, Tensor out, Indices indices) {
        if (float32(in, out)) {
            delegate.maxWithIndices(g, in, out, indices);
        } else {
            Tensor wide = wide(out);
            delegate.maxWithIndices(g, widen(in), wide, indices);
            narrow(wide, out);
        }
    }

    /** Unpooling copies values bit for bit, so every storage type passes straight through. */
    @Override
    public void unpool(Tensor values, Indices indices, UnpoolGeometry g, Tensor out) {
        delegate.unpool(values, indices, g, out);
    }

    @Override
    public void close() {
        delegate.close();
    }

    private static boolean float32(Tensor a, Tensor b) {
        return a.dtype() == DType.FLOAT32 && b.dtype() == DType.FLOAT32;
    }

    private static Tensor widen(Tensor t) {
        return t.dtype() == DType.FLOAT32 ? t : t.convert(DType.FLOAT32);
    }

    /** Rounds the float32 result into the output, once (nothing to do when the output is the scratch). */
    private static void narrow(Tensor wide, Tensor out) {
        if (wide != out) {
            wide.convertInto(out);
        }
    }

    /** A float32 scratch output: the output itself when it is float32 already. */
    private static Tensor wide(Tensor out) {
        return out.dtype() == DType.FLOAT32 ? out : Tensor.allocate(out.shape());
    }
}
