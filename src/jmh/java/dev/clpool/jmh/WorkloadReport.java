package dev.clpool.jmh;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.clpool.DType;
import dev.clpool.PoolMode;
import dev.clpool.bench.Workload;
import dev.clpool.bench.Workload.Op;
import dev.clpool.bench.WorkloadSuite;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Turns JMH JSON results of {@link WorkloadBench}, {@link TorchWorkloadBench} and
 * {@link OrtWorkloadBench} into a markdown table, one row per workload, data and storage type:
 * {@code java -cp target/clpool-benchmarks.jar dev.clpool.jmh.WorkloadReport results.json...}.
 * A later file's figures replace an earlier one's.
 *
 * <p>Columns: clpool's time through the allocating and the into-existing API, PyTorch's and
 * onnxruntime's, and each peer's time over clpool's (above 1: clpool is faster), using clpool's
 * allocating figure where there is one (PyTorch allocates too). For backward rows PyTorch's
 * figure is a training step (forward with grad, then backward); its backward alone is that minus
 * PyTorch's figure for the forward workload of the same layer, shown as {@code step − fwd}.
 */
public final class WorkloadReport {
    private WorkloadReport() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 0) {
            throw new IllegalArgumentException("usage: WorkloadReport results.json...");
        }
        Map<String, Double> ms = new TreeMap<>();
        Set<String> rows = new LinkedHashSet<>();
        for (String file : args) {
            for (JsonElement e : JsonParser.parseString(Files.readString(Path.of(file), StandardCharsets.UTF_8))
                    .getAsJsonArray()) {
                JsonObject run = e.getAsJsonObject();
                String bench = run.get("benchmark").getAsString();
                String cls = bench.substring(bench.lastIndexOf('.', bench.lastIndexOf('.') - 1) + 1, bench.lastIndexOf('.'));
                JsonObject p = run.getAsJsonObject("params");
                String row = p.get("workload").getAsString() + " " + param(p, "data", "random") + " "
                        + param(p, "dtype", "float32");
                String who = switch (cls) {
                    case "WorkloadBench" -> "clpool-" + param(p, "backend", "cpu") + "-" + param(p, "api", "alloc");
                    case "TorchWorkloadBench" -> "torch";
                    case "OrtWorkloadBench" -> "ort";
                    default -> null;
                };
                if (who == null) {
                    continue;
                }
                rows.add(row);
                ms.put(row + "|" + who, run.getAsJsonObject("primaryMetric").get("score").getAsDouble());
            }
        }
        List<String> names = WorkloadSuite.all().stream().map(Workload::name).toList();
        List<String> ordered = new ArrayList<>(rows);
        ordered.sort(Comparator.comparingInt((String r) -> names.indexOf(r.split(" ")[0]))
                .thenComparing(Comparator.naturalOrder()));
        print(ordered, ms, System.out);
    }

    private static String param(JsonObject params, String key, String otherwise) {
        return params.has(key) ? params.get(key).getAsString() : otherwise;
    }

    static void print(List<String> rows, Map<String, Double> ms, PrintStream out) {
        out.println("| workload | op | shape (NHWC) | data, storage | clpool CPU alloc ms | clpool CPU into ms"
                + " | clpool GB/s | PyTorch ms | onnxruntime ms | PyTorch / clpool | onnxruntime / clpool |");
        out.println("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
        for (String row : rows) {
            String[] k = row.split(" ");
            Workload w = WorkloadSuite.named(k[0]);
            Double alloc = ms.get(row + "|clpool-cpu-alloc");
            Double into = ms.get(row + "|clpool-cpu-into");
            Double clpool = alloc != null ? alloc : into;
            Double torch = ms.get(row + "|torch");
            String torchCell = f(torch);
            Double torchCompared = torch;
            if (w.op() == Op.BACKWARD && torch != null) {
                Double fwd = forwardOf(w, k[1] + " " + k[2], ms);
                torchCompared = fwd == null ? null : torch - fwd;
                torchCell = fwd == null ? f(torch) + " (step)"
                        : f(torch - fwd) + " (step " + f(torch) + " − fwd " + f(fwd) + ")";
            }
            Double ort = ms.get(row + "|ort");
            DType type = DType.valueOf(k[2].toUpperCase(Locale.ROOT));
            out.println("| " + w.name() + " | " + w.label() + " | " + w.dims() + " | " + k[1] + ", " + k[2]
                    + " | " + f(alloc) + " | " + f(into)
                    + " | " + (clpool == null ? "-" : String.format(Locale.ROOT, "%.1f", w.bytes(type) / (clpool * 1e6)))
                    + " | " + torchCell + " | " + f(ort) + " | " + ratio(torchCompared, clpool) + " | " + ratio(ort, clpool)
                    + " |");
        }
    }

    /**
     * PyTorch's figure for the forward pass of {@code backward}'s layer (same shape and spec), if
     * measured: for max the forward with indices (what a training step runs), for avg the pool.
     */
    private static Double forwardOf(Workload backward, String variant, Map<String, Double> ms) {
        Op forward = backward.poolMode() == PoolMode.MAX ? Op.POOL_WITH_INDICES : Op.POOL;
        for (Workload w : WorkloadSuite.all()) {
            if (w.op() == forward && w.shape().equals(backward.shape())
                    && w.spec().equals(backward.spec()) && ms.containsKey(w.name() + " " + variant + "|torch")) {
                return ms.get(w.name() + " " + variant + "|torch");
            }
        }
        return null;
    }

    private static String ratio(Double peer, Double clpool) {
        return peer == null || clpool == null ? "-" : String.format(Locale.ROOT, "%.2f", peer / clpool);
    }

    private static String f(Double v) {
        return v == null ? "-" : v >= 100 ? String.format(Locale.ROOT, "%.1f", v)
                : v >= 1 ? String.format(Locale.ROOT, "%.2f", v) : String.format(Locale.ROOT, "%.3f", v);
    }
}
