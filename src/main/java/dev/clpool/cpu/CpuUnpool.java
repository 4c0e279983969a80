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
 *
 * <p>Both passes walk "runs" of the values' storage that share what decoding needs: a pixel's C
 * channels (channels-last) or one (n, c) plane (channels-first), so batch item and channel are
 * counted, not divided out, per element.
 */
final class CpuUnpool {
    private static final byte[] ZEROS = new byte[1 << 16];

    private final UnpoolGeometry g;
    private final UnpoolGeometry.Decoder decoder;
    private final ByteBuffer src;
    private final LongBuffer idx;
    private final ByteBuffer dst;
    private final int bytes;
    private final boolean last;
    /** Elements per batch item, per plane, channels (of the values). */
    private final long item;
    private final long plane;
    private final int ch;

    private CpuUnpool(UnpoolGeometry g, Tensor values, Indices indices, Tensor out) {
        this.g = g;
        this.decoder = g.decoder();
        this.src = values.buffer();
        this.idx = indices.longs();
        this.dst = out.buffer();
        this.bytes = values.dtype().byteSize();
        TensorShape vs = g.values();
        this.last = vs.layout() == Layout.CHANNELS_LAST;
        this.item = vs.itemSize();
        this.plane = vs.spatialSize();
        this.ch = vs.c();
    }

    static void run(UnpoolGeometry g, Tensor values, Indices indices, Tensor out, CpuBackend cpu) {
        g.check(values, indices, out);
        new CpuUnpool(g, values, indices, out).run(cpu);
    }

    private void run(CpuBackend cpu) {
        TensorShape vs = g.values();
        TensorShape os = g.output();
        LongAccumulator firstBad = new LongAccumulator(Math::min, Long.MAX_VALUE);
        AtomicBoolean crossesItems = new AtomicBoolean(false);
        boolean checkItems = !g.itemsIndependent();
        // Runs: pixels of C channels (channels-last) or planes (channels-first).
        long runLength = last ? ch : plane;
        int runs = Math.toIntExact(vs.elementCount() / runLength);
        cpu.chunks(runs, runLength, (from, to) -> validate(from, to, checkItems, firstBad, crossesItems));
        long bad = firstBad.get();
        if (bad != Long.MAX_VALUE) {
            throw g.badIndex(bad, idx.get((int) g.storageOffset(bad)));
        }
        if (crossesItems.get()) {
            cpu.chunks(os.n(), os.itemSize(), (from, to) -> zero(from * os.itemSize(), to * os.itemSize()));
            scatterItems(0, vs.n());
            return;
        }
        boolean planes = !last && g.convention() == IndexConvention.PYTORCH;
        int units = planes ? vs.n() * ch : vs.n();
        long outUnit = planes ? os.spatialSize() : os.itemSize();
        long inUnit = planes ? plane : item;
        cpu.chunks(units, inUnit + outUnit, (from, to) -> {
            for (int u = from; u < to; u++) {
                zero(u * outUnit, (u + 1) * outUnit);
                if (planes) {
                    copyRun(u / ch, u % ch, u * inUnit, inUnit, 1, 0);
                } else {
                    scatterItems(u, u + 1);
                }
            }
        });
    }

    /** Decodes runs [from, to); records the first bad position and whether a target leaves its item. */
    private void validate(int from, int to, boolean checkItems, LongAccumulator firstBad, AtomicBoolean crosses) {
        long outItem = g.output().itemSize();
        long bad = Long.MAX_VALUE;
        boolean crossed = false;
        for (int r = from; r < to; r++) {
            int n = (int) (last ? r / plane : r / ch);
            int c0 = last ? 0 : r % ch;
            long len = last ? ch : plane;
            long s0 = r * len;
            for (long k = 0; k < len; k++) {
                long t = decoder.target(n, last ? (int) k : c0, idx.get((int) (s0 + k)));
                if (t < 0) {
                    bad = Math.min(bad, g.channelsLastPosition(s0 + k));
                } else if (checkItems && t / outItem != n) {
                    crossed = true;
                }
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
    private void scatterItems(int n0, int n1) {
        for (int n = n0; n < n1; n++) {
            for (long q = 0; q < plane; q++) {
                if (last) {
                    copyRun(n, 0, (n * plane + q) * ch, ch, 1, 1);
                } else {
                    copyRun(n, 0, n * item + q, ch, plane, 1);
                }
            }
        }
    }

    /**
     * Writes {@code len} values of batch item {@code n} at their targets: storage offsets
     * {@code s0 + k*step}, channel {@code c0 + k*cStep}, in that order.
     */
    private void copyRun(int n, int c0, long s0, long len, long step, int cStep) {
        long s = s0;
        int c = c0;
        for (long k = 0; k < len; k++, s += step, c += cStep) {
            long t = decoder.target(n, c, idx.get((int) s));
            if (bytes == Float.BYTES) {
                dst.putInt((int) (t * Float.BYTES), src.getInt((int) (s * Float.BYTES)));
            } else {
                dst.putShort((int) (t * Short.BYTES), src.getShort((int) (s * Short.BYTES)));
            }
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
