package dev.clpool.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.clpool.BindingChoice;
import dev.clpool.cpu.CpuBackend;
import dev.clpool.opencl.Bindings;
import dev.clpool.opencl.ClDevice;
import dev.clpool.opencl.DeviceInfo;
import dev.clpool.opencl.DeviceReport;
import dev.clpool.opencl.OpenClDevices;
import dev.clpool.opencl.SelfTest;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code clpool probe}: every OpenCL platform and device that any binding reaches, with what
 * matters for pooling; {@code --self-test} checks each usable device against the CPU path and
 * measures two bandwidth figures; {@code --json} prints the same as one object
 * (docs/probe-json.md).
 */
@Command(name = "probe", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"List every OpenCL platform and device that any binding reaches, with what matters for"
                + " pooling, and the device number N for --device N."},
        footer = {"", "Exit codes: 0 at least one usable device (and with --self-test every self-test passed);"
                + " 3 no usable OpenCL device (the reason is printed); 4 a self-test disagreed with the CPU path"
                + " or failed on the device; 1 anything unexpected.",
                "", "The --json fields are documented in docs/probe-json.md."})
final class ProbeCommand implements Callable<Integer> {

    /** Exit code: a self-test disagreed with the CPU path (or failed on the device). */

    private static final int LABEL = 22;

    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print one JSON object instead of text (fields: docs/probe-json.md).")
    boolean json;

