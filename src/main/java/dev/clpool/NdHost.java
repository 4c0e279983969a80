package dev.clpool;

import dev.clpool.backend.Fallback;
import java.nio.LongBuffer;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * The engine's host-tensor operations on tensors that are not 2-D channels-last: each runs as the
 * 2-D channels-last operations on views of the same memory ({@link Lowering}), with float32
 * temporaries from the engine's pool where 3-D needs two passes. Results equal what one N-D kernel
 * would compute: max and indices exactly, sums within SEMANTICS.md's tolerance.
 */
final class NdHost {
    private final PoolingEngine engine;
    private final HostMemoryPool memory;
    private final Fallback exec;

    NdHost(PoolingEngine engine, HostMemoryPool memory, Fallback exec) {
        this.engine = engine;
        this.memory = memory;
        this.exec = exec;
    }

    // ---- windowed pooling ----

    Tensor pool(Tensor in, PoolSpec spec, Tensor out) {
        TensorShape s = in.tensorShape();
        TensorShape want = spec.outputShape(s);
        EngineChecks.requireOutput("output tensor", out, want, in.dtype());
        if (s.layout() == Layout.CHANNELS_FIRST) {
            return planar(in, spec, out);
        }
        if (s.rank() <= 2) {
            engine.pool(in.reshaped(Lowering.view(s)), Lowering.spec2d(spec, s.rank()), out.reshaped(Lowering.view(want)));
            return out;
        }
        boolean onePass = Lowering.planesIdentity(spec) || Lowering.depthIdentity(spec);
        return inFloat32(onePass ? PoolMode.MAX : spec.mode(), in, out, (x, y) -> pool3d(x, spec, y));
    }

    /**
     * Channels-first pooling with the backends' planar kernels, which read along W: one call in 1-D
     * and 2-D; in 3-D the (H, W) pass of every depth slice, then the D pass (window (kd, 1) over
     * (D, H'·W') planes), as for channels-last.
     */
    private Tensor planar(Tensor in, PoolSpec spec, Tensor out) {
        PlanarGeometry[] passes = Lowering.planar(in.tensorShape(), spec);
        if (passes[0] == null || passes[1] == null) {
            PlanarGeometry g = passes[0] != null ? passes[0] : passes[1];
            exec.run(b -> b.poolPlanar(g, in, out));
            return out;
        }
        TensorShape s = in.tensorShape();
        TensorShape mid = midShape(s, spec);
        return inFloat32(spec.mode(), in, out, (x, y) -> {
            try (Tensor t = memory.tensor(mid, x.dtype())) {
                exec.run(b -> b.poolPlanar(passes[0], x, t));
                exec.run(b -> b.poolPlanar(passes[1], t, y));
            }
        });
    }

    private void pool3d(Tensor x, PoolSpec spec, Tensor y) {
        TensorShape s = x.tensorShape();
        TensorShape mid = midShape(s, spec);
        boolean skipPlanes = Lowering.planesIdentity(spec);
        boolean skipDepth = Lowering.depthIdentity(spec);
        if (skipPlanes || skipDepth) {
            PoolSpec only = skipPlanes ? Lowering.depth(spec) : Lowering.planes(spec);
            Shape from = skipPlanes ? Lowering.depth(s) : Lowering.slices(s);
            Shape to = skipPlanes ? Lowering.depth(y.tensorShape()) : Lowering.slices(y.tensorShape());
            engine.pool(x.reshaped(from), only, y.reshaped(to));
            return;
        }
        try (Tensor t = memory.tensor(mid, x.dtype())) {
            engine.pool(x.reshaped(Lowering.slices(s)), Lowering.planes(spec), t.reshaped(Lowering.slices(mid)));
            engine.pool(t.reshaped(Lowering.depth(mid)), Lowering.depth(spec), y.reshaped(Lowering.depth(y.tensorShape())));
        }
    }

    /** The shape after the (H, W) pass of a 3-D spec: (D, H', W'). */
    private static TensorShape midShape(TensorShape s, PoolSpec spec) {
        return Lowering.mid(s, spec.outputShape(s));
    }

