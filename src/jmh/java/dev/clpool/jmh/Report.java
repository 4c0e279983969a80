package dev.clpool.jmh;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Turns JMH JSON results ({@code -rf json -rff results.json}) of {@link CpuPoolBench},
 * {@link CopyBench} and {@link OrtPoolBench} into the markdown table of docs/performance.md:
 * {@code java -cp target/clpool-benchmarks.jar dev.clpool.jmh.Report results.json}.
 * Several files may be given; a later file's figures replace an earlier one's.
 */
public final class Report {
    private Report() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 0) {
            throw new IllegalArgumentException("usage: Report results.json...");
        }
        Map<String, Double> ms = new HashMap<>();
        for (String file : args) {
            JsonArray runs = JsonParser.parseString(Files.readString(Path.of(file), StandardCharsets.UTF_8)).getAsJsonArray();
            for (JsonElement e : runs) {
                JsonObject run = e.getAsJsonObject();
                String bench = run.get("benchmark").getAsString();
                String method = bench.substring(bench.lastIndexOf('.', bench.lastIndexOf('.') - 1) + 1);
                String op = run.getAsJsonObject("params").get("op").getAsString();
                JsonObject metric = run.getAsJsonObject("primaryMetric");
                if (!metric.get("scoreUnit").getAsString().equals("ms/op")) {
                    throw new IllegalArgumentException(file + ": " + bench + " is not in ms/op");
                }
                ms.put(method + " " + op, metric.get("score").getAsDouble());
            }
        }
        print(ms, System.out);
    }

    static void print(Map<String, Double> ms, PrintStream out) {
        out.println("| op | shape (NHWC) | clpool ms | clpool GB/s | copy GB/s | clpool / copy | onnxruntime ms | onnxruntime GB/s | clpool speedup |");
        out.println("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        for (Suite s : Suite.values()) {
            Double cl = ms.get("CpuPoolBench.pool " + s.name());
            Double serial = ms.get("CopyBench.copySerial " + s.name());
            Double parallel = ms.get("CopyBench.copyParallel " + s.name());
            Double ort = ms.get("OrtPoolBench.run " + s.name());
            Double copy = serial == null ? parallel : parallel == null ? serial : Math.min(serial, parallel);
            double copyBytes = 2.0 * s.input().elementCount() * Float.BYTES;
            String op = s.name().substring(0, s.name().indexOf('_'));
            out.println("| " + op + " | " + dims(s) + " | " + f(cl, "%.3f") + " | " + gbps(s.bytesMoved(), cl)
                    + " | " + gbps(copyBytes, copy)
                    + " | " + (cl == null || copy == null ? "-" : pct(s.bytesMoved() / cl / (copyBytes / copy)))
                    + " | " + f(ort, "%.3f") + " | " + gbps(s.bytesMoved(), ort)
                    + " | " + (cl == null || ort == null ? "-" : String.format(Locale.ROOT, "%.2f×", ort / cl)) + " |");
        }
    }

    private static String dims(Suite s) {
        return s.input().n() + "×" + s.input().h() + "×" + s.input().w() + "×" + s.input().c();
    }

    private static String gbps(double bytes, Double ms) {
        return ms == null ? "-" : String.format(Locale.ROOT, "%.1f", bytes / (ms * 1e6));
    }

    private static String pct(double ratio) {
        return String.format(Locale.ROOT, "%.0f%%", 100 * ratio);
    }

    private static String f(Double v, String format) {
        return v == null ? "-" : String.format(Locale.ROOT, format, v);
    }
}
