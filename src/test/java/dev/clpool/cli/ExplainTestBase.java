package dev.clpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.explain.Explanation;
import dev.clpool.explain.Framework;
import dev.clpool.explain.FrameworkVerdict;
import dev.clpool.explain.Verdict;
import dev.clpool.testing.OnnxCases;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** What the explain tests share: running the command in-process, reading its text, checking JSON keys against the docs. */
abstract class ExplainTestBase {
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    int run(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "explain";
        System.arraycopy(args, 0, all, 1, args.length);
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(all);
    }

    /** Runs a request that must succeed and returns its text. */
    String explain(String... args) {
        assertEquals(0, run(args), err.toString());
        assertEquals("", err.toString(), "nothing on stderr");
        return out.toString();
    }

    /** The lines of the framework's block: its verdict line, the call, reasons and notes. */
    static String block(String text, String framework) {
        int at = text.indexOf("\n  " + framework + " ");
        assertTrue(at >= 0, framework + " missing in\n" + text);
        int next = text.indexOf("\n  ", at + 3);
        while (next >= 0 && text.startsWith("\n              ", next)) {
            next = text.indexOf("\n  ", next + 3);
        }
        return next < 0 ? text.substring(at + 1) : text.substring(at + 1, next);
    }

    static void assertVerdict(String text, String framework, String phrase) {
        String b = block(text, framework);
        assertTrue(b.startsWith(String.format("  %-11s %s", framework, phrase)),
                framework + " should be '" + phrase + "':\n" + b);
    }

    static void assertContains(String text, String expected) {
        assertTrue(text.contains(expected), "expected\n  " + expected + "\nin\n" + text);
    }

    /** Every key the command writes is described in docs/explain-json.md (as `key` in a table row). */
    static void assertDocumented(JsonObject o) throws IOException {
        Path doc = Path.of("docs", "explain-json.md");
        String text = Files.readString(doc);
        List<String> keys = new ArrayList<>();
        collectKeys(o, keys);
        Matcher m = Pattern.compile("^\\| `([a-z_]+)`", Pattern.MULTILINE).matcher(text);
        List<String> documented = new ArrayList<>();
        while (m.find()) {
            documented.add(m.group(1));
        }
        for (String k : keys) {
            if (!documented.contains(k)) {
                fail("JSON key '" + k + "' is not documented in " + doc);
            }
        }
    }

    static void collectKeys(JsonElement e, List<String> keys) {
        if (e.isJsonObject()) {
            for (Map.Entry<String, JsonElement> en : e.getAsJsonObject().entrySet()) {
                keys.add(en.getKey());
                collectKeys(en.getValue(), keys);
            }
        } else if (e.isJsonArray()) {
            e.getAsJsonArray().forEach(x -> collectKeys(x, keys));
        }
    }
}
