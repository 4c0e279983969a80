package dev.clpool.cpu;

import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.PoolGeometry;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;

/**
 * Max pooling with indices on the CPU path. The chosen element of each window is found once, by
 * {@link CpuArgmax} (the one CPU argmax, shared with max backward): the tap that {@link CpuBackend#max}
 * would keep (a strictly larger value, or the first NaN), so padding never wins. The value is then
 * that element's own bits, which is bit for bit what {@code pool} computes (the first NaN with its
 * payload, the first of equal zeros), and the index is its position written in the requested
 * {@link IndexConvention}. Values and indices therefore always agree.
 *
 * <p>Every convention is linear in (y, x, c) within a batch item, so indices are formed from four
 * coefficients read off {@link IndexConvention#index} once per operation (and checked at the far
 * corner of the tensor), not by a call per element.
 *
 * <p>With one channel (a channels-first plane viewed as channels-last) the taps come from
 * {@link PlaneArgmax}, a band of output rows of one plane per task: the same taps, in loops that
 * run along W instead of over one-element channel runs.
 */
final class CpuMaxIndices {
    private CpuMaxIndices() {
    }

    static void run(PoolGeometry g, Tensor in, Tensor out, Indices indices, CpuBackward.Parallel parallel) {
        CpuArgmax argmax = new CpuArgmax(g);
        Linear linear = Linear.of(indices.convention(), g.input());
        if (PlaneArgmax.applies(argmax.plan()) && linear != null) {
            planes(new PlaneArgmax(argmax), g, in, out, indices, linear, parallel);
        } else {
            channels(argmax, g, in, out, indices, parallel);
        }
    }

    /** The general path: one output row (n, oy) per task, channels innermost. */
    static void channels(PoolGeometry g, Tensor in, Tensor out, Indices indices, CpuBackward.Parallel parallel) {
        channels(new CpuArgmax(g), g, in, out, indices, parallel);
    }

    private static void channels(CpuArgmax argmax, PoolGeometry g, Tensor in, Tensor out, Indices indices,
                                 CpuBackward.Parallel parallel) {
        Shape is = g.input();
        Shape os = g.output();
        IntBuffer bits = CpuArgmax.bits(in);
        FloatBuffer dst = out.floats();
        LongBuffer idx = indices.longs();
        IndexConvention conv = indices.convention();
        Linear linear = Linear.of(conv, is);
        int c = is.c();
        int width = os.w() * c;
        int rowLen = is.w() * c;
        int[] tapOffsets = linear == null ? null : linear.tapOffsets(argmax);
        if (tapOffsets != null) {
            chosen(argmax, g, CpuArgmax.bits(out), idx, linear, tapOffsets, bits, parallel);
            return;
        }
        parallel.run(os.n() * os.h(), task -> {
            int n = task / os.h();
            int oy = task % os.h();
            Scratch s = Scratch.get();
            int[][] raw = s.ints(0, g.rows().window(), rowLen);
            int[] tap = s.ints(4, 1, width)[0];
            argmax.row(bits, n, oy, raw, tap, s);
            float[] v = s.floats(0, width);
            long[] ix = s.longs(width);
            long base = linear == null ? 0 : linear.base(n);
            for (int ox = 0, i = 0; ox < os.w(); ox++) {
                for (int ch = 0; ch < c; ch++, i++) {
                    int t = tap[i];
                    int y = argmax.tapRow(oy, t);
                    int x = argmax.tapColumn(ox, t);
                    v[i] = Float.intBitsToFloat(raw[argmax.tapJy(t)][x * c + ch]);
                    ix[i] = linear == null ? conv.index(is, n, y, x, ch) : base + linear.y * y + linear.x * x + linear.c * ch;
                }
            }
            int o = Math.toIntExact(os.offset(n, oy, 0, 0));
            dst.put(o, v, 0, width);
            idx.put(o, ix, 0, width);
        });
    }

