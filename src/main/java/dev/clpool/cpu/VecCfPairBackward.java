package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernels of {@link CfPairBackward}: max and avg backward of channels-first planes
 * whose windows tile the input (window = stride on every axis, two columns wide, no padding,
 * dilation 1), one row of windows at a time; loaded only behind {@link VectorSupport#ENABLED}.
 *
 * <p>Lanes run along the input columns. Max works in int lanes holding the floats' bits (no float
 * operation, so the interpreter's and C1's fallbacks keep NaN payloads too). Each column's largest
 * key over the window's rows ({@link CpuArgmax#keys}' order-preserving keys: −0 is +0, every NaN
 * one value above +∞) and the first row holding it come from one vertical pass; a single-source
 * shuffle swaps each even column with its odd neighbour, and a lane wins where its key is the
 * window's largest and the neighbour's is not an earlier tap holding it (an earlier row, or the
 * same row and the even column). The winner's element takes the output's gradient, every other
 * element of the window +0: the bits of the general path's sum from +0 of the one gradient each
 * element receives (−0 becomes +0, a NaN the canonical NaN). Avg gives every element of a window
 * its output's gradient divided by the window's size, rounded once, as one term of a sum from +0.
 * Method signatures use JDK types only.
 */
final class VecCfPairBackward {
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Lane i takes lane i ^ 1: each column's partner in its window. */
    private static final VectorShuffle<Integer> SWAP = VectorShuffle.fromOp(I, i -> i ^ 1);
    /** Lane i takes lane i/2, or lanes/2 + i/2: an output's gradient on both columns of its window. */
    private static final VectorShuffle<Integer> SPREAD_LOW = VectorShuffle.fromOp(I, i -> i / 2);
    private static final VectorShuffle<Integer> SPREAD_HIGH = VectorShuffle.fromOp(I, i -> I.length() / 2 + i / 2);
    /** The same spreads as gather maps ({@link #spread}). */
    private static final int[] GATHER_LOW = spread(0);
    private static final int[] GATHER_HIGH = spread(I.length() / 2);
    /** The odd lanes: second columns of their windows. */
    private static final VectorMask<Integer> ODD = VectorMask.fromLong(I, 0xAAAAAAAAAAAAAAAAL);
    private static final int NEGATIVE_ZERO = 0x80000000;
    private static final int ABS = 0x7fffffff;
    private static final int INFINITY = 0x7f800000;
    private static final int CANONICAL_NAN = 0x7fc00000;

    private VecCfPairBackward() {
    }

    /** Input columns per vector. */
    static int lanes() {
        return I.length();
    }

    /**
     * The gradient of one row of windows: {@code rows} input rows of {@code iw} columns
     * ({@code iw = 2·ow}, at least two vectors) at element offsets {@code rowAt} in scan order
     * (outer axes first), and the {@code ow} output gradients from element {@code dyAt}.
     */
    static void row(ByteBuffer x, ByteBuffer dy, ByteBuffer dx, int[] rowAt, int rows, int dyAt, int iw, int[] staged) {
        int block = 2 * I.length();
        for (int b = 0; b < iw; b += block) {
            // The last block of a row overlaps the one before it where iw is not a multiple: it
            // writes the same bits again.
            int xb = Math.min(b, iw - block);
            canonical(IntVector.fromByteBuffer(I, dy, (dyAt + xb / 2) * Integer.BYTES, ORDER)).intoArray(staged, 0);
            half(x, dx, rowAt, rows, xb, staged, GATHER_LOW);
            half(x, dx, rowAt, rows, xb + I.length(), staged, GATHER_HIGH);
        }
    }

    /** {@link #row}'s average: every element of a window takes {@code fl(dy / divisor)}. */
    static void avgRow(ByteBuffer dy, ByteBuffer dx, int[] rowAt, int rows, int dyAt, int iw, float divisor) {
        int block = 2 * I.length();
        for (int b = 0; b < iw; b += block) {
            int xb = Math.min(b, iw - block);
            IntVector g = canonical(FloatVector.fromByteBuffer(F, dy, (dyAt + xb / 2) * Float.BYTES, ORDER).div(divisor)
                    .reinterpretAsInts());
            IntVector low = g.rearrange(SPREAD_LOW);
            IntVector high = g.rearrange(SPREAD_HIGH);
            for (int r = 0; r < rows; r++) {
                low.intoByteBuffer(dx, (rowAt[r] + xb) * Integer.BYTES, ORDER);
                high.intoByteBuffer(dx, (rowAt[r] + xb + I.length()) * Integer.BYTES, ORDER);
            }
        }
    }

    /**
     * One vector of columns from {@code col}: their windows' winners take the staged gradients
     * gathered by {@code spread}, the rest +0. No vector crosses this method's boundary: where C2
     * compiled it on its own, a vector argument was boxed at every call (25 MB allocated a call for
     * 3-D U-Net's first level, a payload array per vector), so the gradients come staged in an int
     * array and the keys ({@link CpuArgmax#keys}' order: −0 is +0, every NaN one value above +∞)
     * are formed here. Every key is above {@code Integer.MIN_VALUE}, so the first row always wins
     * from the start value.
     */
    private static void half(ByteBuffer x, ByteBuffer dx, int[] rowAt, int rows, int col, int[] staged, int[] spread) {
        IntVector best = IntVector.broadcast(I, Integer.MIN_VALUE);
        IntVector first = IntVector.zero(I);
        for (int r = 0; r < rows; r++) {
            IntVector b = IntVector.fromByteBuffer(I, x, (rowAt[r] + col) * Integer.BYTES, ORDER);
            IntVector v = b.blend(0, b.compare(VectorOperators.EQ, NEGATIVE_ZERO));
            v = v.blend(CANONICAL_NAN, v.and(ABS).compare(VectorOperators.GT, INFINITY));
            IntVector k = v.lanewise(VectorOperators.XOR, v.lanewise(VectorOperators.ASHR, 31).and(ABS));
            first = first.blend(r, k.compare(VectorOperators.GT, best));
            best = best.max(k);
        }
        IntVector g = IntVector.fromArray(I, staged, 0, spread, 0);
        IntVector other = best.rearrange(SWAP);
        IntVector otherFirst = first.rearrange(SWAP);
        IntVector top = best.max(other);
        VectorMask<Integer> earlier = otherFirst.compare(VectorOperators.LT, first)
                .or(otherFirst.compare(VectorOperators.EQ, first).and(ODD));
        VectorMask<Integer> win = best.compare(VectorOperators.EQ, top)
                .andNot(other.compare(VectorOperators.EQ, top).and(earlier));
        IntVector zero = IntVector.zero(I);
        for (int r = 0; r < rows; r++) {
            zero.blend(g, win.and(first.compare(VectorOperators.EQ, r)))
                    .intoByteBuffer(dx, (rowAt[r] + col) * Integer.BYTES, ORDER);
        }
    }

    /** Float bits with −0 as +0 and every NaN as the canonical NaN. */
    private static IntVector canonical(IntVector b) {
        IntVector v = b.blend(0, b.compare(VectorOperators.EQ, NEGATIVE_ZERO));
        return v.blend(CANONICAL_NAN, v.and(ABS).compare(VectorOperators.GT, INFINITY));
    }

    /**
     * The lanes an output's gradient spreads to, from lane {@code from} of the staged gradients:
     * lane i takes from + i/2 ({@link #half} gathers them).
     */
    private static int[] spread(int from) {
        int[] map = new int[I.length()];
        for (int i = 0; i < map.length; i++) {
            map[i] = from + i / 2;
        }
        return map;
    }
}
