package dev.clpool.explain;

import dev.clpool.Axis;
import dev.clpool.Padding;
import java.util.ArrayList;
import java.util.List;

/**
 * One spatial axis of an explained request: sizes, the padding applied and how it was found, how
 * the output size follows, and the first and last window.
 *
 * @param name               {@code height} or {@code width}
 * @param axis               the resolved geometry this explains
 * @param paddingRule        where the padding came from: explicit, valid, same or same-lower
 * @param paddingDerivation  the padding rule worked out with this axis's numbers
 * @param outputDerivation   the output-size formula worked out with this axis's numbers
 * @param first              the window of output 0
 * @param last               the window of output {@code out-1}
 */
public record AxisExplanation(String name, Axis axis, Padding.Kind paddingRule, String paddingDerivation,
        String outputDerivation, WindowSpan first, WindowSpan last) {

    static AxisExplanation of(String name, Axis a, Padding.Kind rule, boolean ceilMode, boolean countIncludePad) {
        return new AxisExplanation(name, a, rule, paddingDerivation(a, rule), outputDerivation(a, rule, ceilMode),
                window(a, 0, countIncludePad), window(a, a.out() - 1, countIncludePad));
    }

    /** {@code padBegin + padEnd}. */
    public int totalPadding() {
        return axis.padBegin() + axis.padEnd();
    }

    static WindowSpan window(Axis a, int o, boolean countIncludePad) {
        long start = a.start(o);
        List<Long> taps = new ArrayList<>(a.window());
        int inPadding = 0;
        int beyond = 0;
        for (int j = 0; j < a.window(); j++) {
            long pos = start + (long) j * a.dilation();
            taps.add(pos);
            if (pos >= (long) a.in() + a.padEnd()) {
                beyond++;
            } else if (pos < 0 || pos >= a.in()) {
                inPadding++;
            }
        }
        int factor = countIncludePad ? a.extentIncludingPad(o) : a.count(o);
        return new WindowSpan(o, start, start + (long) (a.window() - 1) * a.dilation(), taps, a.count(o), inPadding,
                beyond, factor);
    }

    private static String paddingDerivation(Axis a, Padding.Kind rule) {
        int total = a.padBegin() + a.padEnd();
        String totalFormula = "total = max((" + a.out() + " - 1) * " + a.stride() + " + " + a.effectiveWindow()
                + " - " + a.in() + ", 0) = " + total;
        switch (rule) {
            case VALID:
                return "valid: no padding";
            case SAME:
                return "same: " + totalFormula + "; before = floor(" + total + " / 2) = " + a.padBegin()
                        + ", after = " + total + " - " + a.padBegin() + " = " + a.padEnd();
            case SAME_LOWER:
                return "same-lower: " + totalFormula + "; after = floor(" + total + " / 2) = " + a.padEnd()
                        + ", before = " + total + " - " + a.padEnd() + " = " + a.padBegin();
            default:
                return "explicit: " + a.padBegin() + " before, " + a.padEnd() + " after";
        }
    }

    private static String outputDerivation(Axis a, Padding.Kind rule, boolean ceilMode) {
        if (rule == Padding.Kind.SAME || rule == Padding.Kind.SAME_LOWER) {
            return "ceil(in / stride) = ceil(" + a.in() + " / " + a.stride() + ") = " + a.out();
        }
        long span = (long) a.in() + a.padBegin() + a.padEnd() - a.effectiveWindow();
        String inner = "(" + a.in() + " + " + a.padBegin() + " + " + a.padEnd() + " - " + a.effectiveWindow() + ") / "
                + a.stride();
        long floorOut = span / a.stride() + 1;
        if (!ceilMode) {
            return "floor((in + before + after - effective window) / stride) + 1 = floor(" + inner + ") + 1 = " + floorOut;
        }
        long raw = (span + a.stride() - 1) / a.stride() + 1;
        String text = "ceil((in + before + after - effective window) / stride) + 1 = ceil(" + inner + ") + 1 = " + raw;
        long lastStart = (raw - 1) * a.stride() - a.padBegin();
        if (raw != a.out()) {
            return text + "; window " + (raw - 1) + " would start at input position " + lastStart + " >= " + a.in()
                    + " (in the end padding), so it is dropped: " + a.out();
        }
        return text + (raw == floorOut ? " (the same as floor mode)"
                : "; the last window starts at input position " + lastStart + " < " + a.in() + ", so it stays");
    }
}
