package dev.clpool.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.clpool.Padding;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.explain.AxisExplanation;
import dev.clpool.explain.Explanation;
import dev.clpool.explain.FrameworkVerdict;
import dev.clpool.explain.WindowSpan;
import java.io.PrintWriter;
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
        footer = {"", "Example:", "  clpool explain --input-shape 1,112,112,64 --mode max --window 3 --stride 2 --pad 1"})
final class ExplainCommand implements Callable<Integer> {

    /** Format version of the --json object; bump it when a field changes meaning or disappears. */
    static final int JSON_FORMAT = 1;

    private static final int TAPS_SHOWN = 8;

    @Spec
    CommandSpec command;

    @Option(names = "--input-shape", required = true, paramLabel = "N,H,W,C",
            description = "The NHWC input shape, four integers >= 1.")
    String inputShape;

    @Mixin
    SpecOptions spec;

    @Option(names = "--json", description = "Print one JSON object instead of text (fields: docs/explain-json.md).")
    boolean json;

    @Override
    public Integer call() {
        Shape shape = parseShape(inputShape);
        PoolSpec s = spec.spec(2);
        Explanation e = Explanation.of(s, shape); // InvalidSpecException: exit 2, one line
        List<FrameworkVerdict> frameworks = e.frameworks();
        PrintWriter out = command.commandLine().getOut();
        if (json) {
            out.println(new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create()
                    .toJson(toJson(e, frameworks)));
        } else {
            printText(out, e, frameworks);
        }
        out.flush();
        return ExitCodes.OK;
    }

    static Shape parseShape(String text) {
        String[] parts = text.split(",", -1);
        String problem = "--input-shape " + text + ": expected N,H,W,C, four integers >= 1";
        if (parts.length != 4) {
            throw CliException.badInput(problem);
        }
        int[] v = new int[4];
        for (int i = 0; i < 4; i++) {
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
            return Shape.of(v[0], v[1], v[2], v[3]);
        } catch (IllegalArgumentException x) {
            throw CliException.badInput("--input-shape " + text + ": " + x.getMessage());
        }
    }

    // ---------------------------------------------------------------------------------- text

    private static void printText(PrintWriter out, Explanation e, List<FrameworkVerdict> frameworks) {
        PoolSpec s = e.spec();
        out.println("request       " + s + " on input " + e.input() + " (N,H,W,C)");
        out.println("output shape  " + e.output() + " (N,H,W,C)");
        AxisExplanation r = e.rows();
        AxisExplanation c = e.cols();
        out.println("padding       top " + r.axis().padBegin() + ", bottom " + r.axis().padEnd() + ", left "
                + c.axis().padBegin() + ", right " + c.axis().padEnd() + " (" + ruleWord(r.paddingRule()) + ")");
        if (e.ceilModeIgnored()) {
            out.println("              --ceil-mode is ignored with " + ruleWord(r.paddingRule())
                    + " padding: the output size is ceil(in / stride) by definition");
        }
        for (AxisExplanation a : List.of(r, c)) {
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
        out.println("windows       (" + r.first().index() + "," + c.first().index() + ") covers "
                + r.first().inputElements() + " x " + c.first().inputElements() + " = " + e.firstInputElements()
                + " input elements, (" + r.last().index() + "," + c.last().index() + ") covers "
                + r.last().inputElements() + " x " + c.last().inputElements() + " = " + e.lastInputElements());
        out.println();
        for (String line : modeRule(e)) {
            out.println(line);
        }
        out.println();
        out.println("frameworks (x is NCHW for PyTorch and ONNX: x.permute(0, 3, 1, 2); NHWC for TensorFlow):");
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
    private static List<String> modeRule(Explanation e) {
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
                AxisExplanation r = e.rows();
                AxisExplanation c = e.cols();
                return List.of(rule,
                        "  first window (" + r.first().index() + "," + c.first().index() + "): "
                                + r.first().divisorFactor() + " x " + c.first().divisorFactor() + " = " + e.firstDivisor(),
                        "  last window  (" + r.last().index() + "," + c.last().index() + "): "
                                + r.last().divisorFactor() + " x " + c.last().divisorFactor() + " = " + e.lastDivisor());
            }
        }
    }

