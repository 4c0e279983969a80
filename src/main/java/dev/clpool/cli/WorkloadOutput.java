package dev.clpool.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.clpool.DType;
import dev.clpool.Shape;
import dev.clpool.bench.Data;
import dev.clpool.bench.Workload;
import dev.clpool.bench.WorkloadBenchmark;
import dev.clpool.bench.WorkloadBenchmark.AllocationRatio;
import dev.clpool.bench.WorkloadBenchmark.Figure;
import dev.clpool.bench.WorkloadSuite.Api;
import java.io.PrintWriter;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code clpool bench}'s output for the workload suite and issue 11's allocation ratios: rows
 * printed as they are measured (text), or JSON objects added to the command's one array.
 */
final class WorkloadOutput extends ProgressOutput implements WorkloadBenchmark.Listener {
    private static final String ROW = "%-32s %-26s %-20s %-22s %-12s %10s %8s %8s  %s%n";
    private static final String RATIO_ROW = "%-22s %-22s %-16s %-12s %8s %10s %9s %10s %7s %9s  %s%n";

    /** Workload, backend, a column per kind of data, spread, flag. */
    private static final String CLIFF_ROW = "%-32s %-16s" + " %10s".repeat(Data.values().length) + " %7s  %s%n";
    /** Issue 12: the slowest kind of data at most this many times the fastest, for every operation. */
    static final double CLIFF_LIMIT = 1.5;

    private boolean ratioHeader;
    /** Into-existing float32 figures by workload and backend, then kind of data: the data cliffs' table. */
    private final Map<CliffRow, Map<Data, Double>> byData = new LinkedHashMap<>();

    private record CliffRow(String workload, String backend) {
    }

    WorkloadOutput(PrintWriter out, PrintWriter err, boolean quiet) {
        super(out, err, quiet);
    }

    void header() {
        if (!quiet) {
            out.println();
            out.println("Workloads (the pooling layers of published networks; end to end, host tensor to host tensor):");
            out.printf(Locale.ROOT, ROW, "workload", "op", "shape", "storage data api", "backend", "ms", "GB/s",
                    "of copy", "");
        }
    }

    @Override
    public void figure(Figure f) {
        if (quiet) {
            return;
        }
        Workload w = f.workload();
        if (f.variant().api() == Api.INTO && f.variant().dtype() == DType.FLOAT32) {
            byData.computeIfAbsent(new CliffRow(w.name(), backend(f.backend(), f.binding())), k -> new EnumMap<>(Data.class))
                    .put(f.variant().data(), f.ms());
        }
        out.printf(Locale.ROOT, ROW, w.name(), w.label(), w.dims(), f.variant().toString(), backend(f.backend(), f.binding()),
                BenchCommand.fmt(f.ms()), String.format(Locale.ROOT, "%.1f", f.gbps()),
                String.format(Locale.ROOT, "%.0f%%", 100 * f.copyRatio()), f.note() == null ? "" : f.note());
        out.flush();
    }

    @Override
    public void ratio(AllocationRatio r) {
        if (quiet) {
            return;
        }
        if (!ratioHeader) {
            ratioHeader = true;
            out.println();
            out.println("Allocating vs into-existing (issue 11: in a steady loop, an allocating call, its result closed"
                    + " or dropped, must cost at most " + AllocationRatio.LIMIT + "x the into-existing call):");
            out.printf(Locale.ROOT, RATIO_ROW, "case", "op", "shape (NHWC)", "backend", "out MiB", "into ms",
                    "alloc ms", "dropped ms", "ratio", "dropped", "");
        }
        Workload w = r.workload();
        boolean over = r.ratio() > AllocationRatio.LIMIT || r.droppedRatio() > AllocationRatio.LIMIT;
        out.printf(Locale.ROOT, RATIO_ROW, w.name(), w.label(), w.dims(), backend(r.backend(), r.binding()),
                String.format(Locale.ROOT, "%.1f", r.outputMib()), BenchCommand.fmt(r.intoMs()),
                BenchCommand.fmt(r.allocMs()), BenchCommand.fmt(r.droppedMs()),
                String.format(Locale.ROOT, "%.2f", r.ratio()), String.format(Locale.ROOT, "%.2f", r.droppedRatio()),
                over ? "over " + AllocationRatio.LIMIT : "");
        out.flush();
    }

