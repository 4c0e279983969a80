package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code clpool probe} on this machine's device, through the packaged jar. The JSON is checked
 * against the field table of docs/probe-json.md in both directions: every documented field is
 * present with its type, and every field printed is documented.
 */
class ProbeDeviceIT {

    @TempDir
    Path tmp;

    private record Run(int exitCode, String stdout, String stderr) { }

    @BeforeEach
    void device() {
        DeviceAvailability.requireDevice();
    }

    @Test
    void probeJson_matchesDocumentedSchema_andListsASuitableDevice() throws Exception {
        Run r = clpool("probe", "--json");
        assertEquals(0, r.exitCode(), r::toString);
        JsonObject o = JsonParser.parseString(r.stdout()).getAsJsonObject();
        checkSchema(o);
        assertTrue(o.get("error").isJsonNull(), r::toString);
        assertTrue(o.get("self_test_passed").isJsonNull(), "no self-test was asked for");
        assertTrue(o.get("usable_devices").getAsInt() >= 1, r::toString);
        List<JsonObject> devices = devices(o);
        assertTrue(devices.stream().anyMatch(d -> d.get("suitable").getAsBoolean()), r::toString);
        assertTrue(devices.stream().noneMatch(d -> d.has("self_test")), "self_test only with --self-test");
        for (JsonObject d : devices) {
            assertFalse(d.getAsJsonArray("bindings").isEmpty(), d::toString);
        }
    }

    @Test
    void probeSelfTestJson_passesOnEveryBinding_andReportsBandwidth() throws Exception {
        Run r = clpool("probe", "--json", "--self-test");
        assertEquals(0, r.exitCode(), r::toString);
        JsonObject o = JsonParser.parseString(r.stdout()).getAsJsonObject();
        checkSchema(o);
        assertTrue(o.get("self_test_passed").getAsBoolean(), r::toString);
        for (JsonObject d : devices(o)) {
            if (!d.get("suitable").getAsBoolean()) {
                continue;
            }
            JsonArray runs = d.getAsJsonObject("self_test").getAsJsonArray("runs");
            assertEquals(d.getAsJsonArray("bindings").size(), runs.size(), "one run per binding: " + d);
            for (JsonElement e : runs) {
                JsonObject run = e.getAsJsonObject();
                assertTrue(run.get("passed").getAsBoolean(), run::toString);
                assertTrue(run.getAsJsonObject("copy").get("gb_per_s").getAsDouble() > 0, run::toString);
                assertTrue(run.getAsJsonObject("pool").get("gb_per_s").getAsDouble() > 0, run::toString);
            }
        }
    }

    @Test
    void probeSelfTest_exits0_andPrintsPass() throws Exception {
        Run r = clpool("probe", "--self-test");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.stdout().contains("PASS: "), r::toString);
        assertTrue(r.stdout().contains("Self-test passed"), r::toString);
        assertFalse(r.stdout().contains("FAIL"), r::toString);
        assertTrue(r.stdout().contains("GB/s"), r::toString);
    }

    // ---- docs/probe-json.md as a schema ----

    private static final Pattern ROW = Pattern.compile("^\\| `([^`]+)` \\| ([^|]+) \\|");

    /** Field path (a[].b) to its documented type. */
    private static Map<String, String> documentedFields() throws IOException {
        Path doc = Path.of(System.getProperty("basedir", "."), "docs", "probe-json.md");
        Map<String, String> fields = new LinkedHashMap<>();
        for (String line : Files.readAllLines(doc, StandardCharsets.UTF_8)) {
            Matcher m = ROW.matcher(line);
            if (m.find()) {
                fields.put(m.group(1), m.group(2).trim());
            }
        }
        assertTrue(fields.size() > 30, "the field table of " + doc + " was not found");
        return fields;
    }

    private static void checkSchema(JsonObject o) throws IOException {
        Map<String, String> fields = documentedFields();
        walk(o, "", fields);
    }

    private static void walk(JsonElement e, String path, Map<String, String> fields) {
        if (e.isJsonArray()) {
            for (JsonElement item : e.getAsJsonArray()) {
                walk(item, path + "[]", fields);
            }
            return;
        }
        if (!e.isJsonObject()) {
            return;
        }
        JsonObject o = e.getAsJsonObject();
        String prefix = path.isEmpty() ? "" : path + ".";
        for (Map.Entry<String, String> f : fields.entrySet()) {
            String name = f.getKey();
            if (!name.startsWith(prefix) || name.substring(prefix.length()).matches(".*[.\\[].*")) {
                continue; // not a direct child of this object
            }
            String key = name.substring(prefix.length());
            String type = f.getValue();
            if (!o.has(key)) {
                assertTrue(type.endsWith("or absent"), "documented field " + name + " (" + type + ") is missing in " + o);
            } else {
                checkType(name, type, o.get(key));
            }
        }
        for (String key : o.keySet()) {
            String name = prefix + key;
            assertTrue(fields.containsKey(name), "field " + name + " is printed but not documented in docs/probe-json.md");
            walk(o.get(key), name, fields);
        }
    }

    private static void checkType(String name, String type, JsonElement v) {
        String base = type.replaceAll(" or (null|absent)$", "");
        if (v.isJsonNull()) {
            assertTrue(type.endsWith("or null"), name + " is null but documented as " + type);
            return;
        }
        if (base.startsWith("array of ")) {
            assertTrue(v.isJsonArray(), name + " should be an array: " + v);
            String item = base.substring("array of ".length());
            for (JsonElement x : v.getAsJsonArray()) {
                checkType(name + "[]", item, x);
            }
            return;
        }
        boolean ok;
        switch (base) {
            case "string": ok = v.isJsonPrimitive() && v.getAsJsonPrimitive().isString(); break;
            case "boolean": ok = v.isJsonPrimitive() && v.getAsJsonPrimitive().isBoolean(); break;
            case "number": ok = v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber(); break;
            case "integer":
                ok = v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber() && isIntegral(v.getAsBigDecimal());
                break;
            case "object": ok = v.isJsonObject(); break;
            default:
                fail("docs/probe-json.md: unknown type '" + type + "' for " + name);
                return;
        }
        assertTrue(ok, name + " should be " + type + ", is " + v);
    }

    private static boolean isIntegral(BigDecimal d) {
        return d.signum() == 0 || d.scale() <= 0 || d.stripTrailingZeros().scale() <= 0;
    }

    private static List<JsonObject> devices(JsonObject o) {
        List<JsonObject> out = new ArrayList<>();
        for (JsonElement p : o.getAsJsonArray("platforms")) {
            for (JsonElement d : p.getAsJsonObject().getAsJsonArray("devices")) {
                out.add(d.getAsJsonObject());
            }
        }
        return out;
    }

    // ---- running the jar ----

    private Run clpool(String... args) throws IOException, InterruptedException {
        String jar = System.getProperty("clpool.jar");
        assertTrue(jar != null && Files.isRegularFile(Path.of(jar)), "the packaged jar is missing: " + jar);
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(tmp, "stdout", ".txt");
        Path err = Files.createTempFile(tmp, "stderr", ".txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("clpool did not finish within 300 s: " + cmd);
        }
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }
}
