package dev.clpool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.clpool.DType;
import dev.clpool.bench.BenchCase;
import dev.clpool.bench.BenchSuite;
import dev.clpool.bench.Data;
import dev.clpool.bench.Workload;
import dev.clpool.bench.WorkloadBenchmark.Figure;
import dev.clpool.bench.WorkloadSuite;
import dev.clpool.bench.WorkloadSuite.Api;
import dev.clpool.bench.WorkloadSuite.Variant;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** {@code clpool bench}: the suite's definition, the JSON fields and the table, on the CPU path. */
class BenchCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    }

    @Test
    void suite_isTheIssuesShapes() {
        List<BenchCase> s = BenchSuite.standard();
        assertEquals(6, s.size());
        assertEquals("max 2x2 s2", s.get(0).label());
        assertEquals("max 3x3 s2 p1", s.get(1).label());
        assertEquals("avg 3x3 s1 p1", s.get(2).label());
        assertEquals("global avg", s.get(3).label());
        assertArrayEquals(new int[] {1, 1, 1, 1}, s.get(1).pads());
        assertArrayEquals(new int[] {7, 7}, s.get(3).window());
        // input + output bytes of max 2x2 s2 on 1x512x512x64
        assertEquals((512L * 512 * 64 + 256L * 256 * 64) * 4, s.get(0).bytes());
    }

    @Test
    void json_isOneArray_withTheIssuesFields() {
        int code = run("bench", "--json", "--quick", "--backend", "cpu", "--reps", "1", "--filter", "1x8x8x16");
        assertEquals(0, code, err.toString());
        JsonElement parsed = JsonParser.parseString(out.toString());
        assertTrue(parsed.isJsonArray(), out.toString());
        JsonArray a = parsed.getAsJsonArray();
        assertEquals(1, a.size());
        JsonObject o = a.get(0).getAsJsonObject();
        assertEquals(new TreeSet<>(Set.of("op", "shape", "window", "stride", "pads", "backend", "binding", "placement",
                "ms", "gbps", "copy_gbps", "copy_ratio")), new TreeSet<>(o.keySet()));
        assertEquals("max", o.get("op").getAsString());
        assertEquals("[1,8,8,16]", o.get("shape").toString());
        assertEquals("[2,2]", o.get("window").toString());
        assertEquals("[2,2]", o.get("stride").toString());
        assertEquals("[0,0,0,0]", o.get("pads").toString());
        assertEquals("cpu", o.get("backend").getAsString());
        assertTrue(o.get("binding").isJsonNull());
        assertEquals("end-to-end", o.get("placement").getAsString());
        assertTrue(o.get("ms").getAsDouble() > 0);
        double ratio = o.get("gbps").getAsDouble() / o.get("copy_gbps").getAsDouble();
        assertEquals(ratio, o.get("copy_ratio").getAsDouble(), 0.01 + ratio * 0.01);
    }

    @Test
    void table_hasAHeaderAndARowPerFigure() {
        int code = run("bench", "--quick", "--backend", "cpu", "--reps", "1", "--filter", "1x8x8x16");
        assertEquals(0, code, err.toString());
        String text = out.toString();
        assertTrue(text.contains("op ") && text.contains("of copy"), text);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("max 2x2 s2") && l.contains("1x8x8x16") && l.contains("cpu")),
                text);
    }

    @Test
    void json_workloadRows_nameTheirSourceVariantAndCopyRatio() {
        int code = run("bench", "--json", "--quick", "--backend", "cpu", "--reps", "1", "--suite", "workloads",
                "--filter", "vgg16-head-adaptive7");
        assertEquals(0, code, err.toString());
        JsonArray a = JsonParser.parseString(out.toString()).getAsJsonArray();
        assertEquals(1, a.size(), out.toString());
        JsonObject o = a.get(0).getAsJsonObject();
        assertEquals("workloads", o.get("suite").getAsString());
        assertEquals("vgg16-head-adaptive7", o.get("workload").getAsString());
        assertTrue(o.get("source").getAsString().contains("AdaptiveAvgPool2d((7, 7))"), o.toString());
        assertEquals("adaptive", o.get("op").getAsString());
        assertEquals("avg", o.get("mode").getAsString());
        assertEquals("[8,10,10,512]", o.get("shape").toString());
        assertEquals("relu", o.get("data").getAsString());
        assertEquals("alloc", o.get("api").getAsString());
        assertEquals("float32", o.get("dtype").getAsString());
        assertEquals((8L * 10 * 10 * 512 + 8L * 7 * 7 * 512) * 4, o.get("bytes").getAsLong());
        double ratio = o.get("gbps").getAsDouble() / o.get("copy_gbps").getAsDouble();
        assertEquals(ratio, o.get("copy_ratio").getAsDouble(), 0.01 + ratio * 0.01);
    }

    @Test
    void dataCliffs_tableTheIntoFigures_andFlagASpreadOverTheLimit() {
        WorkloadOutput o = new WorkloadOutput(new PrintWriter(out, true), new PrintWriter(err, true), false);
        Workload spp = WorkloadSuite.named("sppnet-level6");
        Workload gap = WorkloadSuite.named("resnet50-head-gap");
        double[] sppMs = {1.0, 1.2, 0.8, 1.0, 1.19};
        for (Data d : Data.values()) {
            o.figure(new Figure(spp, new Variant(DType.FLOAT32, d, Api.INTO), "cpu", null, null, sppMs[d.ordinal()], 1, 1,
                    1, null));
            o.figure(new Figure(gap, new Variant(DType.FLOAT32, d, Api.INTO), "opencl", "jocl", null,
                    d == Data.ZERO ? 0.5 : 1.0, 1, 1, 1, null));
        }
        o.figure(new Figure(spp, new Variant(DType.FLOAT32, Data.RANDOM, Api.ALLOCATING), "cpu", null, null, 9, 1, 1, 1,
                null));
        o.figure(new Figure(spp, new Variant(DType.FLOAT16, Data.RANDOM, Api.INTO), "cpu", null, null, 9, 1, 1, 1, null));
        out.getBuffer().setLength(0);
        o.dataCliffs();
        List<String> rows = out.toString().lines().filter(l -> l.startsWith("sppnet") || l.startsWith("resnet")).toList();
        assertEquals(2, rows.size(), out.toString());
        assertTrue(rows.get(0).matches("sppnet-level6 +cpu +1\\.00 +1\\.20 +0\\.80+ +1\\.00 +1\\.19 +1\\.50 *"), rows.get(0));
        assertTrue(rows.get(1).matches("resnet50-head-gap +opencl jocl .* 2\\.00  over 1\\.5"), rows.get(1));
    }

    @Test
    void badSuite_isAUsageError() {
        assertEquals(2, run("bench", "--suite", "nets"));
    }

    @Test
    void badReps_isAUsageError() {
        assertEquals(2, run("bench", "--reps", "-1"));
    }
}
