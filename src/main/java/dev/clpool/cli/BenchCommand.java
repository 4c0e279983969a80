package dev.clpool.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.clpool.BackendChoice;
import dev.clpool.BindingChoice;
import dev.clpool.bench.BenchCase;
import dev.clpool.bench.BenchSuite;
import dev.clpool.bench.Benchmark;
import dev.clpool.bench.Measurement;
import dev.clpool.bench.Workload;
import dev.clpool.bench.WorkloadBenchmark;
import dev.clpool.bench.WorkloadSuite;
import dev.clpool.cpu.VectorSupport;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code clpool bench}: the standard suite on every backend, against a plain copy of the same bytes. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time the standard pooling suite on the CPU path and on each binding's OpenCL device",
                "(device-resident and end to end, host tensor to host tensor), reporting the median time,",
                "GB/s ((input + output bytes) / time) and the ratio to a plain copy of the same bytes measured",
                "in the same run (device: the faster of clEnqueueCopyBuffer and a float16 copy kernel; host: a",
                "direct-buffer copy). Warm-up runs are excluded. Other load on the machine shows in the figures.",
                "Then the workload suite: the pooling layers of published networks (each row names its source),",
                "every operation, random/ReLU'd/all-zero data, float32 and float16, allocating and into-existing,",
                "and issue 11's allocating vs into-existing ratio for outputs of 1 to 100 MiB."},
        footer = {"", "Examples:", "  clpool bench --quick", "  clpool bench --json > bench.json",
                "  clpool bench --backend opencl --binding lwjgl",
                "  clpool bench --suite workloads --backend cpu",
                "", "Zero-copy on host-unified devices can be turned off to compare: java -Dclpool.opencl.zeroCopy=false"
                + " -jar clpool.jar bench"})