    // ---- max with indices ----

    PooledWithIndices poolWithIndices(Tensor in, PoolSpec spec, IndexConvention conv, Tensor values, Indices indices) {
        Objects.requireNonNull(conv, "convention");
        if (spec.mode() != PoolMode.MAX) {
            throw new InvalidSpecException("mode", spec.mode().word(), "indices come with max pooling only");
        }
        TensorShape s = in.tensorShape();
        TensorShape want = spec.outputShape(s);
        EngineChecks.requireOutput("values", values, want, in.dtype());
        EngineChecks.requireIndices(indices, want, conv);
        if (s.rank() <= 2) {
            Shape v = Lowering.view(want);
            if (conv == IndexConvention.NHWC && s.layout() == Layout.CHANNELS_FIRST) {
                // The view's plane positions become nhwc indices of the channels-first tensor where the
                // backend writes them (the CPU path forms them directly; others rewrite them after).
                Shape view = Lowering.view(s);
                PoolGeometry g = Lowering.spec2d(spec, s.rank()).geometry(view);
                Tensor x = in.reshaped(view);
                Tensor y = values.reshaped(v);
                Indices idx = indices.reshaped(TensorShape.of(v), IndexConvention.PYTORCH);
                exec.run(b -> b.maxWithNhwcPlaneIndices(g, x, y, idx, s.c()));
                return new PooledWithIndices(values, indices);
            }
            engine.poolWithIndices(in.reshaped(Lowering.view(s)), Lowering.spec2d(spec, s.rank()), conv,
                    values.reshaped(v), indices.reshaped(TensorShape.of(v), conv));
            return new PooledWithIndices(values, indices);
        }
        indices3d(in, spec, conv, values, indices);
        return new PooledWithIndices(values, indices);
    }

    /** 3-D max with indices: both passes with {@code nhwc} indices, then each output's volume position composed. */
    private void indices3d(Tensor in, PoolSpec spec, IndexConvention conv, Tensor values, Indices indices) {
        TensorShape s = in.tensorShape();
        TensorShape mid = midShape(s, spec);
        TensorShape want = values.tensorShape();
        Shape midSlices = Lowering.slices(mid);
        Shape outDepth = Lowering.depth(want);
        try (Tensor a = memory.tensor(mid, in.dtype());
             Indices ia = Indices.allocate(memory, TensorShape.of(midSlices), IndexConvention.NHWC);
             Indices ib = Indices.allocate(memory, TensorShape.of(outDepth), IndexConvention.NHWC)) {
            engine.poolWithIndices(in.reshaped(Lowering.slices(s)), Lowering.planes(spec), IndexConvention.NHWC,
                    a.reshaped(midSlices), ia);
            engine.poolWithIndices(a.reshaped(Lowering.depth(mid)), Lowering.depth(spec), IndexConvention.NHWC,
                    values.reshaped(outDepth), ib);
            compose(s, mid, outDepth, ia.longs(), ib.longs(), conv, indices.longs());
        }
    }

    /**
     * Output (n', od, q, c') of the D pass chose depth z = ib / (H'W'·C'); the (H, W) pass chose
     * plane position ia[(n'·D + z), q, c'] / C' = y·W + x of that slice.
     */
    static void compose(TensorShape s, TensorShape mid, Shape outDepth, LongBuffer ia, LongBuffer ib,
                                IndexConvention conv, LongBuffer out) {
        int batch = Lowering.batch(s);
        long cv = Lowering.channels(s);
        long d = s.spatial(0);
        long h = s.spatial(1);
        long w = s.spatial(2);
        long midPlane = (long) mid.spatial(1) * mid.spatial(2);
        long perItem = (long) outDepth.h() * outDepth.w() * cv;
        boolean first = s.layout() == Layout.CHANNELS_FIRST;
        long channels = s.c();
        IntStream.range(0, batch).parallel().forEach(nb -> {
            for (long j = nb * perItem, end = j + perItem; j < end; j++) {
                long cl = j % cv;
                long q = (j / cv) % midPlane;
                long z = ib.get((int) j) / (midPlane * cv);
                long pos = ia.get((int) (((nb * d + z) * midPlane + q) * cv + cl)) / cv;
                long n = first ? nb / channels : nb;
                long c = first ? nb % channels : cl;
                out.put((int) j, Lowering.index3d(conv, n, c, channels, z, pos / w, pos % w, d, h, w));
            }
        });
    }

