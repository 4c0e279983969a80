package dev.clpool.explain;

import dev.clpool.Axis;
import dev.clpool.Padding;
import java.util.List;
import java.util.Optional;

/**
 * The geometry {@link FrameworkRules} applies to every framework: each framework's average
 * divisor per axis, the first window where it differs from clpool's, output sizes and paddings by
 * the frameworks' explicit and SAME rules (through {@link Axis}, the one output-size source), and
 * the small formatting helpers for the calls it writes.
 */
final class FrameworkGeometry {

    private FrameworkGeometry() {
    }

    /** How a framework divides an average, per axis (the divisor is the product of the axes' factors). */
    enum Divisor {
        /** Taps inside the input. */
        INPUT_ELEMENTS,
        /** PyTorch's count_include_pad: {@code min(start + e, in + end) - start} (the span; no dilation there). */
        EXTENT,
        /** Taps inside {@code [-begin, in + end)}: clpool's and ONNX's count_include_pad (equal to EXTENT without dilation). */
        TAPS_IN_PADDED_RANGE
    }

    static int factor(Axis a, int o, Divisor d) {
        switch (d) {
            case INPUT_ELEMENTS:
                return a.count(o);
            case EXTENT:
                return (int) (Math.min(a.start(o) + a.effectiveWindow(), (long) a.in() + a.padEnd()) - a.start(o));
            default:
                return a.extentIncludingPad(o); // clpool's own count_include_pad factor: the taps
        }
    }

    /** A window whose divisors differ: where, the framework's divisor, clpool's. */
    record DivisorGap(String where, long theirs, long ours) {
    }

    /**
     * The first window whose divisor differs between the framework ({@code theirs} on its axes) and
     * clpool (the spec's rule, which is {@code ours} when count_include_pad is set, else input elements).
     */
    static Optional<DivisorGap> divisorDifference(ResolvedRequest g, List<Axis> frameworkAxes, Divisor theirs,
            Divisor oursWhenIncludePad, boolean skipOverhang) {
        Divisor ours = g.spec().countIncludePad() ? oursWhenIncludePad : Divisor.INPUT_ELEMENTS;
        int k = g.rank();
        int[] at = new int[k];
        boolean any = false;
        for (int i = 0; i < k; i++) {
            at[i] = firstGap(g.axis(i), frameworkAxes.get(i), theirs, ours, skipOverhang);
            any |= at[i] >= 0;
        }
        if (!any) {
            return Optional.empty();
        }
        long t = 1;
        StringBuilder where = new StringBuilder("(");
        for (int i = 0; i < k; i++) {
            at[i] = Math.max(at[i], 0);
            t *= factor(frameworkAxes.get(i), at[i], theirs);
            where.append(i == 0 ? "" : ",").append(at[i]);
        }
        return Optional.of(new DivisorGap(where.append(')').toString(), t, g.divisor(at)));
    }

    static int firstGap(Axis ours, Axis theirs, Divisor t, Divisor o, boolean skipOverhang) {
        for (int i = 0; i < ours.out(); i++) {
            if (skipOverhang && overhangs(ours, i)) {
                continue;
            }
            if (factor(theirs, i, t) != factor(ours, i, o)) {
                return i;
            }
        }
        return -1;
    }

    static boolean overhangs(Axis a) {
        return overhangs(a, a.out() - 1);
    }

    static boolean overhangs(Axis a, int o) {
        return a.start(o) + a.effectiveWindow() > (long) a.in() + a.padEnd();
    }

    /** An axis with clpool's window, stride and dilation, explicit padding, and the PyTorch/ONNX output rule. */
    static Axis explicitAxis(Axis a, int begin, int end, boolean ceil) {
        return new Axis(a.in(), (int) Math.max(0, explicitOut(a, begin, end, ceil)), a.window(), a.stride(),
                a.dilation(), begin, end);
    }

    /**
     * {@code floor|ceil((in + begin + end - e) / s) + 1}; in ceil mode a last window that would start
     * at or after {@code in + begin} is dropped (PyTorch Pool.h; ONNX convPoolShapeInference). 0 if empty.
     */
    static long explicitOut(Axis a, int begin, int end, boolean ceil) {
        return Axis.explicitOut(a.in(), a.effectiveWindow(), a.stride(), begin, end, ceil);
    }

    static long rawCeilOut(Axis a) {
        long span = (long) a.in() + a.padBegin() + a.padEnd() - a.effectiveWindow();
        return (span + a.stride() - 1) / a.stride() + 1;
    }

    /**
     * TensorFlow SAME / ONNX SAME_UPPER ({@code lower} false) or SAME_LOWER: out = ceil(in / s),
     * total = max((out-1)*s + e - in, 0), the odd pixel at the end (upper) or the beginning (lower).
     */
    static Axis sameAxis(Axis a, boolean lower) {
        int out = (int) Axis.sameOut(a.in(), a.stride());
        long total = Axis.samePadTotal(a.in(), out, a.effectiveWindow(), a.stride());
        int small = (int) (total / 2);
        int big = (int) (total - small);
        return lower ? new Axis(a.in(), out, a.window(), a.stride(), a.dilation(), big, small)
                : new Axis(a.in(), out, a.window(), a.stride(), a.dilation(), small, big);
    }

    static boolean samePads(Axis theirs, Axis ours) {
        return theirs.padBegin() == ours.padBegin() && theirs.padEnd() == ours.padEnd() && theirs.out() == ours.out();
    }


    static boolean isSameRule(Padding.Kind kind) {
        return kind == Padding.Kind.SAME || kind == Padding.Kind.SAME_LOWER;
    }

    static boolean isInteger(double p) {
        return p == Math.rint(p) && Math.abs(p) < 1e15;
    }

    static boolean isEvenInteger(double p) {
        return isInteger(p) && ((long) p) % 2 == 0;
    }

    static String pythonFloat(double p) {
        return isInteger(p) ? (long) p + ".0" : Double.toString(p);
    }

    /** A Python tuple: {@code (3,)}, {@code (3, 3)}, {@code (2, 3, 3)}. */
    static String tuple(int... v) {
        return v.length == 1 ? "(" + v[0] + ",)" : "(" + join(v) + ")";
    }

    /** A list: {@code [3]}, {@code [3, 3]}. */
    static String list(int... v) {
        return "[" + join(v) + "]";
    }

    static String join(int... v) {
        StringBuilder b = new StringBuilder();
        for (int x : v) {
            b.append(b.length() == 0 ? "" : ", ").append(x);
        }
        return b.toString();
    }

    /** Whether any number is above 1 (a dilation or a stride). */
    static boolean anyAbove1(int... v) {
        for (int x : v) {
            if (x > 1) {
                return true;
            }
        }
        return false;
    }

    /** The begin (or end) padding of every axis, outermost first. */
    static int[] pads(List<Axis> axes, boolean end) {
        int[] v = new int[axes.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = end ? axes.get(i).padEnd() : axes.get(i).padBegin();
        }
        return v;
    }
}
