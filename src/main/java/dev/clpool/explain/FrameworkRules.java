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
 * How PyTorch, TensorFlow and ONNX would treat a clpool request of spatial rank 1, 2 or 3: each
 * framework's rules, written down with their sources, applied to the request's numbers axis by
 * axis. This class holds PyTorch's rules; {@link TensorFlowRules} and {@link OnnxRules} the others.
 *
 * <p>The method is the same for all three: translate the request into the framework's call (if it
 * can be expressed at all), work out the framework's own output size, window positions and average
 * divisor with the framework's formulas, and compare them with clpool's {@link ResolvedRequest}. Where a
 * framework's rule for a corner case is not settled by its documentation, the verdict is
 * {@link Verdict#CHECK} with the reason, never a guess.
 *
 * <p>Sources (read when this table was written):
 * <ul>
 * <li>PyTorch: {@code torch.nn.functional.max_pool1d/2d/3d, avg_pool1d/2d/3d, lp_pool1d/2d/3d} docs and
 *     {@code torch/nn/functional.py}; ATen {@code Pool.h} ({@code pooling_output_shape},
 *     {@code pool2d_shape_check}, {@code pool3d_shape_check}; 1-D pooling runs as 2-D with a height of 1), the CPU average kernel ({@code pool_size = (hend - hstart) * (wend - wstart)})
 *     and max kernel ({@code if ((val > maxval) || std::isnan(val))}).</li>
 * <li>TensorFlow: {@code tf.nn.max_pool1d/2d/3d}, {@code tf.nn.avg_pool1d/2d/3d}, {@code tf.nn.pool} API docs;
 *     issues tensorflow/tensorflow#45579 and #60509 (SAME average excludes padding), #2501 and #54841 (NaN in MaxPool).</li>
 * <li>ONNX: {@code onnx/defs/nn/defs.cc} at opset 22 (operator text and {@code convPoolShapeInference}),
 *     {@code onnx/reference/ops/op_pool_common.py}, and the node test data in {@code ../shared/conformance/onnx}.</li>
 * </ul>
 */
public final class FrameworkRules {

    private FrameworkRules() {
    }

    /** PyTorch, TensorFlow and ONNX, in that order, for a 2-D channels-last request. */
    public static List<FrameworkVerdict> compare(PoolGeometry g) {
        return compare(ResolvedRequest.of(g));
    }

    /** PyTorch, TensorFlow and ONNX, in that order, for a request of any spatial rank and layout. */
    public static List<FrameworkVerdict> compare(ResolvedRequest g) {
        return List.of(pytorch(g), TensorFlowRules.tensorflow(g), OnnxRules.onnx(g));
    }

    // ------------------------------------------------------------------------------------------
    // PyTorch: torch.nn.functional.max_poolKd / avg_poolKd / lp_poolKd
    // ------------------------------------------------------------------------------------------

    static FrameworkVerdict pytorch(ResolvedRequest g) {
        PoolSpec s = g.spec();
        Findings f = new Findings("PyTorch");
        Padding.Kind kind = s.padding().kind();
        boolean sameRule = isSameRule(kind);
        String fn = "torch.nn.functional." + (s.mode() == PoolMode.MAX ? "max_pool"
                : s.mode() == PoolMode.AVG ? "avg_pool" : "lp_pool") + g.rank() + "d";
        boolean dilated = g.dilated();

        // Only max_poolKd(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices) has
        // dilation; avg_poolKd(input, kernel_size, stride, padding, ceil_mode, count_include_pad[,
        // divisor_override]) and lp_poolKd(input, norm_type, kernel_size, stride, ceil_mode) do not.
        if (dilated && s.mode() != PoolMode.MAX) {
            f.refused.add(fn + " has no dilation argument");
        }
        if (s.mode() == PoolMode.LP) {
            // lp_poolKd has no padding argument: it calls avg_poolKd(input.pow(p), kernel_size, stride, 0, ceil_mode).
            if (g.padded()) {
                f.refused.add(fn + " has no padding argument (it calls avg_pool" + g.rank() + "d with padding 0)");
                f.notes.add("zero-padding x first (torch.nn.functional.pad) would give clpool's windows, since padding"
                        + " contributes 0 to an LP sum; not evaluated here");
            }
        } else {
            // padding is one number per axis, added on both sides ("implicit ... padding to be added on both sides").
            for (int i = 0; i < g.rank(); i++) {
                Axis a = g.axis(i);
                String name = g.name(i);
                if (a.padBegin() != a.padEnd()) {
                    f.refused.add("PyTorch pads both ends of an axis equally; the " + name + " here has " + a.padBegin()
                            + " before and " + a.padEnd() + " after"
                            + (kind == Padding.Kind.SAME_LOWER ? " (PyTorch has no same-lower rule)"
                                    : kind == Padding.Kind.SAME ? " (PyTorch pooling has no 'same' padding)" : ""));
                } else if (a.padBegin() > a.window() / 2) {
                    // Pool.h pool2d_shape_check / pool3d_shape_check: "pad should be smaller than or equal to half
                    // of kernel size"; pooling_output_shape's pad <= ((k-1)*d+1)/2 is then implied.
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
            List<Axis> theirs = explicitAxes(g, ceil);
            if (f.sameWindows(g, theirs)) {
                if (s.mode() == PoolMode.AVG) {
                    // CPU kernels: hend = min(hstart + kH, in + padH); pool_size = (tend - tstart) * (hend - hstart) *
                    // (wend - wstart) with count_include_pad, else the clipped extents' product.
                    divisorDifference(g, theirs, s.countIncludePad() ? Divisor.EXTENT : Divisor.INPUT_ELEMENTS,
                            Divisor.TAPS_IN_PADDED_RANGE, false)
                            .ifPresent(w -> f.different.add("window " + w.where() + " is divided by " + w.theirs()
                                    + " in PyTorch and by " + w.ours() + " in clpool"));
                } else if (s.mode() == PoolMode.LP) {
                    lpPartialWindow(g).ifPresent(f.different::add);
                    if (!isEvenInteger(s.p())) {
                        f.different.add("lp_pool" + g.rank() + "d raises x, not |x|, to the power p"
                                + " (input.pow(norm_type)): for negative inputs the result differs (NaN where x^p or the"
                                + " sum is negative), unless p is an even integer; for inputs >= 0 it is the same");
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
                f.notes.add("lp_pool" + g.rank() + "d averages x^p and multiplies by " + windowProductText(g)
                        + ": equal to clpool's sum up to float rounding");
            }
        }
        if (s.mode() == PoolMode.MAX && f.refused.isEmpty()) {
            f.notes.add("NaN propagates in PyTorch too; with several NaNs in a window PyTorch keeps the last one (and its"
                    + " index), clpool the first");
        }
        return f.verdict(Framework.PYTORCH, call);
    }

    private static String pytorchCall(String fn, ResolvedRequest g, boolean ceil) {
        PoolSpec s = g.spec();
        StringBuilder b = new StringBuilder(fn).append("(x, ");
        if (s.mode() == PoolMode.LP) {
            b.append("norm_type=").append(pythonFloat(s.p())).append(", ");
        }
        b.append("kernel_size=").append(tuple(g.window()));
        b.append(", stride=").append(tuple(g.stride()));
        if (s.mode() != PoolMode.LP && g.padded()) {
            b.append(", padding=").append(tuple(pads(g.axes(), false)));
        }
        if (g.dilated()) {
            b.append(", dilation=").append(tuple(g.dilation()));
        }
        if (ceil) {
            b.append(", ceil_mode=True");
        }
        if (s.mode() == PoolMode.AVG) {
            b.append(", count_include_pad=").append(s.countIncludePad() ? "True" : "False");
        }
        return b.append(')').toString();
    }

    /** Each axis with clpool's explicit padding and the PyTorch/ONNX output rule. */
    static List<Axis> explicitAxes(ResolvedRequest g, boolean ceil) {
        List<Axis> v = new ArrayList<>();
        for (Axis a : g.axes()) {
            v.add(explicitAxis(a, a.padBegin(), a.padEnd(), ceil));
        }
        return v;
    }

    /** {@code kh*kw} in 2-D, {@code kd*kh*kw} in 3-D, {@code k} in 1-D. */
    private static String windowProductText(ResolvedRequest g) {
        return g.rank() == 1 ? "k" : g.rank() == 2 ? "kh*kw" : "kd*kh*kw";
    }

    /**
     * lp_poolKd returns (avg_poolKd(x^p, count_include_pad=True, padding=0) * prod(k))^(1/p): a window
     * cut off by ceil mode has its sum scaled by prod(k) / (elements it covers).
     */
    private static Optional<String> lpPartialWindow(ResolvedRequest g) {
        int k = g.rank();
        int[] at = new int[k];
        boolean any = false;
        for (int i = 0; i < k; i++) {
            at[i] = firstCut(g.axis(i));
            any |= at[i] >= 0;
        }
        if (!any) {
            return Optional.empty();
        }
        long area = 1;
        long covered = 1;
        StringBuilder where = new StringBuilder("(");
        for (int i = 0; i < k; i++) {
            at[i] = Math.max(at[i], 0);
            area *= g.axis(i).window();
            covered *= g.axis(i).count(at[i]);
            where.append(i == 0 ? "" : ",").append(at[i]);
        }
        where.append(')');
        String w = windowProductText(g);
        return Optional.of("lp_pool" + k + "d computes (avg_pool" + k + "d(x^p) * " + w + ")^(1/p): window " + where
                + " covers " + covered + " of " + area + " elements (ceil mode), so PyTorch scales its sum by "
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
}
