package dev.clpool.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernels of {@link AdaptiveAvgRows}' lanes (used only where
 * {@link VectorSupport#ENABLED}, at least one vector of channels). Where every region is at most
 * three columns wide: an input row's sums across the regions' columns and its largest magnitude from
 * the same loads ({@link #sums}), and an output row's fold down its regions' rows and division
 * ({@link #averages}, stored straight into the output tensor), for rows that the inputs' magnitude
 * certifies ({@link AdaptiveAvgRows#limit}).
 * Otherwise an output row's fold, division and running certificate ({@link #down}) from
 * {@link VecAdaptive#avgAcross}' sums and bounds. Lane by lane the arithmetic of
 * {@link VecAdaptive#avgAcross} and {@link VecAdaptive#avgFinish}, so the same bits.
 *
 * <p>Regions of up to three columns and three rows, the common case of adaptive pooling to a size
 * near the input's (VGG-16's head, 10 to 7: two or three), run in one flat loop over the channels
 * per region with the taps written out, so that each array offset is the loop's index plus a
 * constant: C2 then checks each load's bounds once per loop (the offsets {@code Math.min(ch, c −
 * lanes)} of the general loops, and the nested loops over the taps, left a check on every load: a
 * fifth of the JFR samples of VGG-16's head). The last vector of a channel count that is not a
 * multiple of the lanes overlaps the one before it and writes the same values again. No method
 * here takes or returns a vector: where C2 did not inline such a helper (in a JVM that had compiled
 * other adaptive kernels first) it boxed every vector, 370 KB per call, and the call took ten times as long.
 */
final class VecAdaptiveRows {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VecAdaptiveRows() {
    }

    /**
     * One output row's averages from the sums across columns of its input rows ({@link VecAdaptive#avgAcross}: input
     * row j of the regions, in scan order, at {@code rowAt[j]} of {@code hs} and {@code hb},
     * {@code j < rows}): lane by lane the fold of {@link VecAdaptive#avgAcross} ({@code t = s + h},
     * {@code b += hb + |t|}) and the finish of {@link VecAdaptive#avgFinish}, into
     * {@code res[ox·c + ch]}; output column {@code ox} divides by {@code divisor[k0 + ox]} and
     * certifies with {@code perB[k0 + ox]}, its certificate {@code b·k − max(1, |avg|)} left in
     * {@code excess[ox·c + ch]}. Returns whether every result is certified (every excess at most 0,
     * which a NaN is not).
     */
    static boolean down(float[] hs, float[] hb, int[] rowAt, int rows, int c, int ow, float[] divisor,
                        float[] perB, int k0, float[] res, float[] excess) {
        int step = F.length();
        int last = c - step;
        for (int ox = 0; ox < ow; ox++) {
            float d = divisor[k0 + ox];
            float k = perB[k0 + ox];
            int at = ox * c;
            if (rows == 2) {
                int a0 = rowAt[0] + at;
                int a1 = rowAt[1] + at;
                for (int ch = 0; ch < last; ch += step) {
                    two(hs, hb, a0 + ch, a1 + ch, d, k, res, excess, at + ch);
                }
                two(hs, hb, a0 + last, a1 + last, d, k, res, excess, at + last);
            } else if (rows == 3) {
                int a0 = rowAt[0] + at;
                int a1 = rowAt[1] + at;
                int a2 = rowAt[2] + at;
                for (int ch = 0; ch < last; ch += step) {
                    three(hs, hb, a0 + ch, a1 + ch, a2 + ch, d, k, res, excess, at + ch);
                }
                three(hs, hb, a0 + last, a1 + last, a2 + last, d, k, res, excess, at + last);
            } else {
                for (int ch = 0; ch < c; ch += step) {
                    int v = at + Math.min(ch, last);
                    FloatVector s = FloatVector.fromArray(F, hs, rowAt[0] + v);
                    FloatVector b = FloatVector.fromArray(F, hb, rowAt[0] + v);
                    for (int j = 1; j < rows; j++) {
                        FloatVector t = s.add(FloatVector.fromArray(F, hs, rowAt[j] + v));
                        b = b.add(FloatVector.fromArray(F, hb, rowAt[j] + v).add(t.abs()));
                        s = t;
                    }
                    FloatVector avg = s.add(0f).div(d);
                    avg.intoArray(res, v);
                    b.mul(k).sub(avg.abs().max(1f)).intoArray(excess, v);
                }
            }
        }
        // Not a running maximum in the loops above: C2 boxed a vector carried around two loops.
        return largest(excess, ow * c) <= 0f;
    }

    /** Two rows of sums folded and finished. */
    private static void two(float[] hs, float[] hb, int a0, int a1, float d, float k, float[] res, float[] excess,
                            int at) {
        FloatVector t = FloatVector.fromArray(F, hs, a0).add(FloatVector.fromArray(F, hs, a1));
        FloatVector b = FloatVector.fromArray(F, hb, a0).add(FloatVector.fromArray(F, hb, a1).add(t.abs()));
        FloatVector avg = t.add(0f).div(d);
        avg.intoArray(res, at);
        b.mul(k).sub(avg.abs().max(1f)).intoArray(excess, at);
    }

    /** Three rows of sums folded and finished. */
    private static void three(float[] hs, float[] hb, int a0, int a1, int a2, float d, float k, float[] res,
                              float[] excess, int at) {
        FloatVector t1 = FloatVector.fromArray(F, hs, a0).add(FloatVector.fromArray(F, hs, a1));
        FloatVector b1 = FloatVector.fromArray(F, hb, a0).add(FloatVector.fromArray(F, hb, a1).add(t1.abs()));
        FloatVector t2 = t1.add(FloatVector.fromArray(F, hs, a2));
        FloatVector b2 = b1.add(FloatVector.fromArray(F, hb, a2).add(t2.abs()));
        FloatVector avg = t2.add(0f).div(d);
        avg.intoArray(res, at);
        b2.mul(k).sub(avg.abs().max(1f)).intoArray(excess, at);
    }

    /**
     * {@link VecAdaptive#avgAcross}' sums without their bounds, every region at most three columns
     * wide (the same additions in the same order, so the same sums), for results certified by the
     * input's magnitude ({@link AdaptiveAvgRows#limit}) instead of by running bounds: input row's
     * sums for output column ox at {@code to + ox·c + ch} of {@code hs}.
     */
    static void sums(float[] row, int base, int c, int ow, int[] x0, int[] x1, float[] hs, int to) {
        int step = F.length();
        int last = c - step;
        for (int ox = 0; ox < ow; ox++) {
            int o = base + x0[ox] * c;
            int at = to + ox * c;
            int w = x1[ox] - x0[ox];
            if (w == 1) {
                System.arraycopy(row, o, hs, at, c);
            } else if (w == 2) {
                for (int ch = 0; ch < last; ch += step) {
                    FloatVector.fromArray(F, row, o + ch).add(FloatVector.fromArray(F, row, o + c + ch))
                            .intoArray(hs, at + ch);
                }
                FloatVector.fromArray(F, row, o + last).add(FloatVector.fromArray(F, row, o + c + last))
                        .intoArray(hs, at + last);
            } else if (w == 3) {
                for (int ch = 0; ch < last; ch += step) {
                    sum3(row, o + ch, c, hs, at + ch);
                }
                sum3(row, o + last, c, hs, at + last);
            }
        }
    }

    /**
     * {@link #sums} of the input row at float {@code base} of the tensor's bytes, loaded straight from
     * them (the same additions, so the same sums): a bulk copy of each row first was about a third of
     * VGG-16's head, its stores and loads again on top of the loads from memory that every form pays.
     * Returns the {@link #magnitudeBits} of every column the regions read, taken from the same loads
     * (a pass of its own loaded the row once more). Each region's vector of magnitudes is reduced
     * after its loop, so that no vector lives across the loops (C2 boxed such a vector before).
     */
    static int sums(ByteBuffer in, int base, int c, int ow, int[] x0, int[] x1, float[] hs, int to) {
        int step = F.length();
        int last = c - step;
        int bits = 0;
        for (int ox = 0; ox < ow; ox++) {
            int o = base + x0[ox] * c;
            int at = to + ox * c;
            int w = x1[ox] - x0[ox];
            if (w == 1) {
                IntVector m = IntVector.zero(I);
                for (int ch = 0; ch < last; ch += step) {
                    FloatVector a = FloatVector.fromByteBuffer(F, in, (o + ch) << 2, ORDER);
                    a.intoArray(hs, at + ch);
                    m = m.max(a.viewAsIntegralLanes().and(0x7fffffff));
                }
                FloatVector a = FloatVector.fromByteBuffer(F, in, (o + last) << 2, ORDER);
                a.intoArray(hs, at + last);
                m = m.max(a.viewAsIntegralLanes().and(0x7fffffff));
                bits = Math.max(bits, m.reduceLanes(VectorOperators.MAX));
            } else if (w == 2) {
                IntVector m = IntVector.zero(I);
                for (int ch = 0; ch < last; ch += step) {
                    FloatVector a = FloatVector.fromByteBuffer(F, in, (o + ch) << 2, ORDER);
                    FloatVector b = FloatVector.fromByteBuffer(F, in, (o + c + ch) << 2, ORDER);
                    a.add(b).intoArray(hs, at + ch);
                    m = m.max(a.viewAsIntegralLanes().and(0x7fffffff)).max(b.viewAsIntegralLanes().and(0x7fffffff));
                }
                FloatVector a = FloatVector.fromByteBuffer(F, in, (o + last) << 2, ORDER);
                FloatVector b = FloatVector.fromByteBuffer(F, in, (o + c + last) << 2, ORDER);
                a.add(b).intoArray(hs, at + last);
                m = m.max(a.viewAsIntegralLanes().and(0x7fffffff)).max(b.viewAsIntegralLanes().and(0x7fffffff));
                bits = Math.max(bits, m.reduceLanes(VectorOperators.MAX));
            } else if (w == 3) {
                IntVector m = IntVector.zero(I);
                for (int ch = 0; ch < last; ch += step) {
                    FloatVector a = FloatVector.fromByteBuffer(F, in, (o + ch) << 2, ORDER);
                    FloatVector b = FloatVector.fromByteBuffer(F, in, (o + c + ch) << 2, ORDER);
                    FloatVector e = FloatVector.fromByteBuffer(F, in, (o + 2 * c + ch) << 2, ORDER);
                    a.add(b).add(e).intoArray(hs, at + ch);
                    m = m.max(a.viewAsIntegralLanes().and(0x7fffffff)).max(b.viewAsIntegralLanes().and(0x7fffffff))
                            .max(e.viewAsIntegralLanes().and(0x7fffffff));
                }
                FloatVector a = FloatVector.fromByteBuffer(F, in, (o + last) << 2, ORDER);
                FloatVector b = FloatVector.fromByteBuffer(F, in, (o + c + last) << 2, ORDER);
                FloatVector e = FloatVector.fromByteBuffer(F, in, (o + 2 * c + last) << 2, ORDER);
                a.add(b).add(e).intoArray(hs, at + last);
                m = m.max(a.viewAsIntegralLanes().and(0x7fffffff)).max(b.viewAsIntegralLanes().and(0x7fffffff))
                        .max(e.viewAsIntegralLanes().and(0x7fffffff));
                bits = Math.max(bits, m.reduceLanes(VectorOperators.MAX));
            }
        }
        return bits;
    }

    /** Three columns summed: {@code (x0 + x1) + x2}. */
    private static void sum3(float[] row, int o, int c, float[] hs, int at) {
        FloatVector.fromArray(F, row, o).add(FloatVector.fromArray(F, row, o + c))
                .add(FloatVector.fromArray(F, row, o + 2 * c)).intoArray(hs, at);
    }

    /**
     * {@link #down}'s averages without the certificate (its folds, {@code + 0} and division, so the
     * same bits), for rows whose inputs' magnitude certifies every result: the sums across columns
     * of input row j at {@code rowAt[j]} of {@code hs} ({@link #sums}), into {@code res[ox·c + ch]}.
     */
    static void averages(float[] hs, int[] rowAt, int rows, int c, int ow, float[] divisor, int k0, float[] res) {
        int step = F.length();
        int last = c - step;
        for (int ox = 0; ox < ow; ox++) {
            float d = divisor[k0 + ox];
            int at = ox * c;
            int a0 = rowAt[0] + at;
            if (rows == 2) {
                int a1 = rowAt[1] + at;
                for (int ch = 0; ch < last; ch += step) {
                    average2(hs, a0 + ch, a1 + ch, d, res, at + ch);
                }
                average2(hs, a0 + last, a1 + last, d, res, at + last);
            } else if (rows == 3) {
                int a1 = rowAt[1] + at;
                int a2 = rowAt[2] + at;
                for (int ch = 0; ch < last; ch += step) {
                    average3(hs, a0 + ch, a1 + ch, a2 + ch, d, res, at + ch);
                }
                average3(hs, a0 + last, a1 + last, a2 + last, d, res, at + last);
            } else {
                for (int ch = 0; ch < c; ch += step) {
                    int v = Math.min(ch, last);
                    FloatVector t = FloatVector.fromArray(F, hs, rowAt[0] + at + v);
                    for (int j = 1; j < rows; j++) {
                        t = t.add(FloatVector.fromArray(F, hs, rowAt[j] + at + v));
                    }
                    t.add(0f).div(d).intoArray(res, at + v);
                }
            }
        }
    }

    /**
     * {@link #averages} stored straight into the output tensor's bytes, output column ox's results at
     * float {@code base + ox·c + ch}: no row of results copied out after (VGG-16's head copied 0.8 MB
     * a call out of a scratch row that way).
     */
    static void averages(float[] hs, int[] rowAt, int rows, int c, int ow, float[] divisor, int k0, ByteBuffer out,
                         int base) {
        int step = F.length();
        int last = c - step;
        for (int ox = 0; ox < ow; ox++) {
            float d = divisor[k0 + ox];
            int at = ox * c;
            int o = base + at;
            int a0 = rowAt[0] + at;
            if (rows == 2) {
                int a1 = rowAt[1] + at;
                for (int ch = 0; ch < last; ch += step) {
                    average2(hs, a0 + ch, a1 + ch, d, out, o + ch);
                }
                average2(hs, a0 + last, a1 + last, d, out, o + last);
            } else if (rows == 3) {
                int a1 = rowAt[1] + at;
                int a2 = rowAt[2] + at;
                for (int ch = 0; ch < last; ch += step) {
                    average3(hs, a0 + ch, a1 + ch, a2 + ch, d, out, o + ch);
                }
                average3(hs, a0 + last, a1 + last, a2 + last, d, out, o + last);
            } else {
                for (int ch = 0; ch < c; ch += step) {
                    int v = Math.min(ch, last);
                    FloatVector t = FloatVector.fromArray(F, hs, rowAt[0] + at + v);
                    for (int j = 1; j < rows; j++) {
                        t = t.add(FloatVector.fromArray(F, hs, rowAt[j] + at + v));
                    }
                    t.add(0f).div(d).intoByteBuffer(out, (o + v) << 2, ORDER);
                }
            }
        }
    }

    /** Two rows of sums folded and divided into the tensor's bytes. */
    private static void average2(float[] hs, int a0, int a1, float d, ByteBuffer out, int at) {
        FloatVector.fromArray(F, hs, a0).add(FloatVector.fromArray(F, hs, a1)).add(0f).div(d)
                .intoByteBuffer(out, at << 2, ORDER);
    }

    /** Three rows of sums folded and divided into the tensor's bytes. */
    private static void average3(float[] hs, int a0, int a1, int a2, float d, ByteBuffer out, int at) {
        FloatVector.fromArray(F, hs, a0).add(FloatVector.fromArray(F, hs, a1)).add(FloatVector.fromArray(F, hs, a2))
                .add(0f).div(d).intoByteBuffer(out, at << 2, ORDER);
    }

    /** Two rows of sums folded and divided. */
    private static void average2(float[] hs, int a0, int a1, float d, float[] res, int at) {
        FloatVector.fromArray(F, hs, a0).add(FloatVector.fromArray(F, hs, a1)).add(0f).div(d).intoArray(res, at);
    }

    /** Three rows of sums folded and divided. */
    private static void average3(float[] hs, int a0, int a1, int a2, float d, float[] res, int at) {
        FloatVector.fromArray(F, hs, a0).add(FloatVector.fromArray(F, hs, a1)).add(FloatVector.fromArray(F, hs, a2))
                .add(0f).div(d).intoArray(res, at);
    }

    /**
     * The largest magnitude of {@code a[from..from + n)}, {@code n} at least one vector, as the bits
     * of a float ({@code Float.floatToRawIntBits(|x|)}, which order as the magnitudes do): an
     * infinity or a NaN gives bits above every finite float's. One integer AND and maximum per
     * vector, where a float maximum with Java's NaN rule is several instructions.
     */
    static int magnitudeBits(float[] a, int from, int n) {
        int step = F.length();
        int end = from + n;
        IntVector m0 = FloatVector.fromArray(F, a, end - step).viewAsIntegralLanes().and(0x7fffffff);
        IntVector m1 = m0;
        int i = from;
        for (; i + 2 * step <= end; i += 2 * step) {
            m0 = m0.max(FloatVector.fromArray(F, a, i).viewAsIntegralLanes().and(0x7fffffff));
            m1 = m1.max(FloatVector.fromArray(F, a, i + step).viewAsIntegralLanes().and(0x7fffffff));
        }
        for (; i + step <= end; i += step) {
            m0 = m0.max(FloatVector.fromArray(F, a, i).viewAsIntegralLanes().and(0x7fffffff));
        }
        return m0.max(m1).reduceLanes(VectorOperators.MAX);
    }

    /**
     * The largest of {@code a[0..n)}, {@code n} at least one vector, or NaN if one is NaN: four
     * running lane maxima (one maximum with Java's NaN and −0 rules is several instructions, and one
     * chain of them was a sixth of VGG-16's head by JFR; a test and branch per vector, as
     * {@link VecAdaptive#allAtMostZero}, about a tenth).
     */
    private static float largest(float[] a, int n) {
        int step = F.length();
        FloatVector m0 = FloatVector.fromArray(F, a, n - step);
        FloatVector m1 = m0;
        FloatVector m2 = m0;
        FloatVector m3 = m0;
        int i = 0;
        for (; i + 4 * step <= n; i += 4 * step) {
            m0 = m0.max(FloatVector.fromArray(F, a, i));
            m1 = m1.max(FloatVector.fromArray(F, a, i + step));
            m2 = m2.max(FloatVector.fromArray(F, a, i + 2 * step));
            m3 = m3.max(FloatVector.fromArray(F, a, i + 3 * step));
        }
        for (; i + step <= n; i += step) {
            m0 = m0.max(FloatVector.fromArray(F, a, i));
        }
        return m0.max(m1).max(m2.max(m3)).reduceLanes(VectorOperators.MAX);
    }
}
