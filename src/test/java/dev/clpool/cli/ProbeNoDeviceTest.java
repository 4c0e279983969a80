package dev.clpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code clpool probe} on a machine without an OpenCL platform: simulated with
 * {@code OCL_ICD_VENDORS} pointing at an empty directory, in a child JVM (the ICD loader reads it
 * once per process). The child runs the main class on this test's class path rather than
 * target/clpool.jar: surefire runs before {@code package}, so the jar would be missing or stale.
 * On a machine without libOpenCL.so at all the reason is NO_LIBRARY instead, and the test
 * accepts that too: either way the command must exit 3 and say why in one line.
 */
class ProbeNoDeviceTest {

    @TempDir
    Path tmp;

    private record Run(int exitCode, String stdout, String stderr) { }

    @Test
    void probe_withoutPlatform_exits3_withOneLineReason_andJsonErrorObject() throws Exception {
        Run json = probe("--json", "--self-test");
        assertEquals(ExitCodes.NO_DEVICE, json.exitCode(), json::toString);
        JsonObject o = JsonParser.parseString(json.stdout()).getAsJsonObject();
        JsonObject error = o.getAsJsonObject("error");
        String reason = error.get("reason").getAsString();
        assertTrue(reason.equals("NO_PLATFORM") || reason.equals("NO_LIBRARY"), json::toString);
        assertTrue(!error.get("message").getAsString().isBlank(), json::toString);
        assertEquals(0, o.get("usable_devices").getAsInt());
        assertEquals(0, o.getAsJsonArray("platforms").size());
        assertTrue(o.get("self_test_passed").isJsonNull(), "no self-test without a device");
        assertTrue(o.getAsJsonArray("bindings").size() >= 1, json::toString);

        Run text = probe();
        assertEquals(ExitCodes.NO_DEVICE, text.exitCode(), text::toString);
        assertEquals("", text.stdout(), "nothing to list");
        List<String> reasonLines = new ArrayList<>();
        for (String line : text.stderr().split("\\R")) {
            if (line.startsWith("clpool: ")) {
                reasonLines.add(line);
            }
        }
        assertEquals(1, reasonLines.size(), text::toString);
        String line = reasonLines.get(0).toLowerCase(Locale.ROOT);
        assertTrue(line.contains(reason.equals("NO_PLATFORM") ? "platform" : "libopencl"), text::toString);
    }

    private Run probe(String... args) throws IOException, InterruptedException {
        Path vendors = Files.createDirectories(tmp.resolve("empty-vendors"));
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "probe"));
        cmd.addAll(List.of(args));
        Path out = tmp.resolve("stdout.txt");
        Path err = tmp.resolve("stderr.txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        Map<String, String> env = pb.environment();
        env.put("OCL_ICD_VENDORS", vendors.toString());
        env.remove("OCL_ICD_FILENAMES"); // would add drivers despite the empty vendor directory
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("clpool probe did not finish within 120 s: " + cmd);
        }
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }
}
