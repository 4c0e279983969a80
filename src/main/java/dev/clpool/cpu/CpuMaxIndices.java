package dev.clpool.cpu;

import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.PoolGeometry;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;

/**
 * Max pooling with indices on the CPU path. Each window's chosen element is the one
 * {@link CpuBackend#max} would keep (a strictly larger value, or the first NaN: the first maximum in
 * scan order), never padding; its value is written as that element's own bits, which is bit for
 * bit what {@code pool} computes (the first NaN with its payload, the first of equal zeros), and its
 * index in the requested {@link IndexConvention}. Values and indices therefore always agree.
 *
 * <p>Every convention is linear in (y, x, c) within a batch item ({@link IndexForm}), so the fast
 * paths carry, per output element, the index offset of its chosen tap from its window's first
 * and add the window's base once at the end. They take every tap in one pass
 * ({@link CpuArgmax#take}): channels-last rows in {@link ArgmaxRows}, one channel (channels-first
 * planes viewed as channels-last) in {@link ArgmaxPlanes}, a band of output rows of one or more
 * planes per task. {@link #channels} is the two-pass path of tap numbers ({@link CpuArgmax#row},
 * which max backward uses too), kept where an index offset would overflow an int and as the
 * reference the tests compare the fast paths with.
 */
final class CpuMaxIndices {
    private CpuMaxIndices() {
    }

    static void run(PoolGeometry g, Tensor in, Tensor out, Indices indices, CpuBackward.Parallel parallel) {
        run(g, in, out, indices, IndexForm.of(indices.convention(), g.input()), parallel);
    }

    /**
     * Channels-first planes viewed as one channel ({@code g.input()} is (N·C, H, W, 1)) with
     * {@code indices} in SEMANTICS.md's {@code nhwc} convention of the channels-first tensor, which
     * has {@code channels} channels: {@code (y·W + x)·C + c}, written as they are formed (no second
     * pass over the indices).
     */
    static void runNhwcPlanes(PoolGeometry g, Tensor in, Tensor out, Indices indices, int channels,
                              CpuBackward.Parallel parallel) {
        run(g, in, out, indices, IndexForm.nhwcPlanes(g.input(), channels), parallel);
    }

    private static void run(PoolGeometry g, Tensor in, Tensor out, Indices indices, IndexForm form,
                            CpuBackward.Parallel parallel) {
        CpuArgmax argmax = new CpuArgmax(g);
        int[] offsets = form == null ? null
                : form.tapOffsets(argmax.plan().rows.window(), argmax.plan().cols.window(), argmax.plan().dh,
                        argmax.plan().dw);
        if (offsets == null) {
            channels(argmax, g, in, out, indices, form, parallel);
        } else if (ArgmaxPlanes.applies(g)) {
            planes(new ArgmaxPlanes(argmax.plan(), form, offsets), in, out, indices, parallel);
        } else {
            rows(ArgmaxRows.of(argmax.plan(), form), g, in, out, indices, parallel);
        }
    }

    /**
     * Channels-last rows: one output row (n, oy) per task ({@link ArgmaxRows}), in the Vector API
     * where it is on and C fills a vector ({@link ArgmaxRows#vectorRow}).
     */
    private static void rows(ArgmaxRows fused, PoolGeometry g, Tensor in, Tensor out, Indices indices,
                             CpuBackward.Parallel parallel) {
        Shape os = g.output();
        if (fused.vectors()) {
            ByteBuffer from = CpuArgmax.bytes(in);
            ByteBuffer to = CpuArgmax.bytes(out);
            ByteBuffer idx = indices.buffer();
            parallel.run(os.n() * os.h(),
                    task -> fused.vectorRow(from, to, idx, task / os.h(), task % os.h(), Scratch.get()));
            return;
        }
        IntBuffer bits = CpuArgmax.bits(in);
        IntBuffer dst = CpuArgmax.bits(out);
        LongBuffer idx = indices.longs();
        parallel.run(os.n() * os.h(), task -> fused.row(bits, dst, idx, task / os.h(), task % os.h(), Scratch.get()));
    }

    /** The general path: one output row (n, oy) per task, channels innermost. */
    static void channels(PoolGeometry g, Tensor in, Tensor out, Indices indices, CpuBackward.Parallel parallel) {
        channels(new CpuArgmax(g), g, in, out, indices, IndexForm.of(indices.convention(), g.input()), parallel);
    }

    private static void channels(CpuArgmax argmax, PoolGeometry g, Tensor in, Tensor out, Indices indices,
                                 IndexForm form, CpuBackward.Parallel parallel) {
        Shape is = g.input();
        Shape os = g.output();
        IntBuffer bits = CpuArgmax.bits(in);
        FloatBuffer dst = out.floats();
        LongBuffer idx = indices.longs();
        IndexConvention conv = indices.convention();
        int c = is.c();
        int width = os.w() * c;
        int rowLen = is.w() * c;
        parallel.run(os.n() * os.h(), task -> {
            int n = task / os.h();
            int oy = task % os.h();
            Scratch s = Scratch.get();
            int[][] raw = s.ints(0, g.rows().window(), rowLen);
            int[] tap = s.ints(4, 1, width)[0];
            argmax.row(bits, n, oy, raw, tap, s);
            float[] v = s.floats(0, width);
            long[] ix = s.longs(width);
            long base = form == null ? 0 : form.base(n);
            for (int ox = 0, i = 0; ox < os.w(); ox++) {
                for (int ch = 0; ch < c; ch++, i++) {
                    int t = tap[i];
                    int y = argmax.tapRow(oy, t);
                    int x = argmax.tapColumn(ox, t);
                    v[i] = Float.intBitsToFloat(raw[argmax.tapJy(t)][x * c + ch]);
                    ix[i] = form == null ? conv.index(is, n, y, x, ch) : base + form.dy() * y + form.dx() * x + form.dc() * ch;
                }
            }
            int o = Math.toIntExact(os.offset(n, oy, 0, 0));
            dst.put(o, v, 0, width);
            idx.put(o, ix, 0, width);
        });
    }

    /**
     * One channel: a band of output rows, of one or more planes, per task ({@link ArgmaxPlanes}),
     * in the Vector API where it is on and output rows fill a vector ({@link ArgmaxPlanes#vectorBand}).
     */
    private static void planes(ArgmaxPlanes fused, Tensor in, Tensor out, Indices indices, CpuBackward.Parallel parallel) {
        if (fused.vectors()) {
            IntBuffer from = CpuArgmax.bits(in);
            ByteBuffer bytes = CpuArgmax.bytes(in);
            ByteBuffer to = CpuArgmax.bytes(out);
            ByteBuffer idx = indices.buffer();
            parallel.run(fused.bands(), b -> fused.vectorBand(from, bytes, to, idx, b, Scratch.get()));
            return;
        }
        IntBuffer bits = CpuArgmax.bits(in);
        IntBuffer dst = CpuArgmax.bits(out);
        LongBuffer idx = indices.longs();
        parallel.run(fused.bands(), b -> fused.band(bits, dst, idx, b, Scratch.get()));
    }
}
