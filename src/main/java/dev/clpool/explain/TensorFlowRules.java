package dev.clpool.explain;

import static dev.clpool.explain.FrameworkGeometry.*;

import dev.clpool.Axis;
import dev.clpool.Padding;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * TensorFlow's rules for {@link FrameworkRules}: {@code tf.nn.max_pool1d/2d/3d},
 * {@code tf.nn.avg_pool1d/2d/3d}, and {@code tf.nn.pool} for dilation. Sources: the API docs of
 * those functions and of {@code tf.raw_ops.MaxPool3D}; issues tensorflow/tensorflow#45579 and
 * #60509 (SAME average excludes padding), #2501 and #54841 (NaN in MaxPool).
 */
final class TensorFlowRules {

    private TensorFlowRules() {
    }

    static FrameworkVerdict tensorflow(ResolvedRequest g) {
        PoolSpec s = g.spec();
        Findings f = new Findings("TensorFlow");
        if (s.mode() == PoolMode.LP) {
            // tf.nn has max_poolKd, avg_poolKd and pool(pooling_type "MAX" or "AVG"); no LP pooling.
            f.refused.add("TensorFlow has no LP pooling op (tf.nn.pool supports only MAX and AVG)");
            return f.verdict(Framework.TENSORFLOW, null);
        }
        Padding.Kind kind = s.padding().kind();
        boolean sameRule = isSameRule(kind);
        boolean dilated = g.dilated();
        int k = g.rank();
        if (dilated && anyAbove1(g.stride())) {
            // tf.nn.max_poolKd/avg_poolKd(input, ksize, strides, padding, data_format) have no dilation;
            // tf.nn.pool(..., dilations): "If any value of strides is > 1, then all values of dilation_rate must be 1."
            f.refused.add("tf.nn.max_pool" + k + "d and tf.nn.avg_pool" + k + "d have no dilation; tf.nn.pool has"
                    + " dilations but only with all strides 1");
        }
        if (s.ceilMode() && !sameRule) {
            // No ceil_mode anywhere: VALID and explicit padding give floor((in + pads - k) / s) + 1.
            boolean changesNothing = true;
            for (int i = 0; i < k; i++) {
                Axis a = g.axis(i);
                long floorOut = explicitOut(a, a.padBegin(), a.padEnd(), false);
                if (floorOut != a.out()) {
                    changesNothing = false;
                    f.refused.add("TensorFlow has no ceil mode: its " + g.name(i) + " output would be " + floorOut
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
        // "VALID", or (tf.nn.max_pool1d and max_pool2d only) explicit [[0, 0], [begin, end]..., [0, 0]], each
        // "not greater than the sliding window size". tf.nn.avg_poolKd, max_pool3d and tf.nn.pool: SAME or VALID only.
        List<Axis> same = new ArrayList<>();
        boolean sameMatches = true;
        for (Axis a : g.axes()) {
            Axis t = sameAxis(a, false);
            same.add(t);
            sameMatches &= samePads(t, a);
        }
        String padding;
        List<Axis> theirs;
        if (!g.padded()) {
            padding = "'VALID'";
            theirs = new ArrayList<>();
            for (Axis a : g.axes()) {
                theirs.add(explicitAxis(a, 0, 0, false));
            }
        } else if (sameMatches) {
            padding = "'SAME'";
            theirs = same;
            if (kind != Padding.Kind.SAME) {
                f.notes.add("clpool's " + s.padding() + " padding equals TensorFlow's 'SAME' for this input size");
            }
            if (dilated) {
                f.check.add("tf.nn.pool with dilations and 'SAME': the padding should follow the dilated window, as"
                        + " clpool's does, but this was not verified");
            }
        } else if (s.mode() == PoolMode.MAX && !dilated && k <= 2) {
            StringBuilder p = new StringBuilder("[[0, 0], ");
            for (Axis a : g.axes()) {
                p.append('[').append(a.padBegin()).append(", ").append(a.padEnd()).append("], ");
            }
            padding = p.append("[0, 0]]").toString();
            theirs = FrameworkRules.explicitAxes(g, false);
        } else {
            String op = dilated ? "tf.nn.pool" : "tf.nn." + (s.mode() == PoolMode.MAX ? "max" : "avg") + "_pool" + k + "d";
            f.refused.add(op + " accepts only 'SAME' or 'VALID' padding; " + sides(g.axes(), k) + " is neither"
                    + " (TensorFlow's 'SAME' would pad " + join(sameSides(same)) + ")");
            return f.verdict(Framework.TENSORFLOW, null);
        }
        String call;
        if (dilated) {
            int[] ones = new int[k];
            java.util.Arrays.fill(ones, 1);
            call = "tf.nn.pool(x, window_shape=" + tuple(g.window()) + ", pooling_type='"
                    + (s.mode() == PoolMode.MAX ? "MAX" : "AVG") + "', strides=" + tuple(ones) + ", padding=" + padding
                    + ", dilations=" + tuple(g.dilation()) + ")";
        } else {
            call = "tf.nn." + (s.mode() == PoolMode.MAX ? "max_pool" : "avg_pool") + k + "d(x, ksize="
                    + tuple(g.window()) + ", strides=" + tuple(g.stride()) + ", padding=" + padding + ")";
        }
        if (f.sameWindows(g, theirs) && s.mode() == PoolMode.AVG) {
            // "The reduction never includes out-of-bounds positions" (tf.nn.pool); SAME averages divide by the
            // number of input elements (tensorflow#45579, #60509). There is no count_include_pad option.
            divisorDifference(g, theirs, Divisor.INPUT_ELEMENTS, Divisor.TAPS_IN_PADDED_RANGE, false)
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

    /** {@code top 1, bottom 2, left 0, right 1} in 2-D; {@code depth 1+1, ...} otherwise. */
    private static String sides(List<Axis> axes, int k) {
        if (k == 2) {
            return "top " + axes.get(0).padBegin() + ", bottom " + axes.get(0).padEnd() + ", left "
                    + axes.get(1).padBegin() + ", right " + axes.get(1).padEnd();
        }
        StringBuilder b = new StringBuilder();
        String[] names = k == 1 ? new String[] {"width"} : new String[] {"depth", "height", "width"};
        for (int i = 0; i < k; i++) {
            b.append(i == 0 ? "" : ", ").append(names[i]).append(' ').append(axes.get(i).padBegin()).append(" before, ")
                    .append(axes.get(i).padEnd()).append(" after");
        }
        return b.toString();
    }

    /** The begin and end of every axis in turn. */
    private static int[] sameSides(List<Axis> same) {
        int[] v = new int[2 * same.size()];
        for (int i = 0; i < same.size(); i++) {
            v[2 * i] = same.get(i).padBegin();
            v[2 * i + 1] = same.get(i).padEnd();
        }
        return v;
    }
}