    @Option(names = "--self-test",
            description = "On each usable device, through each binding that reaches it: compare a few pooling cases"
                    + " with the CPU path (max bit-identical, others within 4e-6 relative) and measure copy and"
                    + " max-pool bandwidth.")
    boolean selfTest;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        DeviceReport report = DeviceReport.probe();
        Optional<DeviceReport.Problem> problem = report.problem();
        if (!json && !report.platforms().isEmpty()) {
            printReport(out, report);
            out.flush();
        }
        Map<DeviceReport.Device, List<SelfTest.Result>> tests = new IdentityHashMap<>();
        boolean testsPassed = true;
        if (selfTest && problem.isEmpty()) {
            testsPassed = runSelfTests(report, tests, out, err);
        }
        if (json) {
            out.println(new GsonBuilder().serializeNulls().disableHtmlEscaping().setPrettyPrinting().create()
                    .toJson(toJson(report, tests, problem)));
            out.flush();
        }
        if (problem.isPresent()) {
            if (!json) {
                err.println("clpool: no usable OpenCL device: " + ExitCodes.oneLine(problem.get().message()));
                err.flush();
            }
            return ExitCodes.NO_DEVICE;
        }
        if (!testsPassed) {
            if (!json) {
                err.println("clpool: self-test failed: " + failures(report, tests));
                err.flush();
            }
            return ExitCodes.SELF_TEST_FAILED;
        }
        return ExitCodes.OK;
    }

    // ---- self-test ----

    private boolean runSelfTests(DeviceReport report, Map<DeviceReport.Device, List<SelfTest.Result>> tests,
                                 PrintWriter out, PrintWriter err) {
        List<DeviceReport.Device> devices = report.usableDevices();
        int total = devices.stream().mapToInt(d -> d.reach().size()).sum() * SelfTest.steps();
        Progress progress = new Progress(err, System.console() != null, total);
        boolean passed = true;
        try (CpuBackend cpu = new CpuBackend()) {
            for (DeviceReport.Device d : devices) {
                List<SelfTest.Result> results = new ArrayList<>();
                for (ClDevice via : d.reach().values()) {
                    String where = "device " + d.index() + " via " + via.binding().name();
                    SelfTest.Result r = SelfTest.run(via, cpu, what -> progress.step(where + ": " + what));
                    progress.clear();
                    results.add(r);
                    passed &= r.passed();
                    if (!json) {
                        printSelfTest(out, d, r);
                        out.flush();
                    }
                }
                tests.put(d, results);
            }
        }
        if (!json) {
            int runs = tests.values().stream().mapToInt(List::size).sum();
            out.println();
            out.println(passed
                    ? "Self-test passed: " + plural(tests.size(), "device") + ", " + plural(runs, "binding run") + "."
                    : "Self-test FAILED: " + failures(report, tests) + ".");
        }
        return passed;
    }

    /** "self-test 3/22 ..." on stderr, overwriting itself, only when a person is watching. */
    private static final class Progress {
        private final PrintWriter err;
        private final boolean enabled;
        private final int total;
        private int done;
        private int width;

        Progress(PrintWriter err, boolean enabled, int total) {
            this.err = err;
            this.enabled = enabled;
            this.total = total;
        }

        void step(String what) {
            done++;
            if (enabled) {
                String line = "self-test " + done + "/" + total + " " + what;
                err.print("\r" + line + " ".repeat(Math.max(0, width - line.length())));
                err.flush();
                width = line.length();
            }
        }

        void clear() {
            if (enabled && width > 0) {
                err.print("\r" + " ".repeat(width) + "\r");
                err.flush();
                width = 0;
            }
        }
    }

    private static String failures(DeviceReport report, Map<DeviceReport.Device, List<SelfTest.Result>> tests) {
        List<String> failed = new ArrayList<>();
        for (DeviceReport.Device d : report.usableDevices()) {
            for (SelfTest.Result r : tests.getOrDefault(d, List.of())) {
                if (!r.passed()) {
                    long bad = r.cases().stream().filter(c -> !c.passed()).count();
                    failed.add("device " + d.index() + " (" + d.info().name() + ") via " + r.binding()
                            + (r.error() != null ? " failed: " + ExitCodes.oneLine(r.error())
                                    : " disagrees with the CPU path in " + plural((int) bad, "case")));
                }
            }
        }
        return String.join("; ", failed);
    }

    private static void printSelfTest(PrintWriter out, DeviceReport.Device d, SelfTest.Result r) {
        out.println();
        out.println("Self-test: device " + d.index() + " (" + d.info().name() + ") via " + r.binding());
        int nameWidth = SelfTest.cases().stream().mapToInt(c -> c.name().length()).max().orElse(0);
        for (SelfTest.CaseResult c : r.cases()) {
            String detail;
            if (!c.passed()) {
                detail = c.mismatches() + " element(s) differ; first " + c.firstMismatch();
            } else if (c.testCase().exact()) {
                detail = "bit-identical";
            } else {
                detail = String.format(Locale.ROOT, "max error %.1e (limit %.0e)", c.maxError(), SelfTest.TOLERANCE);
            }
            out.println(String.format(Locale.ROOT, "  %-4s  %-" + nameWidth + "s  %-10s  %s",
                    c.passed() ? "pass" : "FAIL", c.testCase().name(), c.testCase().shape(), detail));
        }
        if (r.copy() != null) {
            out.println(bandwidth("copy bandwidth", r.copy()));
        }
        if (r.pool() != null) {
            out.println(bandwidth("max-pool bandwidth", r.pool()));
        }
        if (r.error() != null) {
            out.println("  ERROR " + ExitCodes.oneLine(r.error()));
        }
        long agree = r.cases().stream().filter(SelfTest.CaseResult::passed).count();
        out.println("  " + (r.passed() ? "PASS" : "FAIL") + ": " + agree + "/" + SelfTest.cases().size()
                + " cases agree with the CPU path");
    }

    private static String bandwidth(String label, SelfTest.Bandwidth b) {
        return String.format(Locale.ROOT, "  %-" + LABEL + "s%8.2f GB/s  %s (median of %d runs, %.2f ms each)",
                label, b.gbPerSecond(), b.what(), b.runs(), b.medianSeconds() * 1e3);
    }

    // ---- text report ----

    private void printReport(PrintWriter out, DeviceReport report) {
        out.println("clpool " + version() + ": OpenCL platforms and devices");
        out.println();
        out.println("Bindings");
        int width = report.bindings().stream().mapToInt(b -> b.name().length()).max().orElse(0) + 2;
        for (DeviceReport.BindingStatus b : report.bindings()) {
            String state = !b.loaded() ? "not loaded (" + b.reason() + "): " + ExitCodes.oneLine(b.message())
                    : b.reason() != null ? "loaded, but " + b.reason() + ": " + ExitCodes.oneLine(b.message())
                    : "loaded";
            out.println(String.format(Locale.ROOT, "  %-" + width + "s%s", b.name(), state));
        }
        for (DeviceReport.Platform p : report.platforms()) {
            out.println();
            out.println("Platform: " + p.name() + " (" + p.vendor() + "; " + p.version() + ")");
            if (p.devices().isEmpty()) {
                out.println("  no devices");
            }
            for (DeviceReport.Device d : p.devices()) {
                printDevice(out, d);
            }
        }
        out.println();
        int usable = report.usableDevices().size();
        String line = plural(usable, "usable OpenCL device");
        Optional<Integer> dflt = defaultDevice();
        if (usable > 0 && dflt.isPresent()) {
            line += "; by default clpool uses device " + dflt.get() + " (pick another with --device N)";
        }
        out.println(line + ".");
    }

    private static void printDevice(PrintWriter out, DeviceReport.Device d) {
        DeviceInfo i = d.info();
        out.println();
        out.println("  Device " + d.index() + ": " + i.name());
        row(out, "vendor", i.vendor());
        row(out, "type", i.typeName());
        row(out, "driver version", i.driverVersion());
        row(out, "OpenCL version", i.version());
        row(out, "OpenCL C version", i.openclCVersion());
        row(out, "compute units", Integer.toString(i.computeUnits()));
        row(out, "max clock", i.clockMhz() + " MHz");
        row(out, "global memory", bytes(i.globalMemBytes()));
        row(out, "local memory", bytes(i.localMemBytes()));
        row(out, "max allocation", bytes(i.maxAllocBytes()));
        row(out, "max work-group size", Long.toString(i.maxWorkGroupSize()));
        row(out, "max work-item sizes", Arrays.stream(i.maxWorkItemSizes())
                .mapToObj(Long::toString).collect(Collectors.joining(" x ")));
        row(out, "float vector width", "preferred " + i.preferredFloatVectorWidth() + ", native "
                + i.nativeFloatVectorWidth());
        row(out, "fp64 / fp16", yes(i.fp64()) + " / " + yes(i.fp16()));
        row(out, "image support", yes(i.imageSupport()));
        row(out, "host-unified memory", yes(i.hostUnifiedMemory()));
        List<String> ext = d.extensionsUsed();
        row(out, "extensions used", (ext.isEmpty() ? "none" : String.join(" ", ext)) + "  (of "
                + String.join(", ", DeviceReport.EXTENSIONS_USED) + ")");
        row(out, "bindings", String.join(", ", d.bindings()));
        row(out, "suitable", d.suitable() ? "yes (--device " + d.index() + ")"
                : "no: " + (!i.available() ? "the device is not available" : "it has no compiler"));
    }

    private static void row(PrintWriter out, String label, String value) {
        out.println(String.format(Locale.ROOT, "    %-" + LABEL + "s%s", label, value));
    }

    /** The device {@code --backend auto} picks, when it can be told without error. */
    private static Optional<Integer> defaultDevice() {
        try {
            return Optional.of(OpenClDevices.choose(Bindings.require(BindingChoice.AUTO), -1).index());
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    static String bytes(long b) {
        if (b >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", b / (double) (1L << 30));
        }
        if (b >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", b / (double) (1L << 20));
        }
        if (b >= 1L << 10) {
            return String.format(Locale.ROOT, "%.1f KiB", b / (double) (1L << 10));
        }
        return b + " bytes";
    }

    private static String yes(boolean b) {
        return b ? "yes" : "no";
    }

    private static String plural(int n, String what) {
        return n + " " + what + (n == 1 ? "" : "s");
    }

    private static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "development" : v;
    }

    // ---- JSON (docs/probe-json.md; keep the two in step) ----

    private JsonObject toJson(DeviceReport report, Map<DeviceReport.Device, List<SelfTest.Result>> tests,
                              Optional<DeviceReport.Problem> problem) {
        JsonObject o = new JsonObject();
        o.addProperty("clpool_version", version());
        JsonArray bindings = new JsonArray();
        for (DeviceReport.BindingStatus b : report.bindings()) {
            JsonObject j = new JsonObject();
            j.addProperty("name", b.name());
            j.addProperty("loaded", b.loaded());
            j.add("reason", b.reason() == null ? JsonNull.INSTANCE : new JsonPrimitive(b.reason().name()));
            j.add("message", b.message() == null ? JsonNull.INSTANCE : new JsonPrimitive(b.message()));
            bindings.add(j);
        }
        o.add("bindings", bindings);
        JsonArray platforms = new JsonArray();
        for (DeviceReport.Platform p : report.platforms()) {
            JsonObject j = new JsonObject();
            j.addProperty("name", p.name());
            j.addProperty("vendor", p.vendor());
            j.addProperty("version", p.version());
            JsonArray devices = new JsonArray();
            for (DeviceReport.Device d : p.devices()) {
                devices.add(deviceJson(d, tests.get(d)));
            }
            j.add("devices", devices);
            platforms.add(j);
        }
        o.add("platforms", platforms);
        o.addProperty("usable_devices", report.usableDevices().size());
        o.add("self_test_passed", !selfTest || problem.isPresent() ? JsonNull.INSTANCE
                : new JsonPrimitive(tests.values().stream().flatMap(List::stream).allMatch(SelfTest.Result::passed)));
        if (problem.isPresent()) {
            JsonObject e = new JsonObject();
            e.addProperty("reason", problem.get().reason().name());
            e.addProperty("message", problem.get().message());
            o.add("error", e);
        } else {
            o.add("error", JsonNull.INSTANCE);
        }
        return o;
    }

    private static JsonObject deviceJson(DeviceReport.Device d, List<SelfTest.Result> results) {
        DeviceInfo i = d.info();
        JsonObject j = new JsonObject();
        j.addProperty("index", d.index());
        j.addProperty("name", i.name());
        j.addProperty("vendor", i.vendor());
        j.addProperty("type", i.typeName());
        j.addProperty("driver_version", i.driverVersion());
        j.addProperty("opencl_version", i.version());
        j.addProperty("opencl_c_version", i.openclCVersion());
        j.addProperty("compute_units", i.computeUnits());
        j.addProperty("max_clock_mhz", i.clockMhz());
        j.addProperty("global_mem_bytes", i.globalMemBytes());
        j.addProperty("local_mem_bytes", i.localMemBytes());
        j.addProperty("max_alloc_bytes", i.maxAllocBytes());
        j.addProperty("max_work_group_size", i.maxWorkGroupSize());
        JsonArray sizes = new JsonArray();
        for (long s : i.maxWorkItemSizes()) {
            sizes.add(s);
        }
        j.add("max_work_item_sizes", sizes);
        j.addProperty("preferred_float_vector_width", i.preferredFloatVectorWidth());
        j.addProperty("native_float_vector_width", i.nativeFloatVectorWidth());
        j.addProperty("fp64", i.fp64());
        j.addProperty("fp16", i.fp16());
        j.addProperty("image_support", i.imageSupport());
        j.addProperty("host_unified_memory", i.hostUnifiedMemory());
        j.add("extensions_used", strings(d.extensionsUsed()));
        j.addProperty("available", i.available());
        j.addProperty("compiler_available", i.compilerAvailable());
        j.addProperty("suitable", d.suitable());
        j.add("bindings", strings(d.bindings()));
        if (results != null) {
            JsonObject t = new JsonObject();
            t.addProperty("passed", results.stream().allMatch(SelfTest.Result::passed));
            JsonArray runs = new JsonArray();
            results.forEach(r -> runs.add(runJson(r)));
            t.add("runs", runs);
            j.add("self_test", t);
        }
        return j;
    }

    private static JsonObject runJson(SelfTest.Result r) {
        JsonObject j = new JsonObject();
        j.addProperty("binding", r.binding());
        j.addProperty("passed", r.passed());
        j.add("error", r.error() == null ? JsonNull.INSTANCE : new JsonPrimitive(r.error()));
        JsonArray cases = new JsonArray();
        for (SelfTest.CaseResult c : r.cases()) {
            JsonObject k = new JsonObject();
            k.addProperty("name", c.testCase().name());
            k.add("shape", JsonValues.shape(c.testCase().shape()));
            k.addProperty("exact", c.testCase().exact());
            k.addProperty("passed", c.passed());
            k.addProperty("mismatches", c.mismatches());
            k.add("max_error", Double.isFinite(c.maxError()) ? new JsonPrimitive(c.maxError()) : JsonNull.INSTANCE);
            k.add("first_mismatch", c.firstMismatch() == null ? JsonNull.INSTANCE : new JsonPrimitive(c.firstMismatch()));
            cases.add(k);
        }
        j.add("cases", cases);
        j.add("copy", bandwidthJson(r.copy()));
        j.add("pool", bandwidthJson(r.pool()));
        return j;
    }

    private static JsonElement bandwidthJson(SelfTest.Bandwidth b) {
        if (b == null) {
            return JsonNull.INSTANCE;
        }
        JsonObject j = new JsonObject();
        j.addProperty("what", b.what());
        j.addProperty("bytes_moved", b.bytesMoved());
        j.addProperty("runs", b.runs());
        j.addProperty("median_seconds", b.medianSeconds());
        j.addProperty("gb_per_s", b.gbPerSecond());
        return j;
    }


    private static JsonArray strings(List<String> values) {
        JsonArray a = new JsonArray();
        values.forEach(a::add);
        return a;
    }
}