    // ---- backward ----

    Tensor backward(Tensor x, Tensor dy, PoolSpec spec, Tensor dx) {
        TensorShape s = x.tensorShape();
        TensorShape out = EngineChecks.backwardOutput(s, dy.tensorShape(), spec);
        if (dy.dtype() != x.dtype()) {
            throw new InvalidSpecException("gradOutput dtype", dy.dtype(), "must equal the input's dtype " + x.dtype());
        }
        EngineChecks.requireOutput("gradInput", dx, s, x.dtype());
        if (dx == x || dx == dy) {
            throw new IllegalArgumentException("gradInput is " + (dx == x ? "input" : "gradOutput")
                    + ": the gradient needs a tensor of its own");
        }
        if (s.layout() == Layout.CHANNELS_FIRST && planarBackward(x, dy, spec, dx)) {
            return dx;
        }
        if (s.rank() <= 2) {
            engine.backward(x.reshaped(Lowering.view(s)), dy.reshaped(Lowering.view(out)), Lowering.spec2d(spec, s.rank()),
                    dx.reshaped(Lowering.view(s)));
            return dx;
        }
        if (x.dtype() != DType.FLOAT32) {
            try (Tensor x32 = widened(x); Tensor dy32 = widened(dy); Tensor dx32 = memory.tensor(s, DType.FLOAT32)) {
                backward3d(x32, dy32, spec, dx32);
                convert(dx32, dx);
            }
            return dx;
        }
        backward3d(x, dy, spec, dx);
        return dx;
    }

    /**
     * A channels-first backward in one pass, where the backend has a kernel for the geometry
     * ({@link dev.clpool.backend.PoolingBackend#backwardPlanar}): no lowering, no temporaries.
     */
    private boolean planarBackward(Tensor x, Tensor dy, PoolSpec spec, Tensor dx) {
        TensorShape s = x.tensorShape();
        Axis[] axes = spec.axes(s);
        int planes = Math.multiplyExact(s.n(), s.c());
        boolean[] done = new boolean[1];
        exec.run(b -> done[0] = b.backwardPlanar(spec.mode(), axes, planes, x, dy, dx));
        return done[0];
    }

    /** The D pass's backward gives the gradient of the (H, W) pass's output; that pass's backward gives dx. */
    private void backward3d(Tensor x, Tensor dy, PoolSpec spec, Tensor dx) {
        TensorShape s = x.tensorShape();
        TensorShape mid = midShape(s, spec);
        try (Tensor a = memory.tensor(mid, DType.FLOAT32); Tensor g = memory.tensor(mid, DType.FLOAT32)) {
            PoolSpec planes = Lowering.planes(spec);
            if (spec.mode() == PoolMode.MAX) {
                engine.pool(x.reshaped(Lowering.slices(s)), planes, a.reshaped(Lowering.slices(mid)));
            }
            // avg reads only the input's shape: a is not filled.
            engine.backward(a.reshaped(Lowering.depth(mid)), dy.reshaped(Lowering.depth(dy.tensorShape())),
                    Lowering.depth(spec), g.reshaped(Lowering.depth(mid)));
            engine.backward(x.reshaped(Lowering.slices(s)), g.reshaped(Lowering.slices(mid)), planes,
                    dx.reshaped(Lowering.slices(s)));
        }
    }

    // ---- adaptive ----

    /** The output shape of adaptive pooling of {@code in} to {@code size} (one number per spatial axis). */
    static TensorShape adaptiveShape(TensorShape in, int[] size) {
        Objects.requireNonNull(size, "output size");
        if (size.length != in.rank()) {
            throw new InvalidSpecException("output size", PoolSpec.text(size), "needs " + in.rank()
                    + " numbers for a " + in.rank() + "-D input");
        }
        for (int v : size) {
            if (v < 1) {
                throw new InvalidSpecException("output size", PoolSpec.text(size), "must be >= 1 on each axis");
            }
        }
        return in.withSpatial(size);
    }

