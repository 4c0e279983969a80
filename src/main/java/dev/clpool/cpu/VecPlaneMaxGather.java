package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API gather of max backward over one-channel planes (channels-first tensors viewed as
 * (N·C, H, W, 1)), the twin of {@link PlaneBackward}'s max bands; loaded only behind
 * {@link VectorSupport#ENABLED}.
 *
 * <p>Lanes run along an input row. Each input element sums, from +0, the gradients of the
 * outputs that chose it, in the order the scalar path adds them (output rows ascending, then
 * output columns ascending), and is rounded to float once with one canonical NaN: the same bits.
 * At column stride 1 the outputs whose column tap {@code jx} lies on a vector of consecutive input
 * columns are consecutive output columns, so a tap's chosen numbers and gradients are two plain
 * loads; at stride 2 the even and the odd input columns are such vectors (each tap reaches one of
 * the two), summed apart and interleaved by two single-source shuffles and a blend per vector
 * (JDK 17 intrinsifies those, not the two-source {@code rearrange}). An output's gradient counts
 * in a lane where its chosen tap number is the tap on that lane's element and adds +0 elsewhere
 * (which leaves a sum started at +0 unchanged): {@link VecMaxBackward#sum}, whose sums of up to
 * two terms in float are the double sums' bits, and of more are in double lanes. Columns near the row's ends, whose windows reach past the output columns, are
 * summed one at a time in double. Method signatures use JDK types only.
 */
final class VecPlaneMaxGather {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Lane i takes lane i/2 (the low half interleaved), or lanes/2 + i/2 (the high half). */
    private static final VectorShuffle<Float> SPREAD_LOW = VectorShuffle.fromOp(F, i -> i / 2);
    private static final VectorShuffle<Float> SPREAD_HIGH = VectorShuffle.fromOp(F, i -> F.length() / 2 + i / 2);
    /** The odd lanes. */
    private static final VectorMask<Float> ODD = VectorMask.fromLong(F, 0xAAAAAAAAAAAAAAAAL);
    /** Per thread, the even and the odd columns' sums of a stride-2 block (a direct buffer, as the tensors'). */
    private static final ThreadLocal<ByteBuffer> LANES =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(2 * F.length() * Float.BYTES).order(ORDER));

    private VecPlaneMaxGather() {
    }

    /**
     * The input columns [lo, hi) that {@link #row} takes in vectors, packed as {@code lo << 32 | hi}:
     * from the first to the last block of a vector's columns per stride phase whose listed output
     * columns all exist (an input column near an end has fewer contributions than its phase's
     * other lanes); the columns outside go one at a time. Empty ({@code hi <= lo}) where no block fits.
     *
     * @param c0 input column of output column 0's tap 0 (negative where the columns are padded)
     */
    static long span(int kw, int dw, int sw, int c0, int ow, int iw) {
        int block = F.length() * sw;
        int lo = 0;
        while (lo + block <= iw && !fits(lo, kw, dw, sw, c0, ow)) {
            lo++;
        }
        int hi = iw - block;
        while (hi > lo && !fits(hi, kw, dw, sw, c0, ow)) {
            hi--;
        }
        return lo + block > iw ? 0 : (long) lo << 32 | (hi + block);
    }

    /** Whether every output column the block of input columns from {@code xb} lists exists. */
    private static boolean fits(int xb, int kw, int dw, int sw, int c0, int ow) {
        for (int phase = 0; phase < sw; phase++) {
            for (int jx = 0; jx < kw; jx++) {
                int d = xb + phase - c0 - jx * dw;
                if (Math.floorMod(d, sw) == 0 && (d < 0 || d / sw + F.length() > ow)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * One input row's gradients.
     *
     * @param taps   every output element's chosen tap number ({@code jy·kw + jx}), in output order
     * @param dy     the output gradient's float32 bytes ({@code dyFloats}: the same as floats)
     * @param dx     the input gradient's float32 bytes ({@code dxFloats}: the same as floats): elements
     *               {@code at..at + iw} are written
     * @param outAt  per output row whose windows hold this input row ({@code rows} of them, ascending): its first element
     * @param rowTap per such output row: the tap number of its window's column tap 0 in this input row
     * @param c0     input column of output column 0's tap 0 (negative where the columns are padded)
     * @param span   {@link #span} of the geometry
     * @param list   scratch of at least {@code 2·rows·kw} ints
     */
    static void row(int[] taps, ByteBuffer dy, ByteBuffer dx, FloatBuffer dyFloats, FloatBuffer dxFloats, int[] outAt,
                    int[] rowTap, int rows, int kw, int dw, int sw, int c0, int ow, int iw, long span, int at,
                    int[] list) {
        ByteBuffer lanes = LANES.get();
        int xLo = (int) (span >>> 32);
        int xHi = Math.max(xLo, (int) span);
        for (int x = 0; x < xLo; x++) {
            single(taps, dyFloats, dxFloats, outAt, rowTap, rows, kw, dw, sw, c0, ow, at, x);
        }
        for (int x = xHi; x < iw; x++) {
            single(taps, dyFloats, dxFloats, outAt, rowTap, rows, kw, dw, sw, c0, ow, at, x);
        }
        int half = list.length / 2;
        int block = F.length() * sw;
        for (int x = xLo; x < xHi; x += block) {
            // Every block between the first and the last fits too: its listed output columns lie
            // between theirs (same phase: further along; other phase: an element of the last
            // block's other phase or one two columns before it).
            int xb = Math.min(x, xHi - block);
            for (int phase = 0; phase < sw; phase++) {
                int count = 0;
                for (int r = 0; r < rows; r++) {
                    for (int jx = kw - 1; jx >= 0; jx--) {
                        int d = xb + phase - c0 - jx * dw;
                        // A negative d here is of the other phase (odd), never listed.
                        if (d % sw == 0) {
                            list[count] = outAt[r] + d / sw;
                            list[half + count++] = rowTap[r] + jx;
                        }
                    }
                }
                if (sw == 1) {
                    VecMaxBackward.sum(taps, dy, dx, list, half, count, 0, (at + xb) * Float.BYTES);
                } else {
                    VecMaxBackward.sum(taps, dy, lanes, list, half, count, 0, phase * F.length() * Float.BYTES);
                }
            }
            if (sw == 2) {
                int to = (at + xb) * Float.BYTES;
                FloatVector even = FloatVector.fromByteBuffer(F, lanes, 0, ORDER);
                FloatVector odd = FloatVector.fromByteBuffer(F, lanes, F.length() * Float.BYTES, ORDER);
                even.rearrange(SPREAD_LOW).blend(odd.rearrange(SPREAD_LOW), ODD).intoByteBuffer(dx, to, ORDER);
                even.rearrange(SPREAD_HIGH).blend(odd.rearrange(SPREAD_HIGH), ODD)
                        .intoByteBuffer(dx, to + F.length() * Float.BYTES, ORDER);
            }
        }
    }

    /** One element's sum, in double, as the scalar path forms it. */
    private static void single(int[] taps, FloatBuffer dy, FloatBuffer dx, int[] outAt, int[] rowTap, int rows, int kw,
                               int dw, int sw, int c0, int ow, int at, int x) {
        double acc = 0;
        for (int r = 0; r < rows; r++) {
            for (int jx = kw - 1; jx >= 0; jx--) {
                int d = x - c0 - jx * dw;
                if (d < 0 || d % sw != 0 || d / sw >= ow) {
                    continue;
                }
                int e = outAt[r] + d / sw;
                if (taps[e] == rowTap[r] + jx) {
                    acc += dy.get(e);
                }
            }
        }
        dx.put(at + x, CpuBackend.canonicalNaN((float) acc));
    }
}