    private static String ruleWord(Padding.Kind kind) {
        return kind.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    // ---------------------------------------------------------------------------------- JSON

    static JsonObject toJson(Explanation e, List<FrameworkVerdict> frameworks) {
        PoolSpec s = e.spec();
        JsonObject o = new JsonObject();
        o.addProperty("format", JSON_FORMAT);

        JsonObject req = new JsonObject();
        req.addProperty("spec", s.toString());
        req.addProperty("mode", s.mode().word());
        req.add("window", ints(s.windowH(), s.windowW()));
        req.add("stride", ints(s.strideH(), s.strideW()));
        req.add("dilation", ints(s.dilationH(), s.dilationW()));
        req.addProperty("padding", s.padding().toString());
        req.addProperty("ceil_mode", s.ceilMode());
        req.addProperty("count_include_pad", s.countIncludePad());
        if (s.mode() == PoolMode.LP) {
            req.addProperty("p", s.p());
        } else {
            req.add("p", JsonNull.INSTANCE);
        }
        o.add("request", req);
        o.add("input_shape", JsonValues.shape(e.input()));
        o.add("output_shape", JsonValues.shape(e.output()));

        AxisExplanation r = e.rows();
        AxisExplanation c = e.cols();
        JsonObject pad = new JsonObject();
        pad.addProperty("rule", ruleWord(r.paddingRule()));
        pad.addProperty("top", r.axis().padBegin());
        pad.addProperty("bottom", r.axis().padEnd());
        pad.addProperty("left", c.axis().padBegin());
        pad.addProperty("right", c.axis().padEnd());
        pad.addProperty("ceil_mode_ignored", e.ceilModeIgnored());
        o.add("padding", pad);

        JsonArray axes = new JsonArray();
        axes.add(axis(r));
        axes.add(axis(c));
        o.add("axes", axes);

        JsonObject covered = new JsonObject();
        covered.addProperty("first_window", e.firstInputElements());
        covered.addProperty("last_window", e.lastInputElements());
        o.add("input_elements", covered);

        JsonObject mode = new JsonObject();
        mode.addProperty("rule", modeRule(e).get(0));
        if (s.mode() == PoolMode.AVG) {
            JsonObject div = new JsonObject();
            div.addProperty("rule", s.countIncludePad() ? "extent_clipped_at_end_padding" : "input_elements");
            div.addProperty("first_window", e.firstDivisor());
            div.addProperty("last_window", e.lastDivisor());
            mode.add("divisor", div);
        } else {
            mode.add("divisor", JsonNull.INSTANCE);
        }
        o.add("mode", mode);

        JsonArray fws = new JsonArray();
        for (FrameworkVerdict f : frameworks) {
            JsonObject fo = new JsonObject();
            fo.addProperty("framework", f.framework().title());
            fo.addProperty("verdict", f.verdict().word());
            if (f.call() == null) {
                fo.add("call", JsonNull.INSTANCE);
            } else {
                fo.addProperty("call", f.call());
            }
            fo.add("reasons", strings(f.reasons()));
            fo.add("notes", strings(f.notes()));
            fws.add(fo);
        }
        o.add("frameworks", fws);
        return o;
    }

    private static JsonObject axis(AxisExplanation a) {
        JsonObject o = new JsonObject();
        o.addProperty("axis", a.name());
        o.addProperty("in", a.axis().in());
        o.addProperty("out", a.axis().out());
        o.addProperty("window", a.axis().window());
        o.addProperty("stride", a.axis().stride());
        o.addProperty("dilation", a.axis().dilation());
        o.addProperty("effective_window", a.axis().effectiveWindow());
        o.addProperty("pad_begin", a.axis().padBegin());
        o.addProperty("pad_end", a.axis().padEnd());
        o.addProperty("padding_rule", ruleWord(a.paddingRule()));
        o.addProperty("padding_derivation", a.paddingDerivation());
        o.addProperty("output_derivation", a.outputDerivation());
        o.add("first_window", window(a.first()));
        o.add("last_window", window(a.last()));
        return o;
    }

    private static JsonObject window(WindowSpan w) {
        JsonObject o = new JsonObject();
        o.addProperty("index", w.index());
        o.addProperty("start", w.start());
        o.addProperty("end", w.end());
        JsonArray taps = new JsonArray();
        w.taps().forEach(taps::add);
        o.add("taps", taps);
        o.addProperty("input_elements", w.inputElements());
        o.addProperty("taps_in_padding", w.tapsInPadding());
        o.addProperty("taps_beyond_padding", w.tapsBeyondPadding());
        o.addProperty("divisor_factor", w.divisorFactor());
        return o;
    }


    private static JsonArray ints(int a, int b) {
        JsonArray v = new JsonArray();
        v.add(a);
        v.add(b);
        return v;
    }

    private static JsonArray strings(List<String> v) {
        JsonArray a = new JsonArray();
        v.forEach(a::add);
        return a;
    }
}