    Tensor adaptive(PoolMode mode, Tensor in, int[] size, Tensor out) {
        TensorShape s = in.tensorShape();
        TensorShape want = adaptiveShape(s, size);
        EngineChecks.requireOutput("output tensor", out, want, in.dtype());
        if (s.rank() <= 2) {
            Shape v = Lowering.view(want);
            engine.adaptive(mode, in.reshaped(Lowering.view(s)), v.h(), v.w(), out.reshaped(v));
            return out;
        }
        return inFloat32(mode, in, out, (x, y) -> {
            TensorShape mid = s.withSpatial(s.spatial(0), size[1], size[2]);
            try (Tensor t = memory.tensor(mid, x.dtype())) {
                engine.adaptive(mode, x.reshaped(Lowering.slices(s)), size[1], size[2], t.reshaped(Lowering.slices(mid)));
                Shape dv = Lowering.depth(mid);
                engine.adaptive(mode, t.reshaped(dv), size[0], dv.w(), y.reshaped(Lowering.depth(want)));
            }
        });
    }

    // ---- global ----

    /** Global avg or max over all spatial positions: the tensor as (N', 1, D·H·W, C'). */
    Tensor global(PoolMode mode, Tensor in, Tensor out) {
        TensorShape s = in.tensorShape();
        EngineChecks.requireOutput("output tensor", out, s.global(), in.dtype());
        if (s.layout() == Layout.CHANNELS_FIRST) {
            int size = Math.toIntExact(s.spatialSize());
            exec.run(b -> b.globalPlanar(mode, s.n() * s.c(), size, in, out));
            return out;
        }
        Shape flat = Shape.of(Lowering.batch(s), 1, Math.toIntExact(s.spatialSize()), Lowering.channels(s));
        engine.global(mode, in.reshaped(flat), out.reshaped(Shape.of(flat.n(), 1, 1, flat.c())));
        return out;
    }

    /**
     * Global lp, {@code (sum |x|^p)^(1/p)} over each plane, any rank and layout: |x|^p in float32,
     * its accurate global average on the engine's backend, then times the plane size to the 1/p.
     */
    Tensor globalLp(Tensor in, double p, Tensor out) {
        if (!(p > 0) || Double.isInfinite(p)) {
            throw new InvalidSpecException("p", p, "must be a finite number > 0");
        }
        TensorShape s = in.tensorShape();
        EngineChecks.requireOutput("output tensor", out, s.global(), in.dtype());
        Shape flat = Shape.of(Lowering.batch(s), 1, Math.toIntExact(s.spatialSize()), Lowering.channels(s));
        Shape pooled = Shape.of(flat.n(), 1, 1, flat.c());
        try (Tensor powers = memory.tensor(flat, DType.FLOAT32); Tensor mean = memory.tensor(pooled, DType.FLOAT32);
             Tensor result = memory.tensor(s.global(), DType.FLOAT32)) {
            int count = Math.toIntExact(s.elementCount());
            int step = 1 << 16;
            IntStream.range(0, (count + step - 1) / step).parallel().forEach(i -> {
                int from = i * step;
                int to = Math.min(count, from + step);
                float[] v = values(in, from, to);
                java.nio.FloatBuffer dst = powers.floats();
                for (int j = from; j < to; j++) {
                    dst.put(j, (float) Math.pow(Math.abs(v[j - from]), p));
                }
            });
            engine.global(PoolMode.AVG, powers, mean);
            java.nio.FloatBuffer m = mean.floats();
            java.nio.FloatBuffer r = result.floats();
            double size = s.spatialSize();
            for (int i = 0; i < m.capacity(); i++) {
                r.put(i, (float) Math.pow(m.get(i) * size, 1 / p));
            }
            convert(result, out);
        }
        return out;
    }

