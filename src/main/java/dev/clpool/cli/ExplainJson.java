package dev.clpool.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.clpool.Axis;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.explain.AxisExplanation;
import dev.clpool.explain.FrameworkVerdict;
import dev.clpool.explain.RequestExplanation;
import dev.clpool.explain.WindowSpan;
import java.util.List;

/** {@code clpool explain --json}: the explanation as one JSON object (docs/explain-json.md). */
final class ExplainJson {

    /** Format version of the --json object; bump it when a field changes meaning or disappears. */
    static final int JSON_FORMAT = 1;

    private ExplainJson() {
    }

    static JsonObject toJson(RequestExplanation e, List<FrameworkVerdict> frameworks) {
        PoolSpec s = e.spec();
        JsonObject o = new JsonObject();
        o.addProperty("format", JSON_FORMAT);

        JsonObject req = new JsonObject();
        req.addProperty("spec", s.toString());
        req.addProperty("mode", s.mode().word());
        int k = e.input().rank();
        req.add("window", ints(s.window(k)));
        req.add("stride", ints(s.stride(k)));
        req.add("dilation", ints(s.dilation(k)));
        req.addProperty("padding", s.padding().toString());
        req.addProperty("ceil_mode", s.ceilMode());
        req.addProperty("count_include_pad", s.countIncludePad());
        if (s.mode() == PoolMode.LP) {
            req.addProperty("p", s.p());
        } else {
            req.add("p", JsonNull.INSTANCE);
        }
        o.add("request", req);
        o.addProperty("layout", e.input().layout().word());
        o.addProperty("spatial_rank", k);
        o.add("input_shape", ints(e.input().dims()));
        o.add("output_shape", ints(e.output().dims()));

        List<AxisExplanation> list = e.axes();
        JsonObject pad = new JsonObject();
        pad.addProperty("rule", ExplainCommand.ruleWord(list.get(0).paddingRule()));
        String[] sides = {"top", "bottom", "left", "right"};
        for (int i = 0; i < sides.length; i++) {
            if (k == 2) {
                Axis a = list.get(i / 2).axis();
                pad.addProperty(sides[i], i % 2 == 0 ? a.padBegin() : a.padEnd());
            } else {
                pad.add(sides[i], JsonNull.INSTANCE);
            }
        }
        int[] begin = new int[k];
        int[] end = new int[k];
        JsonArray axes = new JsonArray();
        for (int i = 0; i < k; i++) {
            begin[i] = list.get(i).axis().padBegin();
            end[i] = list.get(i).axis().padEnd();
            axes.add(axis(list.get(i)));
        }
        pad.add("begin", ints(begin));
        pad.add("end", ints(end));
        pad.addProperty("ceil_mode_ignored", e.ceilModeIgnored());
        o.add("padding", pad);
        o.add("axes", axes);

        JsonObject covered = new JsonObject();
        covered.addProperty("first_window", e.firstInputElements());
        covered.addProperty("last_window", e.lastInputElements());
        o.add("input_elements", covered);

        JsonObject mode = new JsonObject();
        mode.addProperty("rule", ExplainCommand.modeRule(e).get(0));
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
        o.addProperty("padding_rule", ExplainCommand.ruleWord(a.paddingRule()));
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

    private static JsonArray ints(int... values) {
        JsonArray v = new JsonArray();
        for (int x : values) {
            v.add(x);
        }
        return v;
    }

    private static JsonArray strings(List<String> v) {
        JsonArray a = new JsonArray();
        v.forEach(a::add);
        return a;
    }
}
