package dev.clpool.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernels of adaptive pooling with many channels (used only where
 * {@link VectorSupport#ENABLED}): one input row's contribution to an output row, each region's
 * columns reduced a vector of channels at a time from the row staged by one bulk copy (no tap
 * copied to an array of its own). {@code row} holds the input row, {@code c} channels per column,
 * and output column {@code ox} covers input columns {@code [x0[ox], x1[ox])}; results go to
 * {@code ox·c + ch} of the arrays. Reading the taps with {@code fromByteBuffer} straight from the
 * tensor (bounds and buffer checks on every load: the offsets come from the region tables, so C2
 * cannot hoist them) cost more than the copy: one thread, thread CPU time, SPP-net's 6×6 level
 * 1.40 → 0.98 ms, VGG-16's adaptive 7×7 0.37 → 0.33 ms. Where {@code c}
 * is not a multiple of the vector length the last vector overlaps the one before it: it writes the
 * overlapped lanes again with the same values. Needs at least {@link VecWidth#floats()} channels.
 */
final class VecAdaptive {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** The most positions past the last whole block of 16 that {@link #transposePlanes} copies one by one. */
    static final int SCALAR_TAIL = 4;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** {@link #transpose}'s shuffles (lane j takes lane j ^ d) and masks (the lanes with bit d set). */
    private static final VectorShuffle<Integer> X1 = VectorShuffle.fromOp(I, j -> j ^ 1);
    private static final VectorShuffle<Integer> X2 = VectorShuffle.fromOp(I, j -> j ^ 2);
    private static final VectorShuffle<Integer> X4 = VectorShuffle.fromOp(I, j -> j ^ 4);
    private static final VectorShuffle<Integer> X8 = VectorShuffle.fromOp(I, j -> (j ^ 8) & (I.length() - 1));
    private static final VectorMask<Integer> M1 = VectorMask.fromLong(I, 0xAAAAL);
    private static final VectorMask<Integer> M2 = VectorMask.fromLong(I, 0xCCCCL);
    private static final VectorMask<Integer> M4 = VectorMask.fromLong(I, 0xF0F0L);
    private static final VectorMask<Integer> M8 = VectorMask.fromLong(I, 0xFF00L);

    private VecAdaptive() {
    }

    /**
     * {@link AdaptiveAvgRows}' sums across each region's columns, lane by lane its arithmetic: the
     * float sum of the columns in order, and beside it the sum of every partial sum's magnitude
     * ({@code |t|} per addition, from +0); for the first row of the regions ({@code first}) written
     * to {@code as} and {@code ab}, else folded into them ({@code t = as + sum}, {@code as = t},
     * {@code ab += bound + |t|}). A last vector of fewer channels goes through {@code tail} (one
     * vector long) and is folded lane by lane, so that no lane is folded twice.
     */
    static void avgAcross(float[] row, int c, int ow, int[] x0, int[] x1, float[] as, float[] ab,
                          boolean first, float[] tail) {
        avgAcross(row, 0, c, ow, x0, x1, as, ab, 0, first, tail);
    }

    /** {@link #avgAcross(float[], int, int, int[], int[], float[], float[], boolean, float[])} of the row at {@code row[base]}. */
    static void avgAcross(float[] row, int base, int c, int ow, int[] x0, int[] x1, float[] as, float[] ab,
                          boolean first, float[] tail) {
        avgAcross(row, base, c, ow, x0, x1, as, ab, 0, first, tail);
    }

    /**
     * {@link #avgAcross(float[], int, int, int[], int[], float[], float[], boolean, float[])} of the
     * row at {@code row[base]}, its results at {@code to + ox·c + ch} of {@code as} and {@code ab}.
     * With {@code first} a last vector of fewer channels is stored whole: the lanes it shares with
     * the vector before get the same values again.
     */
    static void avgAcross(float[] row, int base, int c, int ow, int[] x0, int[] x1, float[] as, float[] ab, int to,
                          boolean first, float[] tail) {
        int step = F.length();
        for (int ox = 0; ox < ow; ox++) {
            for (int ch = 0; ch < c; ch += step) {
                int v = Math.min(ch, c - step);
                int o = base + x0[ox] * c + v;
                FloatVector sum = FloatVector.fromArray(F, row, o);
                FloatVector bound = FloatVector.zero(F);
                for (int x = x0[ox] + 1; x < x1[ox]; x++) {
                    o += c;
                    sum = sum.add(FloatVector.fromArray(F, row, o));
                    bound = bound.add(sum.abs());
                }
                int at = to + ox * c + v;
                if (v != ch && !first) {
                    sum.intoArray(tail, 0);
                    bound.intoArray(tail, step);
                    for (int lane = ch - v; lane < step; lane++) {
                        float t = as[at + lane] + tail[lane];
                        ab[at + lane] = ab[at + lane] + (tail[step + lane] + Math.abs(t));
                        as[at + lane] = t;
                    }
                } else if (first) {
                    sum.intoArray(as, at);
                    bound.intoArray(ab, at);
                } else {
                    FloatVector t = FloatVector.fromArray(F, as, at).add(sum);
                    t.intoArray(as, at);
                    FloatVector.fromArray(F, ab, at).add(bound.add(t.abs())).intoArray(ab, at);
                }
            }
        }
    }

    /**
     * {@link AdaptiveAvgRows}' finish of one region's {@code count} results from {@code at}: each sum
     * in {@code as} becomes {@code (s + 0) / d}, and {@code worst} keeps the maximum of
     * {@code ab·k − max(1, |avg|)} (NaN where that is NaN, as {@link Math#max} keeps it).
     */
    static void avgFinish(float[] as, float[] ab, float[] worst, int at, int count, float d, float k) {
        int step = F.length();
        int i = at;
        for (; i + step <= at + count; i += step) {
            FloatVector v = FloatVector.fromArray(F, as, i).add(0f).div(d);
            v.intoArray(as, i);
            FloatVector excess = FloatVector.fromArray(F, ab, i).mul(k).sub(v.abs().max(1f));
            FloatVector.fromArray(F, worst, i).max(excess).intoArray(worst, i);
        }
        for (; i < at + count; i++) {
            float v = (as[i] + 0f) / d;
            as[i] = v;
            worst[i] = Math.max(worst[i], ab[i] * k - Math.max(1f, Math.abs(v)));
        }
    }

    /**
     * clpool's max ({@link CpuBackend#max}) across each region's columns of the input row at
     * {@code row[base]}, folded into {@code acc} by the same rule ({@code first}: written, for the
     * first row of the regions): a lane keeps its value unless a later one is greater, so ties (−0
     * and +0 included) keep the first in scan order. A NaN is never greater, so every value
     * {@code x} also subtracts {@code x − x} from its lane (+0 for finite values, NaN for a NaN or an
     * infinity, after which the lane stays NaN): the caller redoes a NaN result by the rule, in scan
     * order. (Without the subtractions, compare-and-blend alone is the rule for a row without NaN;
     * testing each staged row for one cost as much as the subtractions it spared: SPP-net's 6×6
     * level, one thread, the same time within the noise.)
     */
    static void maxAcross(float[] row, int base, int c, int ow, int[] x0, int[] x1, float[] acc, boolean first) {
        maxAcross(row, base, c, ow, x0, x1, acc, 0, first);
    }

    /** {@link #maxAcross(float[], int, int, int, int[], int[], float[], boolean)} into {@code acc[to + ox·c + ch]}. */
    static void maxAcross(float[] row, int base, int c, int ow, int[] x0, int[] x1, float[] acc, int to,
                          boolean first) {
        int step = F.length();
        for (int ox = 0; ox < ow; ox++) {
            for (int ch = 0; ch < c; ch += step) {
                int v = Math.min(ch, c - step);
                int o = base + x0[ox] * c + v;
                FloatVector x = FloatVector.fromArray(F, row, o);
                FloatVector m = x.sub(x.sub(x));
                for (int col = x0[ox] + 1; col < x1[ox]; col++) {
                    o += c;
                    x = FloatVector.fromArray(F, row, o);
                    m = m.blend(x, x.compare(VectorOperators.GT, m)).sub(x.sub(x));
                }
                int at = to + ox * c + v;
                if (!first) {
                    FloatVector a = FloatVector.fromArray(F, acc, at);
                    m = a.blend(m, m.compare(VectorOperators.GT, a)).sub(m.sub(m));
                }
                m.intoArray(acc, at);
            }
        }
    }

    /**
     * {@code planes} (at least 16) planes of {@code area} (at least 16) floats each,
     * {@code planar[p·area + i]}, and the same channels-last, {@code lanes[i·planes + p]}: with
     * {@code toLanes} the first turned into the second, else the second into the first, by 16×16
     * blocks ({@link #transpose}; the last block of planes overlapping the one before it). The last
     * {@code area % 16} positions, where at most {@link #SCALAR_TAIL}, are copied element by element
     * instead of by a block that overlaps the one before it: VGG-16's 7×7 outputs took four blocks
     * for 49 positions, the last one to move one (out 0.073 → 0.058 ms a call, in 0.133 → 0.126).
     */
    static void transposePlanes(float[] planar, float[] lanes, int area, int planes, boolean toLanes) {
        int[] mid = Scratch.get().block();
        int tail = area % 16;
        int blocks = tail <= SCALAR_TAIL ? area - tail : area;
        for (int p = 0; p < planes; p += 16) {
            int pb = Math.min(p, planes - 16);
            for (int i = 0; i < blocks; i += 16) {
                int ib = Math.min(i, area - 16);
                if (toLanes) {
                    transpose(planar, pb * area + ib, area, lanes, ib * planes + pb, planes, mid);
                } else {
                    transpose(lanes, ib * planes + pb, planes, planar, pb * area + ib, area, mid);
                }
            }
            // Plain float copies move the bits as they are (NaN payloads included).
            for (int i = blocks; i < area; i++) {
                for (int q = pb; q < pb + 16; q++) {
                    if (toLanes) {
                        lanes[i * planes + q] = planar[q * area + i];
                    } else {
                        planar[q * area + i] = lanes[i * planes + q];
                    }
                }
            }
        }
    }

    /**
     * A 16×16 block: row r of {@code src} from {@code so + r·ss} becomes column r of {@code dst}
     * (row r from {@code dOff + r·ds}), in four steps that swap one bit between the row and the lane
     * number (lanes of one row exchanged with the row {@code d} below by a one-vector shuffle,
     * {@code j ^ d}, and a blend). Needs 16-float vectors. In int lanes: the interpreter's and C1's
     * float {@code rearrange} reads lanes through {@code Float.floatToIntBits}, which would lose NaN
     * payloads. Two methods, steps 8 and 4 then 2 and 1, with the block in {@code mid} (256 ints)
     * between them: each is compiled on its own with 16 conversions, where one method with 32 added
     * up enough of the JDK's trap counts in a long JVM for C2 to box its vectors
     * (docs/cpu-internals.md, "One float species").
     */
    static void transpose(float[] src, int so, int ss, float[] dst, int dOff, int ds, int[] mid) {
        transposeOuter(src, so, ss, mid);
        transposeInner(mid, dst, dOff, ds);
    }

    /** Steps 8 and 4 of {@link #transpose}: the block's rows in, int lanes out to {@code mid} (row r at 16r). */
    private static void transposeOuter(float[] src, int so, int ss, int[] mid) {
        IntVector r0 = FloatVector.fromArray(F, src, so + 0 * ss).reinterpretAsInts();
        IntVector r1 = FloatVector.fromArray(F, src, so + 1 * ss).reinterpretAsInts();
        IntVector r2 = FloatVector.fromArray(F, src, so + 2 * ss).reinterpretAsInts();
        IntVector r3 = FloatVector.fromArray(F, src, so + 3 * ss).reinterpretAsInts();
        IntVector r4 = FloatVector.fromArray(F, src, so + 4 * ss).reinterpretAsInts();
        IntVector r5 = FloatVector.fromArray(F, src, so + 5 * ss).reinterpretAsInts();
        IntVector r6 = FloatVector.fromArray(F, src, so + 6 * ss).reinterpretAsInts();
        IntVector r7 = FloatVector.fromArray(F, src, so + 7 * ss).reinterpretAsInts();
        IntVector r8 = FloatVector.fromArray(F, src, so + 8 * ss).reinterpretAsInts();
        IntVector r9 = FloatVector.fromArray(F, src, so + 9 * ss).reinterpretAsInts();
        IntVector r10 = FloatVector.fromArray(F, src, so + 10 * ss).reinterpretAsInts();
        IntVector r11 = FloatVector.fromArray(F, src, so + 11 * ss).reinterpretAsInts();
        IntVector r12 = FloatVector.fromArray(F, src, so + 12 * ss).reinterpretAsInts();
        IntVector r13 = FloatVector.fromArray(F, src, so + 13 * ss).reinterpretAsInts();
        IntVector r14 = FloatVector.fromArray(F, src, so + 14 * ss).reinterpretAsInts();
        IntVector r15 = FloatVector.fromArray(F, src, so + 15 * ss).reinterpretAsInts();
        IntVector a;
        a = r0;
        r0 = a.blend(r8.rearrange(X8), M8);
        r8 = a.rearrange(X8).blend(r8, M8);
        a = r1;
        r1 = a.blend(r9.rearrange(X8), M8);
        r9 = a.rearrange(X8).blend(r9, M8);
        a = r2;
        r2 = a.blend(r10.rearrange(X8), M8);
        r10 = a.rearrange(X8).blend(r10, M8);
        a = r3;
        r3 = a.blend(r11.rearrange(X8), M8);
        r11 = a.rearrange(X8).blend(r11, M8);
        a = r4;
        r4 = a.blend(r12.rearrange(X8), M8);
        r12 = a.rearrange(X8).blend(r12, M8);
        a = r5;
        r5 = a.blend(r13.rearrange(X8), M8);
        r13 = a.rearrange(X8).blend(r13, M8);
        a = r6;
        r6 = a.blend(r14.rearrange(X8), M8);
        r14 = a.rearrange(X8).blend(r14, M8);
        a = r7;
        r7 = a.blend(r15.rearrange(X8), M8);
        r15 = a.rearrange(X8).blend(r15, M8);
        a = r0;
        r0 = a.blend(r4.rearrange(X4), M4);
        r4 = a.rearrange(X4).blend(r4, M4);
        a = r1;
        r1 = a.blend(r5.rearrange(X4), M4);
        r5 = a.rearrange(X4).blend(r5, M4);
        a = r2;
        r2 = a.blend(r6.rearrange(X4), M4);
        r6 = a.rearrange(X4).blend(r6, M4);
        a = r3;
        r3 = a.blend(r7.rearrange(X4), M4);
        r7 = a.rearrange(X4).blend(r7, M4);
        a = r8;
        r8 = a.blend(r12.rearrange(X4), M4);
        r12 = a.rearrange(X4).blend(r12, M4);
        a = r9;
        r9 = a.blend(r13.rearrange(X4), M4);
        r13 = a.rearrange(X4).blend(r13, M4);
        a = r10;
        r10 = a.blend(r14.rearrange(X4), M4);
        r14 = a.rearrange(X4).blend(r14, M4);
        a = r11;
        r11 = a.blend(r15.rearrange(X4), M4);
        r15 = a.rearrange(X4).blend(r15, M4);
        r0.intoArray(mid, 0);
        r1.intoArray(mid, 16);
        r2.intoArray(mid, 32);
        r3.intoArray(mid, 48);
        r4.intoArray(mid, 64);
        r5.intoArray(mid, 80);
        r6.intoArray(mid, 96);
        r7.intoArray(mid, 112);
        r8.intoArray(mid, 128);
        r9.intoArray(mid, 144);
        r10.intoArray(mid, 160);
        r11.intoArray(mid, 176);
        r12.intoArray(mid, 192);
        r13.intoArray(mid, 208);
        r14.intoArray(mid, 224);
        r15.intoArray(mid, 240);
    }

    /** Steps 2 and 1 of {@link #transpose}: {@code mid}'s int rows in, the block's columns out as floats. */
    private static void transposeInner(int[] mid, float[] dst, int dOff, int ds) {
        IntVector r0 = IntVector.fromArray(I, mid, 0);
        IntVector r1 = IntVector.fromArray(I, mid, 16);
        IntVector r2 = IntVector.fromArray(I, mid, 32);
        IntVector r3 = IntVector.fromArray(I, mid, 48);
        IntVector r4 = IntVector.fromArray(I, mid, 64);
        IntVector r5 = IntVector.fromArray(I, mid, 80);
        IntVector r6 = IntVector.fromArray(I, mid, 96);
        IntVector r7 = IntVector.fromArray(I, mid, 112);
        IntVector r8 = IntVector.fromArray(I, mid, 128);
        IntVector r9 = IntVector.fromArray(I, mid, 144);
        IntVector r10 = IntVector.fromArray(I, mid, 160);
        IntVector r11 = IntVector.fromArray(I, mid, 176);
        IntVector r12 = IntVector.fromArray(I, mid, 192);
        IntVector r13 = IntVector.fromArray(I, mid, 208);
        IntVector r14 = IntVector.fromArray(I, mid, 224);
        IntVector r15 = IntVector.fromArray(I, mid, 240);
        IntVector a;
        a = r0;
        r0 = a.blend(r2.rearrange(X2), M2);
        r2 = a.rearrange(X2).blend(r2, M2);
        a = r1;
        r1 = a.blend(r3.rearrange(X2), M2);
        r3 = a.rearrange(X2).blend(r3, M2);
        a = r4;
        r4 = a.blend(r6.rearrange(X2), M2);
        r6 = a.rearrange(X2).blend(r6, M2);
        a = r5;
        r5 = a.blend(r7.rearrange(X2), M2);
        r7 = a.rearrange(X2).blend(r7, M2);
        a = r8;
        r8 = a.blend(r10.rearrange(X2), M2);
        r10 = a.rearrange(X2).blend(r10, M2);
        a = r9;
        r9 = a.blend(r11.rearrange(X2), M2);
        r11 = a.rearrange(X2).blend(r11, M2);
        a = r12;
        r12 = a.blend(r14.rearrange(X2), M2);
        r14 = a.rearrange(X2).blend(r14, M2);
        a = r13;
        r13 = a.blend(r15.rearrange(X2), M2);
        r15 = a.rearrange(X2).blend(r15, M2);
        a = r0;
        r0 = a.blend(r1.rearrange(X1), M1);
        r1 = a.rearrange(X1).blend(r1, M1);
        a = r2;
        r2 = a.blend(r3.rearrange(X1), M1);
        r3 = a.rearrange(X1).blend(r3, M1);
        a = r4;
        r4 = a.blend(r5.rearrange(X1), M1);
        r5 = a.rearrange(X1).blend(r5, M1);
        a = r6;
        r6 = a.blend(r7.rearrange(X1), M1);
        r7 = a.rearrange(X1).blend(r7, M1);
        a = r8;
        r8 = a.blend(r9.rearrange(X1), M1);
        r9 = a.rearrange(X1).blend(r9, M1);
        a = r10;
        r10 = a.blend(r11.rearrange(X1), M1);
        r11 = a.rearrange(X1).blend(r11, M1);
        a = r12;
        r12 = a.blend(r13.rearrange(X1), M1);
        r13 = a.rearrange(X1).blend(r13, M1);
        a = r14;
        r14 = a.blend(r15.rearrange(X1), M1);
        r15 = a.rearrange(X1).blend(r15, M1);
        r0.reinterpretAsFloats().intoArray(dst, dOff + 0 * ds);
        r1.reinterpretAsFloats().intoArray(dst, dOff + 1 * ds);
        r2.reinterpretAsFloats().intoArray(dst, dOff + 2 * ds);
        r3.reinterpretAsFloats().intoArray(dst, dOff + 3 * ds);
        r4.reinterpretAsFloats().intoArray(dst, dOff + 4 * ds);
        r5.reinterpretAsFloats().intoArray(dst, dOff + 5 * ds);
        r6.reinterpretAsFloats().intoArray(dst, dOff + 6 * ds);
        r7.reinterpretAsFloats().intoArray(dst, dOff + 7 * ds);
        r8.reinterpretAsFloats().intoArray(dst, dOff + 8 * ds);
        r9.reinterpretAsFloats().intoArray(dst, dOff + 9 * ds);
        r10.reinterpretAsFloats().intoArray(dst, dOff + 10 * ds);
        r11.reinterpretAsFloats().intoArray(dst, dOff + 11 * ds);
        r12.reinterpretAsFloats().intoArray(dst, dOff + 12 * ds);
        r13.reinterpretAsFloats().intoArray(dst, dOff + 13 * ds);
        r14.reinterpretAsFloats().intoArray(dst, dOff + 14 * ds);
        r15.reinterpretAsFloats().intoArray(dst, dOff + 15 * ds);
    }

    /** Whether every one of {@code a[0..n)} is at most 0 (a NaN is not). */
    static boolean allAtMostZero(float[] a, int n) {
        int step = F.length();
        int i = 0;
        for (; i + step <= n; i += step) {
            if (!FloatVector.fromArray(F, a, i).compare(VectorOperators.LE, 0f).allTrue()) {
                return false;
            }
        }
        for (; i < n; i++) {
            if (!(a[i] <= 0f)) {
                return false;
            }
        }
        return true;
    }

    /**
     * False where none of {@code a[from..from + n)} is NaN; true where one is, or an infinity
     * ({@code x − x} is NaN for both: one subtraction and one addition per vector, no branch; a
     * test of each vector's lanes with {@code anyTrue()} cost more than the maxima it spared).
     */
    static boolean mayHoldNaN(float[] a, int from, int n) {
        int step = F.length();
        FloatVector d = FloatVector.zero(F);
        int i = from;
        for (; i + step <= from + n; i += step) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            d = d.add(x.sub(x));
        }
        float rest = 0f;
        for (; i < from + n; i++) {
            rest += a[i] - a[i];
        }
        return rest != rest || d.compare(VectorOperators.NE, d).anyTrue();
    }
}
