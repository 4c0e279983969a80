package dev.clpool.explain;

import static dev.clpool.explain.FrameworkGeometry.*;

import dev.clpool.Axis;
import dev.clpool.Padding;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * ONNX's rules for {@link FrameworkRules}: MaxPool, AveragePool and LpPool at opset 22, which take
 * tensors of every spatial rank. Sources: {@code onnx/defs/nn/defs.cc} (operator text and
 * {@code convPoolShapeInference}), {@code onnx/reference/ops/op_pool_common.py}, and the node test
 * data in {@code ../shared/conformance/onnx}.
 */
final class OnnxRules {

    private OnnxRules() {
    }

    static FrameworkVerdict onnx(ResolvedRequest g) {
        PoolSpec s = g.spec();
        Findings f = new Findings("ONNX");
        String op = s.mode() == PoolMode.MAX ? "MaxPool" : s.mode() == PoolMode.AVG ? "AveragePool" : "LpPool";
        if (s.mode() == PoolMode.LP && !isInteger(s.p())) {
            // LpPool: Attr("p", ..., AttributeProto::INT, 2).
            f.refused.add("LpPool's p is an integer attribute; p = " + s.p() + " cannot be expressed");
            return f.verdict(Framework.ONNX, null);
        }
        Padding.Kind kind = s.padding().kind();
        boolean sameRule = isSameRule(kind);
        boolean lower = kind == Padding.Kind.SAME_LOWER;
        boolean autoPad = sameRule;
        if (sameRule) {
            // Operator text: pad_shape = (out - 1) * s + ((k - 1) * d + 1) - in, without a clamp; shape inference
            // clamps the total at 0 (std::max(total_pad, 0)), as clpool does. Where it matters, use explicit pads.
            for (Axis a : g.axes()) {
                if ((long) (a.out() - 1) * a.stride() + a.effectiveWindow() - a.in() < 0) {
                    autoPad = false;
                }
            }
            if (!autoPad) {
                f.notes.add("auto_pad is left out: by the operator text its pad total, (out - 1) * stride +"
                        + " effective window - in, would be negative here (shape inference clamps it at 0, as clpool"
                        + " does); explicit pads are unambiguous");
            }
        }
        // ceil_mode with auto_pad SAME_*: output is ceil(in / s) either way; clpool ignores ceil mode there.
        boolean ceil = s.ceilMode() && !sameRule;
        List<Axis> theirs;
        if (autoPad) {
            theirs = new ArrayList<>();
            for (Axis a : g.axes()) {
                theirs.add(sameAxis(a, lower));
            }
        } else {
            // Explicit pads: floor/ceil((in + pads - ((k-1)*d + 1)) / s) + 1; "Sliding windows that would start in
            // the right padded region are ignored" (MaxPool/AveragePool text; convPoolShapeInference for all three).
            theirs = FrameworkRules.explicitAxes(g, ceil);
            if (ceil && s.mode() == PoolMode.LP) {
                for (int i = 0; i < g.rank(); i++) {
                    Axis a = g.axis(i);
                    long raw = rawCeilOut(a);
                    if (raw != a.out()) {
                        f.check.add("LpPool's operator text gives ceil(...) + 1 = " + raw + " for the " + g.name(i)
                                + " without the rule that drops a window starting in the end padding (MaxPool's and"
                                + " AveragePool's text have it, and ONNX shape inference applies it): expect "
                                + a.out() + ", but check your runtime");
                    }
                }
            }
        }
        if (f.sameWindows(g, theirs) && s.mode() == PoolMode.AVG) {
            if (!s.countIncludePad()) {
                // "divided by the number of elements (exclude pad when attribute count_include_pad is zero)".
                divisorDifference(g, theirs, Divisor.INPUT_ELEMENTS, Divisor.INPUT_ELEMENTS, false)
                        .ifPresent(w -> f.different.add("window " + w.where() + " is divided by " + w.theirs()
                                + " in ONNX and by " + w.ours() + " in clpool"));
            } else {
                // count_include_pad=1: the number of the window's elements, padding included. The reference
                // implementation averages the window's taps over the zero-padded input, as clpool does
                // (SEMANTICS.md counts taps, not the span, with dilation); only the ceil-mode overhang is open.
                divisorDifference(g, theirs, Divisor.TAPS_IN_PADDED_RANGE, Divisor.TAPS_IN_PADDED_RANGE, true)
                        .ifPresent(w -> f.different.add("window " + w.where() + " is divided by " + w.theirs()
                                + " in ONNX and by " + w.ours() + " in clpool"));
                boolean overhang = false;
                int[] last = new int[g.rank()];
                for (int i = 0; i < g.rank(); i++) {
                    overhang |= overhangs(g.axis(i));
                    last[i] = g.axis(i).out() - 1;
                }
                if (overhang) {
                    f.check.add("AveragePool's text does not say what count_include_pad=1 divides by when a"
                            + " ceil-mode window runs past the end padding: clpool, like PyTorch, counts up to the end of"
                            + " the padding (last window: " + g.divisor(last)
                            + "); ONNX reference implementations have counted that way in some versions and every tap"
                            + " in others: check your runtime");
                }
            }
        }
        StringBuilder call = new StringBuilder(op).append("(kernel_shape=").append(list(g.window()));
        call.append(", strides=").append(list(g.stride()));
        int[] begins = pads(g.axes(), false);
        int[] ends = pads(g.axes(), true);
        String pads = "[" + join(begins) + ", " + join(ends) + "]";
        if (autoPad) {
            call.append(", auto_pad='").append(lower ? "SAME_LOWER" : "SAME_UPPER").append('\'');
            f.notes.add("auto_pad is deprecated; pads=" + pads + " is the same request");
        } else if (g.padded()) {
            f.notes.add(g.rank() == 2 ? "ONNX orders pads as [top, left, bottom, right]"
                    : "ONNX orders pads as every axis's begin, then every axis's end, outermost first");
            call.append(", pads=").append(pads);
        }
        if (g.dilated()) {
            call.append(", dilations=").append(list(g.dilation()));
        }
        if (ceil) {
            call.append(", ceil_mode=1");
        }
        if (s.mode() == PoolMode.AVG) {
            call.append(", count_include_pad=").append(s.countIncludePad() ? 1 : 0);
        }
        if (s.mode() == PoolMode.LP) {
            call.append(", p=").append((long) s.p());
        }
        call.append(')');
        if (s.mode() == PoolMode.MAX) {
            f.notes.add("NaN: the operator text does not say; the ONNX reference implementation skips NaN inside a"
                    + " window: check your runtime");
        }
        return f.verdict(Framework.ONNX, call.toString());
    }
}