    /** Elements {@code from .. to-1} of {@code t} in storage order, as floats. */
    private static float[] values(Tensor t, int from, int to) {
        float[] v = new float[to - from];
        if (t.dtype() == DType.FLOAT32) {
            t.floats().get(from, v);
            return v;
        }
        short[] bits = new short[v.length];
        t.shorts().get(from, bits);
        for (int i = 0; i < v.length; i++) {
            v[i] = t.dtype() == DType.FLOAT16 ? Float16.toFloat(bits[i]) : BFloat16.toFloat(bits[i]);
        }
        return v;
    }

    // ---- unpooling ----

    /**
     * The unpooling of {@code values} (with {@code indices}, in their convention) by {@code spec}'s
     * window, stride and explicit padding, to {@code outputSize} (null: the default size).
     */
    static UnpoolGeometry unpoolGeometry(Tensor values, Indices indices, PoolSpec spec, int[] outputSize) {
        Objects.requireNonNull(values, "values");
        Objects.requireNonNull(indices, "indices");
        return unpoolGeometry(values.tensorShape(), indices.tensorShape(), indices.convention(), spec, outputSize);
    }

    /** {@link #unpoolGeometry(Tensor, Indices, PoolSpec, int[])} from the shapes and the indices' convention (device tensors too). */
    static UnpoolGeometry unpoolGeometry(TensorShape s, TensorShape indices, IndexConvention convention, PoolSpec spec,
                                         int[] outputSize) {
        Objects.requireNonNull(spec, "spec");
        if (!indices.equals(s)) {
            throw new IllegalArgumentException("indices shape " + indices + ": expected the values' " + s);
        }
        int r = s.rank();
        if (!spec.fitsRank(r)) {
            throw new InvalidSpecException("spec", spec, "is for another rank; the values have spatial rank " + r);
        }
        for (int d : spec.dilation(r)) {
            if (d != 1) {
                throw new InvalidSpecException("dilation", spec, "unpooling takes no dilation");
            }
        }
        Padding p = spec.padding();
        if (p.kind() == Padding.Kind.SAME || p.kind() == Padding.Kind.SAME_LOWER) {
            throw new InvalidSpecException("padding", p, "unpooling needs explicit padding (same depends on the input size"
                    + " it restores)");
        }
        int[] begin = new int[r];
        int[] end = new int[r];
        for (int i = 0; i < r; i++) {
            begin[i] = p.begin(i, p.rank() == 0 ? r : p.rank());
            end[i] = p.end(i, p.rank() == 0 ? r : p.rank());
        }
        return UnpoolGeometry.of(s, spec.window(r), spec.stride(r), begin, end, outputSize, convention);
    }

    Tensor unpool(Tensor values, Indices indices, PoolSpec spec, Tensor out) {
        UnpoolGeometry g = unpoolGeometry(values, indices, spec, Objects.requireNonNull(out, "output").tensorShape().spatial());
        EngineChecks.requireOutput("output tensor", out, g.output(), values.dtype());
        exec.run(b -> b.unpool(values, indices, g, out));
        return out;
    }

    // ---- helpers ----

    /**
     * Runs a two-pass 3-D operation in float32 (one rounding into the storage type at the end);
     * max runs in the storage type as it is (its intermediate values are input values, exact).
     */
    private Tensor inFloat32(PoolMode mode, Tensor in, Tensor out, java.util.function.BiConsumer<Tensor, Tensor> op) {
        if (in.dtype() == DType.FLOAT32 || mode == PoolMode.MAX) {
            op.accept(in, out);
            return out;
        }
        try (Tensor x = widened(in); Tensor y = memory.tensor(out.tensorShape(), DType.FLOAT32)) {
            op.accept(x, y);
            convert(y, out);
        }
        return out;
    }

    private Tensor widened(Tensor t) {
        Tensor w = memory.tensor(t.tensorShape(), DType.FLOAT32);
        convert(t, w);
        return w;
    }

    /** {@code src} into {@code dst}, rounded once: the backend's bulk conversion (the CPU path's threads and lanes). */
    private void convert(Tensor src, Tensor dst) {
        exec.run(b -> b.convert(src, dst));
    }
}
