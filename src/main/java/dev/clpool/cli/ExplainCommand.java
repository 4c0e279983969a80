package dev.clpool.cli;

import com.google.gson.GsonBuilder;
import dev.clpool.Layout;
import dev.clpool.Padding;
import dev.clpool.PoolSpec;
import dev.clpool.TensorShape;
import dev.clpool.explain.AxisExplanation;
import dev.clpool.explain.FrameworkVerdict;
import dev.clpool.explain.RequestExplanation;
import dev.clpool.explain.WindowSpan;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code clpool explain}: what a pooling request means for a given input shape, and how PyTorch,
 * TensorFlow and ONNX would treat it. Needs no data and no device. {@code --json} prints the same
 * as one JSON object (docs/explain-json.md).
 */
@Command(name = "explain", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Explain a pooling request without running it: output shape, padding and where it came from,"
                + " the first and last window on each axis, the divisor of an average, and how PyTorch, TensorFlow"
                + " and ONNX would treat the same request."},
        footer = {"", "Examples:", "  clpool explain --input-shape 1,112,112,64 --mode max --window 3 --stride 2 --pad 1",
                "  clpool explain --input-shape 1,64,16,56,56 --layout channels-first --mode avg --window 1,2,2",
                "  clpool explain --input-shape 8,16000,1 --mode max --window 4 --stride 4"})
final class ExplainCommand implements Callable<Integer> {

    private static final int TAPS_SHOWN = 8;

    @Spec
    CommandSpec command;

    @Option(names = "--input-shape", required = true, paramLabel = "N,...",
            description = "The input shape in storage order, 3, 4 or 5 integers >= 1 (spatial rank 1 to 3):"
                    + " N,[D,][H,]W,C or, with --layout channels-first, N,C,[D,][H,]W.")
    String inputShape;

    @Option(names = "--layout", paramLabel = "channels-last|channels-first", defaultValue = "channels-last",
            converter = Converters.LayoutWord.class, description = "Where C is in --input-shape (default: channels-last).")
    Layout layout;

    @Mixin
    SpecOptions spec;

    @Option(names = "--json", description = "Print one JSON object instead of text (fields: docs/explain-json.md).")
    boolean json;

    @Override
    public Integer call() {
        spec.check();
        TensorShape shape = parseShape(inputShape, layout);
        PoolSpec s = spec.spec(shape.rank());
        RequestExplanation e = RequestExplanation.of(s, shape); // InvalidSpecException: exit 2, one line
        List<FrameworkVerdict> frameworks = e.frameworks();
        PrintWriter out = command.commandLine().getOut();
        if (json) {
            out.println(new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create()
                    .toJson(ExplainJson.toJson(e, frameworks)));
        } else {
            printText(out, e, frameworks);
        }
        out.flush();
        return ExitCodes.OK;
    }

