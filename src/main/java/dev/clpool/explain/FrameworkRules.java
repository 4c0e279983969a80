package dev.clpool.explain;

import static dev.clpool.explain.FrameworkGeometry.*;

import dev.clpool.Axis;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How PyTorch, TensorFlow and ONNX would treat a clpool request: each framework's rules, written
 * down with their sources, applied to the request's numbers.
 *
 * <p>The method is the same for all three: translate the request into the framework's call (if it
 * can be expressed at all), work out the framework's own output size, window positions and average
 * divisor with the framework's formulas, and compare them with clpool's {@link PoolGeometry}. Where a
 * framework's rule for a corner case is not settled by its documentation, the verdict is
 * {@link Verdict#CHECK} with the reason, never a guess.
 *
 * <p>Sources (read when this table was written):
 * <ul>
 * <li>PyTorch: {@code torch.nn.functional.max_pool2d / avg_pool2d / lp_pool2d} docs and
 *     {@code torch/nn/functional.py}; ATen {@code Pool.h} ({@code pooling_output_shape},
 *     {@code pool2d_shape_check}), the CPU average kernel ({@code pool_size = (hend - hstart) * (wend - wstart)})
 *     and max kernel ({@code if ((val > maxval) || std::isnan(val))}).</li>
 * <li>TensorFlow: {@code tf.nn.max_pool2d}, {@code tf.nn.avg_pool2d}, {@code tf.nn.pool} API docs;
 *     issues tensorflow/tensorflow#45579 and #60509 (SAME average excludes padding), #2501 and #54841 (NaN in MaxPool).</li>
 * <li>ONNX: {@code onnx/defs/nn/defs.cc} at opset 22 (operator text and {@code convPoolShapeInference}),
 *     {@code onnx/reference/ops/op_pool_common.py}, and the node test data in {@code ../shared/conformance/onnx}.</li>
 * </ul>
 */
public final class FrameworkRules {

    private FrameworkRules() {
    }

    /** PyTorch, TensorFlow and ONNX, in that order. */
    public static List<FrameworkVerdict> compare(PoolGeometry g) {
        return List.of(pytorch(g), tensorflow(g), onnx(g));
    }

    // ------------------------------------------------------------------------------------------
    // PyTorch: torch.nn.functional.max_pool2d / avg_pool2d / lp_pool2d
    // ------------------------------------------------------------------------------------------

    static FrameworkVerdict pytorch(PoolGeometry g) {
        PoolSpec s = g.spec();
        Findings f = new Findings("PyTorch");
        Padding.Kind kind = s.padding().kind();
        boolean sameRule = isSameRule(kind);
        String fn = "torch.nn.functional." + (s.mode() == PoolMode.MAX ? "max_pool2d"
                : s.mode() == PoolMode.AVG ? "avg_pool2d" : "lp_pool2d");
        boolean dilated = s.dilationH() > 1 || s.dilationW() > 1;

        // Only max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices) has
        // dilation; avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
        // divisor_override) and lp_pool2d(input, norm_type, kernel_size, stride, ceil_mode) do not.
        if (dilated && s.mode() != PoolMode.MAX) {
            f.refused.add(fn + " has no dilation argument");
        }
        if (s.mode() == PoolMode.LP) {
            // lp_pool2d has no padding argument: it calls avg_pool2d(input.pow(p), kernel_size, stride, 0, ceil_mode).
            if (padded(g)) {
                f.refused.add(fn + " has no padding argument (it calls avg_pool2d with padding 0)");
                f.notes.add("zero-padding x first (torch.nn.functional.pad) would give clpool's windows, since padding"
                        + " contributes 0 to an LP sum; not evaluated here");
            }
        } else {
            // padding is one number per axis, added on both sides ("implicit ... padding to be added on both sides").
            for (Axis a : axes(g)) {
                String name = name(g, a);
                if (a.padBegin() != a.padEnd()) {
                    f.refused.add("PyTorch pads both ends of an axis equally; the " + name + " here has " + a.padBegin()
                            + " before and " + a.padEnd() + " after"
                            + (kind == Padding.Kind.SAME_LOWER ? " (PyTorch has no same-lower rule)"
                                    : kind == Padding.Kind.SAME ? " (PyTorch pooling has no 'same' padding)" : ""));
                } else if (a.padBegin() > a.window() / 2) {
                    // Pool.h pool2d_shape_check: TORCH_CHECK(kW/2 >= padW && kH/2 >= padH, "pad should be smaller
                    // than or equal to half of kernel size"); pooling_output_shape's pad <= ((k-1)*d+1)/2 is then implied.
                    f.refused.add("PyTorch requires padding <= kernel_size / 2 (rounded down): the " + name + " padding "
                            + a.padBegin() + " > " + a.window() + " / 2 = " + a.window() / 2);
                }
            }
        }
        // clpool ignores ceil mode with same/same-lower (ceil(in/s) by definition): pass ceil_mode=False then.
        boolean ceil = s.ceilMode() && !sameRule;
        String call = null;
        if (f.refused.isEmpty()) {
            call = pytorchCall(fn, g, ceil);
            // Pool.h pooling_output_shape: floor or ceil((in + 2*pad - d*(k-1) - 1) / s) + 1, then in ceil mode
            // "ensure that the last pooling starts inside the image": if ((out-1)*s >= in + pad) --out.
            Axis fr = explicitAxis(g.rows(), g.rows().padBegin(), g.rows().padEnd(), ceil);
            Axis fc = explicitAxis(g.cols(), g.cols().padBegin(), g.cols().padEnd(), ceil);
            if (sameWindows(f, g, fr, fc)) {
                if (s.mode() == PoolMode.AVG) {
                    // CPU kernel: hend = min(hstart + kH, in + padH); pool_size = (hend - hstart) * (wend - wstart);
                    // divide by pool_size with count_include_pad, else by the clipped (hend - hstart) * (wend - wstart).
                    divisorDifference(g, fr, fc, s.countIncludePad() ? Divisor.EXTENT : Divisor.INPUT_ELEMENTS,
                            Divisor.TAPS_IN_PADDED_RANGE, false)
                            .ifPresent(w -> f.different.add("window " + w.where() + " is divided by " + w.theirs()
                                    + " in PyTorch and by " + w.ours() + " in clpool"));
                } else if (s.mode() == PoolMode.LP) {
                    lpPartialWindow(g).ifPresent(f.different::add);
                    if (!isEvenInteger(s.p())) {
                        f.different.add("lp_pool2d raises x, not |x|, to the power p (input.pow(norm_type)): for"
                                + " negative inputs the result differs (NaN where x^p or the sum is negative), unless p is"
                                + " an even integer; for inputs >= 0 it is the same");
                    }
                }
            }
        }
        if (f.refused.isEmpty()) {
            if (sameRule) {
                f.notes.add("PyTorch pooling has no 'same' rule: the call passes the padding clpool resolved for this input size");
            }
            if (s.mode() == PoolMode.AVG) {
                f.notes.add("PyTorch's count_include_pad defaults to True, clpool's to false: the call passes it explicitly");
            }
            if (s.mode() == PoolMode.LP) {
                f.notes.add("lp_pool2d averages x^p and multiplies by kh*kw: equal to clpool's sum up to float rounding");
            }
        }
        if (s.mode() == PoolMode.MAX && f.refused.isEmpty()) {
            f.notes.add("NaN propagates in PyTorch too; with several NaNs in a window PyTorch keeps the last one (and its"
                    + " index), clpool the first");
        }
        return f.verdict(Framework.PYTORCH, call);
    }

    private static String pytorchCall(String fn, PoolGeometry g, boolean ceil) {
        PoolSpec s = g.spec();
        StringBuilder b = new StringBuilder(fn).append("(x, ");
        if (s.mode() == PoolMode.LP) {
            b.append("norm_type=").append(pythonFloat(s.p())).append(", ");
        }
        b.append("kernel_size=").append(tuple(s.windowH(), s.windowW()));
        b.append(", stride=").append(tuple(s.strideH(), s.strideW()));
        if (s.mode() != PoolMode.LP && padded(g)) {
            b.append(", padding=").append(tuple(g.rows().padBegin(), g.cols().padBegin()));
        }
        if (s.dilationH() > 1 || s.dilationW() > 1) {
            b.append(", dilation=").append(tuple(s.dilationH(), s.dilationW()));
        }
        if (ceil) {
            b.append(", ceil_mode=True");
        }
        if (s.mode() == PoolMode.AVG) {
            b.append(", count_include_pad=").append(s.countIncludePad() ? "True" : "False");
        }
        return b.append(')').toString();
    }

    /**
     * lp_pool2d returns (avg_pool2d(x^p, count_include_pad=True, padding=0) * kh*kw)^(1/p): a window
     * cut off by ceil mode has its sum scaled by kh*kw / (elements it covers).
     */
    private static Optional<String> lpPartialWindow(PoolGeometry g) {
        int oy = firstCut(g.rows());
        int ox = firstCut(g.cols());
        if (oy < 0 && ox < 0) {
            return Optional.empty();
        }
        oy = Math.max(oy, 0);
        ox = Math.max(ox, 0);
        int area = g.spec().windowH() * g.spec().windowW();
        int covered = g.rows().count(oy) * g.cols().count(ox);
        return Optional.of("lp_pool2d computes (avg_pool2d(x^p) * kh*kw)^(1/p): window (" + oy + "," + ox
                + ") covers " + covered + " of " + area + " elements (ceil mode), so PyTorch scales its sum by "
                + area + "/" + covered + " where clpool uses the sum as it is");
    }

    private static int firstCut(Axis a) {
        for (int o = 0; o < a.out(); o++) {
            if (a.count(o) != a.window()) {
                return o;
            }
        }
        return -1;
    }

    // ------------------------------------------------------------------------------------------
    // TensorFlow: tf.nn.max_pool2d / tf.nn.avg_pool2d (tf.nn.pool for dilation)
    // ------------------------------------------------------------------------------------------

    static FrameworkVerdict tensorflow(PoolGeometry g) {
        PoolSpec s = g.spec();
        Findings f = new Findings("TensorFlow");
        if (s.mode() == PoolMode.LP) {
            // tf.nn has max_pool2d, avg_pool2d and pool(pooling_type "MAX" or "AVG"); no LP pooling.
            f.refused.add("TensorFlow has no LP pooling op (tf.nn.pool supports only MAX and AVG)");
            return f.verdict(Framework.TENSORFLOW, null);
        }
        Padding.Kind kind = s.padding().kind();
        boolean sameRule = isSameRule(kind);
        boolean dilated = s.dilationH() > 1 || s.dilationW() > 1;
        if (dilated && (s.strideH() > 1 || s.strideW() > 1)) {
            // tf.nn.max_pool2d/avg_pool2d(input, ksize, strides, padding, data_format) have no dilation;
            // tf.nn.pool(..., dilations): "If any value of strides is > 1, then all values of dilation_rate must be 1."
            f.refused.add("tf.nn.max_pool2d and tf.nn.avg_pool2d have no dilation; tf.nn.pool has dilations but only"
                    + " with all strides 1");
        }
        if (s.ceilMode() && !sameRule) {
            // No ceil_mode anywhere: VALID and explicit padding give floor((in + pads - k) / s) + 1.
            boolean changesNothing = true;
            for (Axis a : axes(g)) {
                long floorOut = explicitOut(a, a.padBegin(), a.padEnd(), false);
                if (floorOut != a.out()) {
                    changesNothing = false;
                    f.refused.add("TensorFlow has no ceil mode: its " + name(g, a) + " output would be " + floorOut
                            + " (floor), clpool's ceil mode gives " + a.out());
                }
            }
            if (changesNothing) {
                f.notes.add("TensorFlow has no ceil mode; here it changes nothing");
            }
        }
        if (!f.refused.isEmpty()) {
            return f.verdict(Framework.TENSORFLOW, null);
        }
        // Padding forms: "SAME" (out = ceil(in/s), total = max((out-1)*s + k - in, 0), before = total/2),
        // "VALID", or (tf.nn.max_pool2d only) explicit [[0, 0], [top, bottom], [left, right], [0, 0]],
        // each "not greater than the sliding window size". tf.nn.avg_pool2d and tf.nn.pool: SAME or VALID only.
        Axis r = g.rows();
        Axis c = g.cols();
        Axis sr = sameAxis(r, false);
        Axis sc = sameAxis(c, false);
        String padding;
        Axis fr;
        Axis fc;
        if (!padded(g)) {
            padding = "'VALID'";
            fr = explicitAxis(r, 0, 0, false);
            fc = explicitAxis(c, 0, 0, false);
        } else if (samePads(sr, r) && samePads(sc, c)) {
            padding = "'SAME'";
            fr = sr;
            fc = sc;
            if (kind != Padding.Kind.SAME) {
                f.notes.add("clpool's " + s.padding() + " padding equals TensorFlow's 'SAME' for this input size");
            }
            if (dilated) {
                f.check.add("tf.nn.pool with dilations and 'SAME': the padding should follow the dilated window, as"
                        + " clpool's does, but this was not verified");
            }
        } else if (s.mode() == PoolMode.MAX && !dilated) {
            padding = "[[0, 0], [" + r.padBegin() + ", " + r.padEnd() + "], [" + c.padBegin() + ", " + c.padEnd()
                    + "], [0, 0]]";
            fr = explicitAxis(r, r.padBegin(), r.padEnd(), false);
            fc = explicitAxis(c, c.padBegin(), c.padEnd(), false);
        } else {
            String op = dilated ? "tf.nn.pool" : "tf.nn.avg_pool2d";
            f.refused.add(op + " accepts only 'SAME' or 'VALID' padding; top " + r.padBegin() + ", bottom "
                    + r.padEnd() + ", left " + c.padBegin() + ", right " + c.padEnd() + " is neither (TensorFlow's"
                    + " 'SAME' would pad " + sr.padBegin() + ", " + sr.padEnd() + ", " + sc.padBegin() + ", "
                    + sc.padEnd() + ")");
            return f.verdict(Framework.TENSORFLOW, null);
        }
        String call;
        if (dilated) {
            call = "tf.nn.pool(x, window_shape=" + tuple(s.windowH(), s.windowW()) + ", pooling_type='"
                    + (s.mode() == PoolMode.MAX ? "MAX" : "AVG") + "', strides=(1, 1), padding=" + padding
                    + ", dilations=" + tuple(s.dilationH(), s.dilationW()) + ")";
        } else {
            call = "tf.nn." + (s.mode() == PoolMode.MAX ? "max_pool2d" : "avg_pool2d") + "(x, ksize="
                    + tuple(s.windowH(), s.windowW()) + ", strides=" + tuple(s.strideH(), s.strideW()) + ", padding="
                    + padding + ")";
        }
        if (sameWindows(f, g, fr, fc) && s.mode() == PoolMode.AVG) {
            // "The reduction never includes out-of-bounds positions" (tf.nn.pool); SAME averages divide by the
            // number of input elements (tensorflow#45579, #60509). There is no count_include_pad option.
            divisorDifference(g, fr, fc, Divisor.INPUT_ELEMENTS, Divisor.TAPS_IN_PADDED_RANGE, false)
                    .ifPresent(w -> f.different.add("TensorFlow's average never counts padding (there is no"
                            + " count_include_pad): window " + w.where() + " is divided by " + w.theirs()
                            + " in TensorFlow and by " + w.ours() + " in clpool"));
        }
        if (s.mode() == PoolMode.MAX) {
            f.notes.add("NaN: TensorFlow's MaxPool does not reliably propagate NaN (an all-NaN window has given"
                    + " -3.4e38 on the CPU; tensorflow/tensorflow#2501, #54841): check data with NaN");
        }
        return f.verdict(Framework.TENSORFLOW, call);
    }

    // ------------------------------------------------------------------------------------------
    // ONNX opset 22: MaxPool / AveragePool / LpPool
    // ------------------------------------------------------------------------------------------

    static FrameworkVerdict onnx(PoolGeometry g) {
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
            for (Axis a : axes(g)) {
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
        Axis r = g.rows();
        Axis c = g.cols();
        Axis fr;
        Axis fc;
        if (autoPad) {
            fr = sameAxis(r, lower);
            fc = sameAxis(c, lower);
        } else {
            // Explicit pads: floor/ceil((in + pads - ((k-1)*d + 1)) / s) + 1; "Sliding windows that would start in
            // the right padded region are ignored" (MaxPool/AveragePool text; convPoolShapeInference for all three).
            fr = explicitAxis(r, r.padBegin(), r.padEnd(), ceil);
            fc = explicitAxis(c, c.padBegin(), c.padEnd(), ceil);
            if (ceil && s.mode() == PoolMode.LP) {
                for (Axis a : axes(g)) {
                    long raw = rawCeilOut(a);
                    if (raw != a.out()) {
                        f.check.add("LpPool's operator text gives ceil(...) + 1 = " + raw + " for the " + name(g, a)
                                + " without the rule that drops a window starting in the end padding (MaxPool's and"
                                + " AveragePool's text have it, and ONNX shape inference applies it): expect "
                                + a.out() + ", but check your runtime");
                    }
                }
            }
        }
        if (sameWindows(f, g, fr, fc) && s.mode() == PoolMode.AVG) {
            if (!s.countIncludePad()) {
                // "divided by the number of elements (exclude pad when attribute count_include_pad is zero)".
                divisorDifference(g, fr, fc, Divisor.INPUT_ELEMENTS, Divisor.INPUT_ELEMENTS, false)
                        .ifPresent(w -> f.different.add("window " + w.where() + " is divided by " + w.theirs()
                                + " in ONNX and by " + w.ours() + " in clpool"));
            } else {
                // count_include_pad=1: the number of the window's elements, padding included. The reference
                // implementation averages the window's taps over the zero-padded input, as clpool does
                // (SEMANTICS.md counts taps, not the span, with dilation); only the ceil-mode overhang is open.
                divisorDifference(g, fr, fc, Divisor.TAPS_IN_PADDED_RANGE, Divisor.TAPS_IN_PADDED_RANGE, true)
                        .ifPresent(w -> f.different.add("window " + w.where() + " is divided by " + w.theirs()
                                + " in ONNX and by " + w.ours() + " in clpool"));
                if (overhangs(g.rows()) || overhangs(g.cols())) {
                    f.check.add("AveragePool's text does not say what count_include_pad=1 divides by when a"
                            + " ceil-mode window runs past the end padding: clpool, like PyTorch, counts up to the end of"
                            + " the padding (last window: " + g.divisor(g.rows().out() - 1, g.cols().out() - 1)
                            + "); ONNX reference implementations have counted that way in some versions and every tap"
                            + " in others: check your runtime");
                }
            }
        }
        StringBuilder call = new StringBuilder(op).append("(kernel_shape=").append(list(s.windowH(), s.windowW()));
        call.append(", strides=").append(list(s.strideH(), s.strideW()));
        if (autoPad) {
            call.append(", auto_pad='").append(lower ? "SAME_LOWER" : "SAME_UPPER").append('\'');
            f.notes.add("auto_pad is deprecated; pads=[" + r.padBegin() + ", " + c.padBegin() + ", " + r.padEnd()
                    + ", " + c.padEnd() + "] is the same request");
        } else if (padded(g)) {
            f.notes.add("ONNX orders pads as [top, left, bottom, right]");
            call.append(", pads=[").append(r.padBegin()).append(", ").append(c.padBegin()).append(", ")
                    .append(r.padEnd()).append(", ").append(c.padEnd()).append(']');
        }
        if (s.dilationH() > 1 || s.dilationW() > 1) {
            call.append(", dilations=").append(list(s.dilationH(), s.dilationW()));
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

    /** Output sizes and window starts agree on both axes; otherwise records why not. */
    private static boolean sameWindows(Findings f, PoolGeometry g, Axis fr, Axis fc) {
        boolean same = true;
        Axis[] ours = {g.rows(), g.cols()};
        Axis[] theirs = {fr, fc};
        for (int i = 0; i < 2; i++) {
            if (theirs[i].out() != ours[i].out()) {
                f.different.add(f.name + " gives an output " + name(g, ours[i]) + " of " + theirs[i].out()
                        + ", clpool " + ours[i].out());
                same = false;
            } else if (theirs[i].padBegin() != ours[i].padBegin()) {
                f.different.add(f.name + "'s " + name(g, ours[i]) + " windows start at " + theirs[i].start(0)
                        + ", clpool's at " + ours[i].start(0));
                same = false;
            }
        }
        return same;
    }

    private static String name(PoolGeometry g, Axis a) {
        return a == g.rows() ? "height" : "width";
    }

    /** What one framework's rules found; the strongest finding decides the verdict. */
    private static final class Findings {
        final String name;
        final List<String> refused = new ArrayList<>();
        final List<String> different = new ArrayList<>();
        final List<String> check = new ArrayList<>();
        final List<String> notes = new ArrayList<>();

        Findings(String name) {
            this.name = name;
        }

        FrameworkVerdict verdict(Framework f, String call) {
            if (!refused.isEmpty()) {
                return new FrameworkVerdict(f, Verdict.REFUSED, null, refused, notes);
            }
            if (!different.isEmpty()) {
                return new FrameworkVerdict(f, Verdict.DIFFERENT, call, different, notes);
            }
            if (!check.isEmpty()) {
                return new FrameworkVerdict(f, Verdict.CHECK, call, check, notes);
            }
            return new FrameworkVerdict(f, Verdict.SAME, call, List.of(), notes);
        }
    }
}