    /**
     * After the workloads (text only): for each workload and backend measured on more than one kind
     * of data, the into-existing float32 times and the slowest over the fastest.
     */
    void dataCliffs() {
        if (quiet || byData.values().stream().noneMatch(m -> m.size() > 1)) {
            return;
        }
        out.println();
        out.println("Data cliffs (issue 12: into-existing float32, the slowest kind of data over the fastest must be at most "
                + CLIFF_LIMIT + "x):");
        int kinds = Data.values().length;
        Object[] head = new Object[kinds + 4];
        head[0] = "workload";
        head[1] = "backend";
        for (Data d : Data.values()) {
            head[2 + d.ordinal()] = d.word();
        }
        head[kinds + 2] = "spread";
        head[kinds + 3] = "";
        out.printf(Locale.ROOT, CLIFF_ROW, head);
        for (Map.Entry<CliffRow, Map<Data, Double>> e : byData.entrySet()) {
            Map<Data, Double> ms = e.getValue();
            if (ms.size() < 2) {
                continue;
            }
            double spread = ms.values().stream().mapToDouble(Double::doubleValue).max().orElseThrow()
                    / ms.values().stream().mapToDouble(Double::doubleValue).min().orElseThrow();
            Object[] row = new Object[kinds + 4];
            row[0] = e.getKey().workload();
            row[1] = e.getKey().backend();
            for (Data d : Data.values()) {
                row[2 + d.ordinal()] = ms.containsKey(d) ? BenchCommand.fmt(ms.get(d)) : "-";
            }
            row[kinds + 2] = String.format(Locale.ROOT, "%.2f", spread);
            row[kinds + 3] = spread > CLIFF_LIMIT ? "over " + CLIFF_LIMIT : "";
            out.printf(Locale.ROOT, CLIFF_ROW, row);
        }
        out.flush();
    }

    private static String backend(String backend, String binding) {
        return binding == null ? backend : backend + " " + binding;
    }

    static void addJson(JsonArray array, WorkloadBenchmark.Result result) {
        for (Figure f : result.figures()) {
            JsonObject o = common("workloads", f.workload(), f.backend(), f.binding());
            o.addProperty("dtype", f.variant().dtype().word());
            o.addProperty("data", f.variant().data().word());
            o.addProperty("api", f.variant().api().word());
            o.addProperty("bytes", f.workload().bytes(f.variant().dtype()));
            o.addProperty("ms", BenchCommand.round(f.ms(), 4));
            o.addProperty("gbps", BenchCommand.round(f.gbps(), 3));
            o.addProperty("copy_gbps", BenchCommand.round(f.copyGbps(), 3));
            o.addProperty("copy_ratio", BenchCommand.round(f.copyRatio(), 3));
            o.addProperty("note", f.note());
            array.add(o);
        }
        for (AllocationRatio r : result.ratios()) {
            JsonObject o = common("allocation", r.workload(), r.backend(), r.binding());
            o.addProperty("output_mib", BenchCommand.round(r.outputMib(), 2));
            o.addProperty("into_ms", BenchCommand.round(r.intoMs(), 4));
            o.addProperty("alloc_ms", BenchCommand.round(r.allocMs(), 4));
            o.addProperty("alloc_dropped_ms", BenchCommand.round(r.droppedMs(), 4));
            o.addProperty("ratio", BenchCommand.round(r.ratio(), 3));
            o.addProperty("dropped_ratio", BenchCommand.round(r.droppedRatio(), 3));
            o.addProperty("limit", AllocationRatio.LIMIT);
            o.addProperty("rounds", r.rounds());
            array.add(o);
        }
    }

    private static JsonObject common(String suite, Workload w, String backend, String binding) {
        JsonObject o = new JsonObject();
        o.addProperty("suite", suite);
        o.addProperty("workload", w.name());
        o.addProperty("source", w.source());
        o.addProperty("op", w.op().word());
        o.addProperty("mode", w.poolMode().word());
        o.addProperty("label", w.label());
        JsonArray shape = new JsonArray();
        for (int v : w.tensorShape().dims()) {
            shape.add(v);
        }
        o.add("shape", shape);
        o.addProperty("layout", w.tensorShape().layout().word());
        o.addProperty("backend", backend);
        o.addProperty("binding", binding);
        return o;
    }
}
