package dev.clpool.cpu;

import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.Layout;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import dev.clpool.UnpoolGeometry;
import java.nio.ByteBuffer;
import java.nio.LongBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAccumulator;

/**
 * Max unpooling on the CPU path, for every rank, layout and storage type: values are copied bit
 * for bit (no widening), so it takes 16-bit storage as it is.
 *
 * <p>Two passes. The first decodes every index ({@link UnpoolGeometry#target}) in parallel, only
 * reading: it finds the first bad index in the values' channels-last order (then nothing is written
 * and {@link UnpoolGeometry#badIndex} is thrown) and, for the ONNX conventions, whether every target
 * stays in its value's batch item. The second zero-fills the output and writes each value at its
 * target in the values' channels-last order, so that of several values naming one element the
 * last wins. It runs in parallel over units whose targets stay inside the unit (batch items; (n, c)
 * planes for {@code pytorch} channels-first), and otherwise zero-fills in parallel and scatters in
 * one thread.
 */
final class CpuUnpool {
    /** Elements one validation task decodes. */
    private static final int BLOCK = 1 << 14;
    private static final byte[] ZEROS = new byte[1 << 16];

    private final UnpoolGeometry g;
    private final ByteBuffer src;
    private final LongBuffer idx;
    private final ByteBuffer dst;
    private final int bytes;

    private CpuUnpool(UnpoolGeometry g, Tensor values, Indices indices, Tensor out) {
        this.g = g;
        this.src = values.buffer();
        this.idx = indices.longs();
        this.dst = out.buffer();
        this.bytes = values.dtype().byteSize();
    }

    static void run(UnpoolGeometry g, Tensor values, Indices indices, Tensor out, CpuBackend cpu) {
        g.check(values, indices, out);
        new CpuUnpool(g, values, indices, out).run(cpu);
    }

    private void run(CpuBackend cpu) {
        long count = g.valueCount();
        LongAccumulator firstBad = new LongAccumulator(Math::min, Long.MAX_VALUE);
        AtomicBoolean crossesItems = new AtomicBoolean(false);
        boolean checkItems = !g.itemsIndependent();
        int blocks = (int) ((count + BLOCK - 1) / BLOCK);
        cpu.chunks(blocks, BLOCK, (from, to) ->
                validate((long) from * BLOCK, Math.min(count, (long) to * BLOCK), checkItems, firstBad, crossesItems));
        long bad = firstBad.get();
        if (bad != Long.MAX_VALUE) {
            throw g.badIndex(bad, idx.get((int) g.storageOffset(bad)));
        }
        TensorShape vs = g.values();
        TensorShape os = g.output();
        if (crossesItems.get()) {
            cpu.chunks(os.n(), os.itemSize(), (from, to) -> zero((long) from * os.itemSize(), (long) to * os.itemSize()));
            scatter(0, vs.n());
            return;
        }
        boolean planes = vs.layout() == Layout.CHANNELS_FIRST && g.convention() == IndexConvention.PYTORCH;
        int units = planes ? vs.n() * vs.c() : vs.n();
        long outUnit = planes ? os.spatialSize() : os.itemSize();
        long inUnit = planes ? vs.spatialSize() : vs.itemSize();
        cpu.chunks(units, inUnit + outUnit, (from, to) -> {
            for (int u = from; u < to; u++) {
                zero(u * outUnit, (u + 1) * outUnit);
                if (planes) {
                    copyRange(u * inUnit, (u + 1) * inUnit);
                } else {
                    scatter(u, u + 1);
                }
            }
        });
    }

    /** Decodes elements [from, to) of the values' storage; records the first bad position and items crossed. */
    private void validate(long from, long to, boolean checkItems, LongAccumulator firstBad, AtomicBoolean crosses) {
        TensorShape vs = g.values();
        long item = vs.itemSize();
        long outItem = g.output().itemSize();
        long plane = vs.spatialSize();
        boolean last = vs.layout() == Layout.CHANNELS_LAST;
        long bad = Long.MAX_VALUE;
        boolean crossed = false;
        for (long s = from; s < to; s++) {
            int n = (int) (s / item);
            int c = (int) (last ? s % vs.c() : s / plane % vs.c());
            long t = g.target(n, c, idx.get((int) s));
            if (t < 0) {
                bad = Math.min(bad, g.channelsLastPosition(s));
            } else if (checkItems && t / outItem != n) {
                crossed = true;
            }
        }
        if (bad != Long.MAX_VALUE) {
            firstBad.accumulate(bad);
        }
        if (crossed) {
            crosses.set(true);
        }
    }

    /** Writes the values of batch items [n0, n1) at their targets, in the values' channels-last order. */
    private void scatter(int n0, int n1) {
        TensorShape vs = g.values();
        long item = vs.itemSize();
        if (vs.layout() == Layout.CHANNELS_LAST) {
            copyRange(n0 * item, n1 * item);
            return;
        }
        long plane = vs.spatialSize();
        int ch = vs.c();
        for (int n = n0; n < n1; n++) {
            for (long q = 0; q < plane; q++) {
                for (int c = 0; c < ch; c++) {
                    copy(n, c, (n * (long) ch + c) * plane + q);
                }
            }
        }
    }

    /** Writes the values at storage offsets [from, to), in storage order. */
    private void copyRange(long from, long to) {
        TensorShape vs = g.values();
        long item = vs.itemSize();
        long plane = vs.spatialSize();
        boolean last = vs.layout() == Layout.CHANNELS_LAST;
        for (long s = from; s < to; s++) {
            copy((int) (s / item), (int) (last ? s % vs.c() : s / plane % vs.c()), s);
        }
    }

    /** Writes the value at storage offset {@code s} (of batch item n, channel c) at its target. */
    private void copy(int n, int c, long s) {
        long t = g.target(n, c, idx.get((int) s));
        if (bytes == Float.BYTES) {
            dst.putInt((int) (t * Float.BYTES), src.getInt((int) (s * Float.BYTES)));
        } else {
            dst.putShort((int) (t * Short.BYTES), src.getShort((int) (s * Short.BYTES)));
        }
    }

    /** Zero bits in output elements [from, to). */
    private void zero(long from, long to) {
        long end = to * bytes;
        for (long b = from * bytes; b < end; b += ZEROS.length) {
            int len = (int) Math.min(ZEROS.length, end - b);
            dst.put((int) b, ZEROS, 0, len);
        }
    }
}
