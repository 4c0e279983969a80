package dev.clpool.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link PlaneLp}'s separable sums of powers in Vector API double lanes along W (loaded only where
 * {@link VectorSupport#ENABLED}): the same additions in the same order as its scalar loops
 * ({@code 0 + a} is {@code a}, so a sum started from the first term has the bits of one started
 * from zero), so the results are the scalar path's bit for bit. The scalar loops add a row shifted
 * by a tap's offset ({@code into[at + i] += from[shift + i]}), which C2 does not vectorise (its
 * arrays have different index expressions): on FaceNet's L2 3×3 s1 p1 they were half of the
 * channels-first time. A range's last vector overlaps the one before (the lanes done twice get the
 * same values), so a range must hold one vector at least.
 */
final class VecPlaneLp {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    /** The float species of the same width: a double vector narrows into its lower half. */
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private VecPlaneLp() {
    }

    /** Lanes of a double vector. */
    static int lanes() {
        return S.length();
    }

    /**
     * The vertical pass: for each of {@code rows} rows i, {@code columns[i * pitch + x]} = the sum
     * over {@code k} taps j of {@code powers[i * rowStep + j * tapStep + x]}, for {@code x < pitch}.
     * Where {@code rowStep == pitch} (stride 1) the rows are one range.
     */
    static void down(double[] powers, int rows, int pitch, int rowStep, int k, int tapStep, double[] columns) {
        if (rowStep == pitch) {
            down(powers, 0, k, tapStep, columns, 0, rows * pitch);
            return;
        }
        for (int i = 0; i < rows; i++) {
            down(powers, i * rowStep, k, tapStep, columns, i * pitch, pitch);
        }
    }

    /** {@code to[at + x]} = the sum over {@code k} taps j of {@code from[base + j * tapStep + x]}, {@code x < len}. */
    private static void down(double[] from, int base, int k, int tapStep, double[] to, int at, int len) {
        int lanes = S.length();
        for (int x = 0; x < len; x += lanes) {
            if (x + lanes > len) {
                x = len - lanes;
            }
            DoubleVector s = DoubleVector.fromArray(S, from, base + x);
            for (int j = 1; j < k; j++) {
                s = s.add(DoubleVector.fromArray(S, from, base + j * tapStep + x));
            }
            s.intoArray(to, at + x);
        }
    }

    /**
     * The horizontal pass at stride 1: {@code sums[i]} = the sum over {@code k} taps j of
     * {@code columns[i + j * step]}, for {@code i < len}.
     */
    static void across(double[] columns, int len, int k, int step, double[] sums) {
        down(columns, 0, k, step, sums, 0, len);
    }

    /**
     * {@code out[to + x] = (float) sums[at + x]} for {@code x < len}, NaN made canonical: each
     * vector of doubles narrowed into the lower half of a float vector, which is stored whole, so
     * {@code out} must hold {@link #lanes()} floats past {@code to + len} (later rows overwrite what
     * lands on them); {@code len >=} {@link #lanes()}.
     */
    static void narrow(double[] sums, int at, float[] out, int to, int len) {
        int lanes = S.length();
        for (int x = 0; x < len; x += lanes) {
            if (x + lanes > len) {
                x = len - lanes;
            }
            FloatVector f = (FloatVector) DoubleVector.fromArray(S, sums, at + x).convertShape(VectorOperators.D2F, F, 0);
            f.blend(Float.NaN, f.compare(VectorOperators.NE, f)).intoArray(out, to + x);
        }
    }
}