    /**
     * The general path where the convention is linear: {@link CpuArgmax#chosen} hands each output
     * element its value's bits and its tap's index offset, and the index is the output row's base
     * plus a per-column part (the same for every row, formed once) plus that offset.
     */
    private static void chosen(CpuArgmax argmax, PoolGeometry g, IntBuffer values, LongBuffer idx, Linear linear,
                               int[] tapOffsets, IntBuffer bits, CpuBackward.Parallel parallel) {
        Shape os = g.output();
        int c = g.input().c();
        int width = os.w() * c;
        long[] columns = new long[width];
        for (int ox = 0, i = 0; ox < os.w(); ox++) {
            for (int ch = 0; ch < c; ch++, i++) {
                columns[i] = linear.x * argmax.tapColumn(ox, 0) + linear.c * ch;
            }
        }
        parallel.run(os.n() * os.h(), task -> {
            int n = task / os.h();
            int oy = task % os.h();
            Scratch s = Scratch.get();
            int[][] out = s.ints(4, 2, width);
            argmax.chosen(bits, n, oy, out[0], out[1], tapOffsets, s);
            int[] off = out[1];
            long[] ix = s.longs(width);
            long base = linear.base(n) + linear.y * argmax.tapRow(oy, 0);
            for (int i = 0; i < width; i++) {
                ix[i] = base + columns[i] + off[i];
            }
            int o = Math.toIntExact(os.offset(n, oy, 0, 0));
            values.put(o, out[0], 0, width);
            idx.put(o, ix, 0, width);
        });
    }

    /** One channel: a band of output rows of one plane per task ({@link PlaneArgmax}). */
    private static void planes(PlaneArgmax argmax, PoolGeometry g, Tensor in, Tensor out, Indices indices, Linear linear,
                               CpuBackward.Parallel parallel) {
        Shape os = g.output();
        IntBuffer bits = CpuArgmax.bits(in);
        FloatBuffer dst = out.floats();
        LongBuffer idx = indices.longs();
        int ow = os.w();
        int bands = argmax.bands();
        parallel.run(os.n() * bands, task -> {
            int n = task / bands;
            int from = argmax.bandStart(task % bands);
            int to = argmax.bandEnd(task % bands);
            Scratch s = Scratch.get();
            PlaneArgmax.Band band = argmax.run(bits, n, from, to, s);
            int[] raw = band.raw();
            int[] tap = band.tap();
            float[] v = s.floats(0, argmax.maxBand());
            long[] ix = s.longs(argmax.maxBand());
            long base = linear.base(n);
            for (int oy = from, i = 0; oy < to; oy++) {
                for (int ox = 0; ox < ow; ox++, i++) {
                    int t = tap[i];
                    v[i] = Float.intBitsToFloat(raw[argmax.staged(band, oy, ox, t)]);
                    ix[i] = base + linear.y * argmax.tapRow(oy, t) + linear.x * argmax.tapColumn(ox, t);
                }
            }
            int o = Math.toIntExact(os.offset(n, from, 0, 0));
            int len = (to - from) * ow;
            dst.put(o, v, 0, len);
            idx.put(o, ix, 0, len);
        });
    }

    /** index = base(n) + y·dy + x·dx + c·dc, or null if the convention is not of that form. */
    private record Linear(long n0, long n, long y, long x, long c) {
        static Linear of(IndexConvention conv, Shape s) {
            long b = conv.index(s, 0, 0, 0, 0);
            Linear l = new Linear(b, conv.index(s, 1, 0, 0, 0) - b, conv.index(s, 0, 1, 0, 0) - b,
                    conv.index(s, 0, 0, 1, 0) - b, conv.index(s, 0, 0, 0, 1) - b);
            int n = s.n() - 1, y = s.h() - 1, x = s.w() - 1, c = s.c() - 1;
            long far = l.base(n) + l.y * y + l.x * x + l.c * c;
            return far == conv.index(s, n, y, x, c) ? l : null;
        }

        long base(int batch) {
            return n0 + n * batch;
        }

        /**
         * Per tap number, its index minus that of its window's first tap (row 0, column 0 of the
         * window, padding or not), or null if one does not fit in an int.
         */
        int[] tapOffsets(CpuArgmax argmax) {
            WindowPlan p = argmax.plan();
            int[] offsets = new int[p.rows.window() * p.cols.window()];
            for (int t = 0; t < offsets.length; t++) {
                long o = y * (argmax.tapRow(0, t) - argmax.tapRow(0, 0)) + x * argmax.tapOffset(t);
                if (o != (int) o) {
                    return null;
                }
                offsets[t] = (int) o;
            }
            return offsets;
        }
    }
}