    static TensorShape parseShape(String text, Layout layout) {
        String[] parts = text.split(",", -1);
        String problem = "--input-shape " + text + ": expected " + labels(layout, 2) + ", " + labels(layout, 1) + " or "
                + labels(layout, 3) + " (" + layout.word() + "), 3 to 5 integers >= 1";
        if (parts.length < 3 || parts.length > 5) {
            throw CliException.badInput(problem);
        }
        int[] v = new int[parts.length];
        for (int i = 0; i < v.length; i++) {
            try {
                v[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException x) {
                throw CliException.badInput(problem);
            }
            if (v[i] < 1) {
                throw CliException.badInput(problem);
            }
        }
        try {
            return TensorShape.fromDims(v, layout);
        } catch (IllegalArgumentException x) {
            throw CliException.badInput("--input-shape " + text + ": " + x.getMessage());
        }
    }

    /** The axis letters of a shape in storage order: {@code N,H,W,C}, {@code N,C,D,H,W}, {@code N,W,C}. */
    static String labels(Layout layout, int rank) {
        String spatial = rank == 1 ? "W" : rank == 2 ? "H,W" : "D,H,W";
        return layout == Layout.CHANNELS_LAST ? "N," + spatial + ",C" : "N,C," + spatial;
    }

    /** {@code NHWC}, {@code NCDHW} and alike: the layout as the frameworks name it. */
    static String format(Layout layout, int rank) {
        return labels(layout, rank).replace(",", "");
    }

    // ---------------------------------------------------------------------------------- text

    private static void printText(PrintWriter out, RequestExplanation e, List<FrameworkVerdict> frameworks) {
        PoolSpec s = e.spec();
        int k = e.input().rank();
        String labels = " (" + labels(e.input().layout(), k) + ")";
        out.println("request       " + s + " on input " + e.input() + labels);
        out.println("output shape  " + e.output() + labels);
        List<AxisExplanation> axes = e.axes();
        Padding.Kind rule = axes.get(0).paddingRule();
        out.println("padding       " + paddingSides(axes) + " (" + ruleWord(rule) + ")");
        if (e.ceilModeIgnored()) {
            out.println("              --ceil-mode is ignored with " + ruleWord(rule)
                    + " padding: the output size is ceil(in / stride) by definition");
        }
        for (AxisExplanation a : axes) {
            out.println();
            out.println(a.name() + ": in " + a.axis().in() + ", window " + a.axis().window() + ", stride "
                    + a.axis().stride() + ", dilation " + a.axis().dilation() + " (effective window "
                    + a.axis().effectiveWindow() + ")");
            out.println("  padding       " + a.paddingDerivation());
            out.println("  output        " + a.outputDerivation());
            out.println("  first window  " + describe(a.first(), a.axis().dilation()));
            out.println("  last window   " + describe(a.last(), a.axis().dilation()));
        }
        out.println();
        out.println("windows       " + position(axes, true) + " covers " + factors(axes, true, false)
                + e.firstInputElements() + " input elements, " + position(axes, false) + " covers "
                + factors(axes, false, false) + e.lastInputElements());
        out.println();
        for (String line : modeRule(e)) {
            out.println(line);
        }
        out.println();
        out.println("frameworks (" + frameworkInputs(e.input().layout(), k) + "):");
        for (FrameworkVerdict f : frameworks) {
            out.println(String.format(Locale.ROOT, "  %-11s %s", f.framework().title(), f.verdict().phrase()));
            if (f.call() != null) {
                out.println("              " + f.call());
            }
            for (String why : f.reasons()) {
                out.println("              - " + why);
            }
            for (String note : f.notes()) {
                out.println("              note: " + note);
            }
        }
    }

    /** {@code top 1, bottom 1, left 1, right 1} in 2-D; {@code depth 0 before, 0 after, ...} otherwise. */
    private static String paddingSides(List<AxisExplanation> axes) {
        if (axes.size() == 2) {
            return "top " + axes.get(0).axis().padBegin() + ", bottom " + axes.get(0).axis().padEnd() + ", left "
                    + axes.get(1).axis().padBegin() + ", right " + axes.get(1).axis().padEnd();
        }
        List<String> v = new ArrayList<>();
        for (AxisExplanation a : axes) {
            v.add(a.name() + " " + a.axis().padBegin() + " before, " + a.axis().padEnd() + " after");
        }
        return String.join("; ", v);
    }

    /** What {@code x} is in each framework's call, and how to get it from a tensor of this layout. */
    static String frameworkInputs(Layout layout, int k) {
        String first = format(Layout.CHANNELS_FIRST, k);
        String last = format(Layout.CHANNELS_LAST, k);
        StringBuilder toFirst = new StringBuilder("0, ").append(k + 1);
        StringBuilder toLast = new StringBuilder("0");
        for (int i = 1; i <= k; i++) {
            toFirst.append(", ").append(i);
            toLast.append(", ").append(i + 1);
        }
        toLast.append(", 1");
        return layout == Layout.CHANNELS_LAST
                ? "x is " + first + " for PyTorch and ONNX: x.permute(" + toFirst + "); " + last + " for TensorFlow"
                : "x is " + first + " for PyTorch and ONNX, as given; " + last + " for TensorFlow: tf.transpose(x, ["
                        + toLast + "])";
    }

    /** {@code (0,0)}: the first (or last) output position on every axis. */
    private static String position(List<AxisExplanation> axes, boolean first) {
        List<String> v = new ArrayList<>();
        for (AxisExplanation a : axes) {
            v.add(Integer.toString((first ? a.first() : a.last()).index()));
        }
        return "(" + String.join(",", v) + ")";
    }

    /** {@code 2 x 2 = } (nothing for one axis): the per-axis factors of a window's element count or divisor. */
    private static String factors(List<AxisExplanation> axes, boolean first, boolean divisor) {
        if (axes.size() == 1) {
            return "";
        }
        List<String> v = new ArrayList<>();
        for (AxisExplanation a : axes) {
            WindowSpan w = first ? a.first() : a.last();
            v.add(Integer.toString(divisor ? w.divisorFactor() : w.inputElements()));
        }
        return String.join(" x ", v) + " = ";
    }

    private static String describe(WindowSpan w, int dilation) {
        StringBuilder b = new StringBuilder("out " + w.index() + ": ");
        if (dilation > 1) {
            b.append("taps at ").append(taps(w.taps())).append(" (positions ").append(w.start()).append("..")
                    .append(w.end()).append(')');
        } else {
            b.append("input positions ").append(w.start()).append("..").append(w.end());
        }
        b.append(", ").append(w.inputElements()).append(w.inputElements() == 1 ? " input element" : " input elements");
        b.append(", ").append(w.tapsInPadding()).append(w.tapsInPadding() == 1 ? " tap" : " taps").append(" in padding");
        if (w.tapsBeyondPadding() > 0) {
            b.append(", ").append(w.tapsBeyondPadding()).append(w.tapsBeyondPadding() == 1 ? " tap" : " taps")
                    .append(" past the end padding (ceil mode)");
        }
        return b.toString();
    }

    private static String taps(List<Long> taps) {
        if (taps.size() <= TAPS_SHOWN) {
            return join(taps);
        }
        return join(taps.subList(0, 3)) + ", ..., " + taps.get(taps.size() - 1);
    }

    private static String join(List<Long> v) {
        StringBuilder b = new StringBuilder();
        for (Long x : v) {
            if (b.length() > 0) {
                b.append(", ");
            }
            b.append(x);
        }
        return b.toString();
    }

    /** The mode's rule: what padding means, and for avg the divisor of the first and last window. */
    static List<String> modeRule(RequestExplanation e) {
        PoolSpec s = e.spec();
        switch (s.mode()) {
            case MAX:
                return List.of("max: each output is the largest input element of its window; padding never wins (it"
                        + " counts as -inf); a NaN in the window gives NaN (the first NaN).");
            case LP:
                return List.of("lp: (sum of |x|^p)^(1/p) over the window's input elements, p = " + s.p()
                        + "; padding contributes 0 (it is left out of the sum).");
            default: {
                String rule = s.countIncludePad()
                        ? "avg divisor (count_include_pad true): the window's taps inside the padded input, per axis"
                                + " (padding counts; a ceil-mode overhang does not; with dilation, taps, not the span)"
                        : "avg divisor (count_include_pad false): the number of input elements in the window"
                                + " (padding does not count)";
                List<AxisExplanation> axes = e.axes();
                return List.of(rule,
                        "  first window " + position(axes, true) + ": " + factors(axes, true, true) + e.firstDivisor(),
                        "  last window  " + position(axes, false) + ": " + factors(axes, false, true) + e.lastDivisor());
            }
        }
    }

    static String ruleWord(Padding.Kind kind) {
        return kind.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
