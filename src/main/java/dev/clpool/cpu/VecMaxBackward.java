package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API gather of max backward over channels-last rows, the twin of the max branch of
 * {@link CpuBackward#run}; loaded only behind {@link VectorSupport#ENABLED}.
 *
 * <p>Each input element sums, in double, the gradients of the outputs that chose it, in the order
 * the scalar loop adds them (output rows ascending, then output columns ascending), from +0, and
 * is rounded to float once with one canonical NaN: the same bits as the scalar path. Channels run
 * in lanes of one double vector ({@code D.length()}: 8 on AVX-512), read as floats and widened; an
 * output's gradient counts in a lane where its chosen tap number (from {@link VecArgmax#taps})
 * is the tap that lies on the element, and adds +0 elsewhere (which leaves a sum that started at
 * +0 unchanged). An input element's contributions are listed once per column (the outputs whose
 * windows hold it) and then run over every vector of channels, each sum in registers; the element
 * is written once, with no accumulator row. Method signatures use JDK types only.
 */
final class VecMaxBackward {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> T = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** The lanes of a float vector that the low double vector widens. */
    private static final VectorMask<Float> LOW = F.indexInRange(0, D.length());
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VecMaxBackward() {
    }


    /**
     * One input row: its gradients, from every output row whose windows hold it.
     *
     * @param taps      every output element's chosen tap number ({@code jy·kw + jx}), in output order
     * @param dy        the output gradient's float32 bytes
     * @param dx        the input gradient's float32 bytes: elements {@code at..at + iw·c} are written
     * @param outAt     per output row holding this input row ({@code rows} of them, ascending): its first element
     * @param rowTap    per such output row: the tap number of its window's column tap 0 in this input row
     * @param colFrom   the columns' inverse window map ({@link CpuBackward.Inverse#from})
     * @param colOutput the columns' inverse window map ({@link CpuBackward.Inverse#outputs})
     * @param colStart  per output column: input column of its tap 0
     * @param dw        column dilation
     * @param c         channels, at least {@link VecWidth#floats()}
     * @param iw        input columns
     * @param list      scratch of at least {@code 2·rows·(most outputs per input column)} ints
     */
    static void row(int[] taps, ByteBuffer dy, ByteBuffer dx, int[] outAt, int[] rowTap, int rows,
                    int[] colFrom, int[] colOutput, int[] colStart, int dw, int c, int iw, int at, int[] list) {
        int half = list.length / 2;
        for (int x = 0; x < iw; x++) {
            int count = 0;
            for (int r = 0; r < rows; r++) {
                for (int k = colFrom[x]; k < colFrom[x + 1]; k++, count++) {
                    int ox = colOutput[k];
                    list[count] = outAt[r] + ox * c;
                    list[half + count] = rowTap[r] + (x - colStart[ox]) / dw;
                }
            }
            for (int ch = 0; ch < c; ch += F.length()) {
                int ch0 = Math.min(ch, c - F.length());
                sum(taps, dy, dx, list, half, count, ch0, (at + x * c + ch0) * Float.BYTES);
            }
        }
    }

    /**
     * One element's channels [ch0, ch0 + lanes): its {@code count} listed contributions, summed and
     * written at byte {@code to}. Up to two are summed in float: {@code (+0 + a) + b} rounded once
     * to float is the double sum rounded to float (a double holds more than twice a float's
     * precision, so rounding the exact sum twice gives the float rounding), so the bits are the
     * same; more go through double lanes. {@link VecPlaneMaxGather} lists one-channel planes'
     * contributions the same way (a vector of consecutive output columns per entry, {@code ch0} 0).
     */
    static void sum(int[] taps, ByteBuffer dy, ByteBuffer dx, int[] list, int half, int count, int ch0, int to) {
        FloatVector r = FloatVector.zero(F);
        if (count <= 2) {
            for (int k = 0; k < count; k++) {
                r = r.add(contribution(taps, dy, list[k] + ch0, list[half + k]));
            }
        } else {
            DoubleVector low = DoubleVector.zero(D);
            DoubleVector high = DoubleVector.zero(D);
            for (int k = 0; k < count; k++) {
                FloatVector g = contribution(taps, dy, list[k] + ch0, list[half + k]);
                low = low.add(g.convertShape(VectorOperators.F2D, D, 0));
                high = high.add(g.convertShape(VectorOperators.F2D, D, 1));
            }
            r = ((FloatVector) high.convertShape(VectorOperators.D2F, F, -1))
                    .blend((FloatVector) low.convertShape(VectorOperators.D2F, F, 0), LOW);
        }
        r.blend(Float.NaN, r.compare(VectorOperators.NE, r)).intoByteBuffer(dx, to, ORDER);
    }

    /** The gradients at output element {@code e} onwards in the lanes whose chosen tap is {@code tap}, +0 in the others. */
    private static FloatVector contribution(int[] taps, ByteBuffer dy, int e, int tap) {
        // Tap numbers compared as float bits (small non-negative ints: exact), so that the mask blends floats.
        FloatVector chosen = IntVector.fromArray(T, taps, e).reinterpretAsFloats();
        FloatVector g = FloatVector.fromByteBuffer(F, dy, e * Float.BYTES, ORDER);
        return FloatVector.zero(F).blend(g, chosen.compare(VectorOperators.EQ, Float.intBitsToFloat(tap)));
    }
}
