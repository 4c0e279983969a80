package dev.clpool.backend;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.Axis;
import dev.clpool.DType;
import dev.clpool.Indices;
import dev.clpool.PlanarGeometry;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Tensor;
import dev.clpool.UnpoolGeometry;
import dev.clpool.cpu.CpuBackend;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Gives a float32-only backend (the CPU path) every storage type, converting at the edges and
 * nowhere else: 16-bit inputs are widened to float32 temporaries (exact), the backend runs its
 * float32 code unchanged, and each output is rounded once into its storage type. Float32 requests
 * pass straight through, with no copy.
 *
 * <p>This is SEMANTICS' rule for 16-bit storage by construction: the output is the float32 result
 * rounded once. The cost is a float32 copy of the input and the output while the call runs. On the
 * CPU path the conversions run in blocks over its threads ({@link CpuBackend#convert}), and the
 * float32 temporaries come from a small cache of direct buffers kept between calls (at most
 * {@link #MAX_IDLE_BYTES} idle, dropped on {@link #close()}): a fresh direct buffer costs its size
 * in zero-filling and page faults, several times the conversion itself.
 */
public final class WideningBackend implements PoolingBackend {
    /** The most bytes of idle float32 temporaries kept for the next call. */
    static final long MAX_IDLE_BYTES = 256L << 20;

    private final PoolingBackend delegate;
    private final List<ByteBuffer> idle = new ArrayList<>();
    private long idleBytes;

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
            return;
        }
        Tensor x = widen(in);
        Tensor wide = wide(out);
        try {
            delegate.pool(g, x, wide);
            narrow(wide, out);
        } finally {
            giveBack(x, in);
            giveBack(wide, out);
        }
    }

    @Override
    public void poolPlanar(PlanarGeometry g, Tensor in, Tensor out) {
        widened(in, out, (x, y) -> delegate.poolPlanar(g, x, y));
    }

    @Override
    public void globalPlanar(PoolMode mode, int planes, int planeSize, Tensor in, Tensor out) {
        widened(in, out, (x, y) -> delegate.globalPlanar(mode, planes, planeSize, x, y));
    }

    /** Runs {@code op} on float32 forms of {@code in} and {@code out} (the tensors themselves when they are float32). */
    private void widened(Tensor in, Tensor out, BiConsumer<Tensor, Tensor> op) {
        if (float32(in, out)) {
            op.accept(in, out);
            return;
        }
        Tensor x = widen(in);
        Tensor wide = wide(out);
        try {
            op.accept(x, wide);
            narrow(wide, out);
        } finally {
            giveBack(x, in);
            giveBack(wide, out);
        }
    }

    @Override
    public void global(PoolMode mode, Tensor in, Tensor out) {
        if (float32(in, out)) {
            delegate.global(mode, in, out);
            return;
        }
        Tensor x = widen(in);
        Tensor wide = wide(out);
        try {
            delegate.global(mode, x, wide);
            narrow(wide, out);
        } finally {
            giveBack(x, in);
            giveBack(wide, out);
        }
    }

    @Override
    public void backward(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn) {
        if (float32(in, gradOut) && gradIn.dtype() == DType.FLOAT32) {
            delegate.backward(g, in, gradOut, gradIn);
            return;
        }
        backwardWidened(g.mode(), in, gradOut, gradIn, (x, dy, dx) -> {
            delegate.backward(g, x, dy, dx);
            return true;
        });
    }

    /**
     * The delegate's one-pass kernel, on float32 forms of 16-bit tensors (the gradient rounded
     * once); where the delegate has none, nothing is written and the caller lowers the operation.
     */
    @Override
    public boolean backwardPlanar(PoolMode mode, Axis[] axes, int planes, Tensor in, Tensor gradOut, Tensor gradIn) {
        if (float32(in, gradOut) && gradIn.dtype() == DType.FLOAT32) {
            return delegate.backwardPlanar(mode, axes, planes, in, gradOut, gradIn);
        }
        return delegate.hasBackwardPlanar(mode, axes) && backwardWidened(mode, in, gradOut, gradIn,
                (x, dy, dx) -> delegate.backwardPlanar(mode, axes, planes, x, dy, dx));
    }

    @Override
    public boolean hasBackwardPlanar(PoolMode mode, Axis[] axes) {
        return delegate.hasBackwardPlanar(mode, axes);
    }

    /** A backward on float32 tensors: true once it wrote the whole gradient. */
    @FunctionalInterface
    private interface Backward {
        boolean run(Tensor in, Tensor gradOut, Tensor gradIn);
    }

    /** Runs {@code op} on float32 forms of the tensors and, where it wrote the gradient, rounds it once into {@code gradIn}. */
    private boolean backwardWidened(PoolMode mode, Tensor in, Tensor gradOut, Tensor gradIn, Backward op) {
        // Avg's gradient depends on dy and the geometry only: its x is never read, so not converted.
        Tensor x = mode == PoolMode.AVG && in.dtype() != DType.FLOAT32 ? temporary(in) : widen(in);
        Tensor dy = widen(gradOut);
        Tensor wide = wide(gradIn);
        try {
            boolean done = op.run(x, dy, wide);
            if (done) {
                narrow(wide, gradIn);
            }
            return done;
        } finally {
            giveBack(x, in);
            giveBack(dy, gradOut);
            giveBack(wide, gradIn);
        }
    }

    @Override
    public void adaptive(AdaptiveGeometry g, Tensor in, Tensor out) {
        if (float32(in, out)) {
            delegate.adaptive(g, in, out);
            return;
        }
        Tensor x = widen(in);
        Tensor wide = wide(out);
        try {
            delegate.adaptive(g, x, wide);
            narrow(wide, out);
        } finally {
            giveBack(x, in);
            giveBack(wide, out);
        }
    }

    @Override
    public void maxWithIndices(PoolGeometry g, Tensor in, Tensor out, Indices indices) {
        widened(in, out, (x, y) -> delegate.maxWithIndices(g, x, y, indices));
    }

    @Override
    public void maxWithNhwcPlaneIndices(PoolGeometry g, Tensor in, Tensor out, Indices indices, int channels) {
        widened(in, out, (x, y) -> delegate.maxWithNhwcPlaneIndices(g, x, y, indices, channels));
    }

    @Override
    public void convert(Tensor src, Tensor dst) {
        delegate.convert(src, dst);
    }

    /** Unpooling copies values bit for bit, so every storage type passes straight through. */
    @Override
    public void unpool(Tensor values, Indices indices, UnpoolGeometry g, Tensor out) {
        delegate.unpool(values, indices, g, out);
    }

    @Override
    public void close() {
        synchronized (idle) {
            idle.clear();
            idleBytes = 0;
        }
        delegate.close();
    }

    private static boolean float32(Tensor a, Tensor b) {
        return a.dtype() == DType.FLOAT32 && b.dtype() == DType.FLOAT32;
    }

    /** {@code t} as float32: itself if it is float32, else a temporary holding its values (exact). */
    private Tensor widen(Tensor t) {
        if (t.dtype() == DType.FLOAT32) {
            return t;
        }
        Tensor wide = temporary(t);
        delegate.convert(t, wide);
        return wide;
    }

    /** Rounds the float32 result into the output, once (nothing to do when the output is the scratch). */
    private void narrow(Tensor wide, Tensor out) {
        if (wide != out) {
            delegate.convert(wide, out);
        }
    }

    /** A float32 scratch output: the output itself when it is float32 already. */
    private Tensor wide(Tensor out) {
        return out.dtype() == DType.FLOAT32 ? out : temporary(out);
    }

    /** A float32 tensor of {@code like}'s shape over a cached or new direct buffer; contents undefined. */
    private Tensor temporary(Tensor like) {
        long bytes = like.byteSize() / like.dtype().byteSize() * Float.BYTES;
        ByteBuffer b = null;
        synchronized (idle) {
            for (int i = 0; i < idle.size(); i++) {
                ByteBuffer c = idle.get(i);
                if (c.capacity() >= bytes && (b == null || c.capacity() < b.capacity())) {
                    b = c;
                }
            }
            if (b != null) {
                idle.remove(b);
                idleBytes -= b.capacity();
            }
        }
        if (b == null) {
            b = ByteBuffer.allocateDirect(Math.toIntExact(bytes));
        }
        ByteBuffer view = b.duplicate().clear().limit(Math.toIntExact(bytes)).slice().order(ByteOrder.nativeOrder());
        return Tensor.wrap(like.tensorShape(), DType.FLOAT32, view);
    }

    /**
     * Keeps the memory of {@code temp} for the next call (unless it is {@code original} itself, or
     * larger than the cache), dropping the oldest idle buffers to stay within {@link #MAX_IDLE_BYTES}.
     */
    private void giveBack(Tensor temp, Tensor original) {
        if (temp == original) {
            return;
        }
        ByteBuffer b = temp.buffer();
        if (b.capacity() > MAX_IDLE_BYTES) {
            return;
        }
        synchronized (idle) {
            while (idleBytes + b.capacity() > MAX_IDLE_BYTES) {
                idleBytes -= idle.remove(0).capacity(); // the oldest make room
            }
            idle.add(b);
            idleBytes += b.capacity();
        }
    }
}