final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print one JSON array, an object per measurement, instead of a table.")
    boolean json;

    @Option(names = "--quick", description = {"Fewer repetitions (the standard suite's shapes stay the same), a subset of",
            "the workloads and one allocation size: under a minute."})
    boolean quick;

    @Option(names = "--suite", paramLabel = "all|standard|workloads", defaultValue = "all",
            description = {"What to run: all (default), standard (the six shapes of issue 6) or workloads (the pooling",
                    "layers of published networks, every operation, data kind, storage type and API, then the",
                    "allocating vs into-existing ratios of issue 11)."})
    String suite;

    @Option(names = "--backend", paramLabel = "auto|cpu|opencl", defaultValue = "auto",
            converter = Converters.Backend.class,
            description = "What to measure: auto (default: the CPU path and every device), cpu, or opencl.")
    BackendChoice backend;

    @Option(names = "--binding", paramLabel = "auto|jocl|lwjgl", defaultValue = "auto",
            converter = Converters.Binding.class,
            description = "OpenCL binding: auto (default: each binding that loads), jocl or lwjgl.")
    BindingChoice binding;

    @Option(names = "--device", paramLabel = "N", defaultValue = "-1",
            description = "OpenCL device number as listed by `clpool probe` (default: the best suitable one).")
    int device;

    @Option(names = "--reps", paramLabel = "N", defaultValue = "0",
            description = "Timed repetitions per figure (default: 11, or 3 with --quick).")
    int reps;

    @Option(names = "--filter", paramLabel = "TEXT", hidden = true,
            description = "Only the cases whose label or shape contains TEXT (for development; the suite is fixed).")
    String filter;

    @Override
    public Integer call() {
        if (device < -1) {
            throw CliException.badInput("--device " + device + ": must be >= 0");
        }
        if (reps < 0) {
            throw CliException.badInput("--reps " + reps + ": must be >= 1");
        }
        if (!List.of("all", "standard", "workloads").contains(suite)) {
            throw CliException.badInput("--suite " + suite + ": expected all, standard or workloads");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Benchmark.Config config = new Benchmark.Config(quick, backend != BackendChoice.OPENCL,
                backend != BackendChoice.CPU, binding, device, reps);
        List<BenchCase> cases = BenchSuite.standard().stream()
                .filter(c -> filter == null || (c.label() + " " + c.shape().toString().replace(',', 'x')).contains(filter))
                .toList();
        Table table = new Table(out, err, json);
        if (!json) {
            out.printf(Locale.ROOT, "clpool bench%s: median of %d timed runs per figure after warm-up%n",
                    quick ? " --quick" : "", reps > 0 ? reps : quick ? 3 : 11);
            out.println("CPU path: " + VectorSupport.describe());
            if (!suite.equals("workloads")) {
                table.header();
            }
        }
        List<Measurement> all = suite.equals("workloads") ? List.of() : Benchmark.run(config, cases, table);
        WorkloadBenchmark.Result workloads = suite.equals("standard") ? new WorkloadBenchmark.Result(List.of(), List.of())
                : runWorkloads(config, new WorkloadOutput(out, err, json));
        if (json) {
            JsonArray array = toJson(all);
            WorkloadOutput.addJson(array, workloads);
            out.println(new GsonBuilder().serializeNulls().setPrettyPrinting().create().toJson(array));
        } else {
            out.println();
            out.println("GB/s = bytes the operation must read and write (input + output; indices, x and dy where used)"
                    + " / median time; copy = a plain copy moving the same bytes on the same side (device or host),"
                    + " measured in this run.");
        }
        out.flush();
        if (all.isEmpty() && workloads.figures().isEmpty() && workloads.ratios().isEmpty()) {
            err.println("clpool: nothing was measured (no backend could run)");
            return ExitCodes.NO_DEVICE;
        }
        return ExitCodes.OK;
    }

    private WorkloadBenchmark.Result runWorkloads(Benchmark.Config config, WorkloadOutput output) {
        List<WorkloadSuite.Run> runs = (quick ? WorkloadSuite.quickRuns()
                : WorkloadSuite.all().stream().flatMap(w -> WorkloadSuite.fullRuns(w).stream()).toList())
                .stream().filter(r -> matches(r.workload())).toList();
        List<Workload> ratios = WorkloadSuite.allocationCases(quick).stream().filter(this::matches).toList();
        if (runs.isEmpty() && ratios.isEmpty()) {
            return new WorkloadBenchmark.Result(List.of(), List.of());
        }
        output.header();
        WorkloadBenchmark.Result result = WorkloadBenchmark.run(config, runs, ratios, output);
        output.dataCliffs();
        return result;
    }

    private boolean matches(Workload w) {
        return filter == null || (w.name() + " " + w.label() + " " + w.dims()).contains(filter);
    }

    static JsonArray toJson(List<Measurement> all) {
        JsonArray array = new JsonArray();
        for (Measurement m : all) {
            BenchCase c = m.benchCase();
            JsonObject o = new JsonObject();
            o.addProperty("op", c.op());
            o.add("shape", ints(c.shape().n(), c.shape().h(), c.shape().w(), c.shape().c()));
            o.add("window", ints(c.window()));
            o.add("stride", ints(c.stride()));
            o.add("pads", ints(c.pads()));
            o.addProperty("backend", m.backend());
            o.addProperty("binding", m.binding());
            o.addProperty("placement", m.placement());
            o.addProperty("ms", round(m.ms(), 4));
            o.addProperty("gbps", round(m.gbps(), 3));
            o.addProperty("copy_gbps", round(m.copyGbps(), 3));
            o.addProperty("copy_ratio", round(m.copyRatio(), 3));
            array.add(o);
        }
        return array;
    }

    private static JsonArray ints(int... values) {
        JsonArray a = new JsonArray();
        for (int v : values) {
            a.add(v);
        }
        return a;
    }

    static double round(double v, int digits) {
        double scale = Math.pow(10, digits);
        return Math.round(v * scale) / scale;
    }

    static String fmt(double ms) {
        return ms >= 100 ? String.format(Locale.ROOT, "%.1f", ms)
                : ms >= 1 ? String.format(Locale.ROOT, "%.2f", ms) : String.format(Locale.ROOT, "%.4f", ms);
    }

    /** Prints each figure as an aligned row as soon as it is measured (text mode). */
    private static final class Table extends ProgressOutput implements Benchmark.Listener {
        private static final String ROW = "%-15s %-17s %-13s %-15s %10s %8s %9s %8s  %s%n";
        Table(PrintWriter out, PrintWriter err, boolean quiet) {
            super(out, err, quiet);
        }

        void header() {
            out.printf(Locale.ROOT, ROW, "op", "shape (NHWC)", "backend", "placement", "ms", "GB/s", "copy GB/s",
                    "of copy", "");
        }

        @Override
        public void measured(Measurement m) {
            if (quiet) {
                return;
            }
            String backend = m.binding() == null ? m.backend() : m.backend() + " " + m.binding();
            out.printf(Locale.ROOT, ROW, m.benchCase().label(), m.benchCase().shape().toString().replace(',', 'x'),
                    backend, m.placement(), fmt(m.ms()), String.format(Locale.ROOT, "%.1f", m.gbps()),
                    String.format(Locale.ROOT, "%.1f", m.copyGbps()),
                    String.format(Locale.ROOT, "%.0f%%", 100 * m.copyRatio()), m.note() == null ? "" : m.note());
            out.flush();
        }

    }
}
