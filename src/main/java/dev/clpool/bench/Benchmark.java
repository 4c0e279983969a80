package dev.clpool.bench;

import dev.clpool.BackendChoice;
import dev.clpool.BindingChoice;
import dev.clpool.DeviceTensor;
import dev.clpool.DeviceUnavailableException;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.cpu.VectorSupport;
import dev.clpool.opencl.Bindings;
import dev.clpool.opencl.ClDevice;
import dev.clpool.opencl.DeviceCopy;
import dev.clpool.opencl.OpenClBackend;
import dev.clpool.opencl.OpenClDevices;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;

/**
 * Runs a benchmark suite on every backend asked for: the CPU path (end to end: it works on host
 * memory) and, through each OpenCL binding, its device, device-resident (input uploaded once,
 * outputs left on the device, operations pipelined with one wait per repetition) and end to end
 * (host tensor to host tensor, as {@link PoolingEngine#pool(Tensor, dev.clpool.PoolSpec, Tensor)}).
 *
 * <p>Each figure has a copy reference measured in the same run: on a device the faster of
 * {@code clEnqueueCopyBuffer} and a float16 copy kernel ({@link DeviceCopy}), on the host the
 * faster of a one-thread and an all-threads direct-buffer copy, each copying half the case's
 * input-plus-output bytes, so that it too moves (reads plus writes) that many bytes. GB/s are
 * 10^9 bytes per second. Prints nothing; {@link Listener} hears about progress.
 */
public final class Benchmark {

    /**
     * What to run.
     *
     * @param quick    fewer repetitions (the suite's shapes never change)
     * @param cpu      run the CPU path
     * @param opencl   run OpenCL devices
     * @param binding  {@code AUTO}: every binding that loads; else only that one
     * @param device   the device number as in {@code clpool probe}, or -1 for the best one
     * @param reps     timed repetitions per figure; 0 for the default (3 quick, 11 otherwise)
     */
    public record Config(boolean quick, boolean cpu, boolean opencl, BindingChoice binding, int device, int reps) {
        public Config {
            Objects.requireNonNull(binding, "binding");
            if (reps < 0) {
                throw new IllegalArgumentException("reps must be >= 0, got " + reps);
            }
        }

        public static Config defaults() {
            return new Config(false, true, true, BindingChoice.AUTO, -1, 0);
        }

        int timedReps() {
            return reps > 0 ? reps : quick ? 3 : 11;
        }

        int warmups() {
            return quick ? 1 : 2;
        }

        /**
         * Warm-up lasts at least this long (see {@code Timing}); a quick run relies on the
         * stability rule alone beyond its first 100 ms. A full run with the CPU path's Vector API
         * kernels warms up for a second: they run interpreted and boxed, 10-30x slower, until C2
         * compiles them, and 300 ms left the first kind of data measured (random) at 1.5x the
         * others on ResNet-50's head, where the scalar kernels showed no such spread.
         */
        double minWarmupMs() {
            return quick ? 100 : VectorSupport.enabled() ? 1000 : 300;
        }

        /**
         * Warm-up stops here even if the times still fall or the JIT still compiles (see
         * {@code Timing}): 3 s left vector kernels uncompiled under load.
         */
        double maxWarmupMs() {
            return quick ? 400 : 8000;
        }

        /** A repetition of a short operation runs it back to back for about this long. */
        double targetMs() {
            return quick ? 2 : 10;
        }

        /**
         * A quick run spends at most about this on the timed repetitions of one figure (fewer
         * repetitions, noted): it has about a hundred figures and copy references, and must stay
         * under a minute on an idle machine.
         */
        double budgetMs() {
            return quick ? 500 : 0;
        }
    }

    /** Hears about progress; every method has a do-nothing default. */
    public interface Listener {
        /** A backend (or one of its figures) is about to be measured. */
        default void started(String what) {
        }

        default void measured(Measurement m) {
        }

        /** A backend asked for cannot run here, and why. */
        default void skipped(String backend, String reason) {
        }
    }

    /** Cases this small also run through an auto engine (which may choose the CPU path for them). */
    static final long SMALL_AUTO_BYTES = 1 << 20;

    private final Config config;
    private final List<BenchCase> cases;
    private final Listener listener;
    private final Map<Shape, Tensor> inputs = new HashMap<>();
    private final Map<Long, Double> hostCopyGbps = new HashMap<>();
    private final CopyReference copies = new CopyReference(this::time);

    private Benchmark(Config config, List<BenchCase> cases, Listener listener) {
        this.config = config;
        this.cases = List.copyOf(cases);
        this.listener = listener;
    }

    /** Runs {@code cases} as {@code config} says and returns every figure, in order. */
    public static List<Measurement> run(Config config, List<BenchCase> cases, Listener listener) {
        return new Benchmark(config, cases, listener).run();
    }

    private List<Measurement> run() {
        List<Measurement> out = new ArrayList<>();
        if (config.cpu()) {
            listener.started("cpu");
            try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
                for (BenchCase c : cases) {
                    out.add(measureHost(cpu, c));
                }
            }
        }
        if (config.opencl()) {
            for (BindingChoice b : bindings()) {
                String name = b.name().toLowerCase(Locale.ROOT);
                ClDevice device = device(b, config.device(), listener::skipped);
                if (device == null) {
                    continue;
                }
                listener.started("opencl " + name + ": " + device.info().summary());
                try (PoolingEngine engine = PoolingEngine.builder().backend(BackendChoice.OPENCL).device(device).build();
                     OpenClBackend copyBackend = OpenClBackend.open(device, OpenClBackend.Options.DEFAULT)) {
                    for (BenchCase c : cases) {
                        double copy = copies.deviceGbps(copyBackend, c.bytes());
                        String read = c.isGlobal() ? readOnlyNote(copyBackend, c) : null;
                        out.add(measureResident(engine, c, name, device, copy, read));
                        out.add(measureEndToEnd(engine, c, name, device, copy, read));
                    }
                }
            }
        }
        if (config.cpu() && config.opencl()) {
            measureAuto(out);
        }
        return out;
    }

    /**
     * The small cases once more through an {@code auto} engine, end to end: it picks the device
     * or the CPU path per kind of operation by measuring both, so it should be no slower than the
     * faster of the two.
     */
    private void measureAuto(List<Measurement> out) {
        List<BenchCase> small = cases.stream().filter(c -> c.bytes() <= SMALL_AUTO_BYTES).toList();
        if (small.isEmpty()) {
            return;
        }
        try (PoolingEngine auto = PoolingEngine.builder().binding(config.binding()).build()) {
            if (!"opencl".equals(auto.backendKind())) {
                return; // no device: auto is the CPU path, measured above
            }
            listener.started("auto: " + auto.backendDescription());
            for (BenchCase c : small) {
                Tensor x = input(c.shape());
                Tensor y = Tensor.allocate(c.outputShape());
                for (int i = 0; i < 8; i++) {
                    runHost(auto, c, x, y); // lets the engine measure both sides and decide
                }
                Timing.Result r = time(() -> runHost(auto, c, x, y), () -> { });
                double copy = hostCopyGbps.computeIfAbsent(c.bytes(), copies::hostGbps);
                out.add(emit(new Measurement(c, "auto", null, auto.backendDescription(), Measurement.END_TO_END,
                        r.ms(), r.reps(), r.opsPerRep(), copy, note(r))));
            }
        }
    }

    private List<BindingChoice> bindings() {
        return bindings(config.binding());
    }

    /** Binding {@code b}'s device number {@code index} (-1: the best), or null after telling {@code skipped} why not. */
    static ClDevice device(BindingChoice b, int index, BiConsumer<String, String> skipped) {
        try {
            return OpenClDevices.choose(Bindings.require(b), index);
        } catch (DeviceUnavailableException e) {
            skipped.accept("opencl " + b.name().toLowerCase(Locale.ROOT), e.getMessage());
            return null;
        }
    }

    /** {@code choice} alone, or for {@code AUTO} every binding that loads here. */
    static List<BindingChoice> bindings(BindingChoice choice) {
        if (choice != BindingChoice.AUTO) {
            return List.of(choice);
        }
        List<BindingChoice> all = new ArrayList<>();
        for (String n : Bindings.names()) {
            all.add(BindingChoice.valueOf(n.toUpperCase(Locale.ROOT)));
        }
        return all;
    }

    private Measurement measureHost(PoolingEngine cpu, BenchCase c) {
        Tensor x = input(c.shape());
        Tensor y = Tensor.allocate(c.outputShape());
        Timing.Result r = time(() -> runHost(cpu, c, x, y), () -> { });
        double copy = hostCopyGbps.computeIfAbsent(c.bytes(), copies::hostGbps);
        return emit(new Measurement(c, "cpu", null, cpu.backendDescription(), Measurement.END_TO_END, r.ms(),
                r.reps(), r.opsPerRep(), copy, note(r)));
    }

    private Measurement measureEndToEnd(PoolingEngine engine, BenchCase c, String binding, ClDevice device, double copy,
                                        String read) {
        Tensor x = input(c.shape());
        Tensor y = Tensor.allocate(c.outputShape());
        Timing.Result r = time(() -> runHost(engine, c, x, y), () -> { });
        return emit(new Measurement(c, "opencl", binding, device.info().summary(), Measurement.END_TO_END, r.ms(),
                r.reps(), r.opsPerRep(), copy, join(ratio(c, r, read), note(r))));
    }

    private Measurement measureResident(PoolingEngine engine, BenchCase c, String binding, ClDevice device, double copy,
                                        String read) {
        try (DeviceTensor x = engine.upload(input(c.shape()))) {
            Timing.Result r = time(() -> {
                // Each output goes back to the engine's buffer pool at once and is reused by the
                // next operation (safe: one in-order queue).
                try (DeviceTensor y = c.isGlobal() ? engine.global(c.globalMode(), x) : engine.pool(x, c.spec())) {
                    Objects.requireNonNull(y);
                }
            }, engine::finish);
            return emit(new Measurement(c, "opencl", binding, device.info().summary(), Measurement.DEVICE_RESIDENT,
                    r.ms(), r.reps(), r.opsPerRep(), copy, join(ratio(c, r, read), note(r))));
        }
    }

    private static void runHost(PoolingEngine engine, BenchCase c, Tensor x, Tensor y) {
        if (c.isGlobal()) {
            engine.global(c.globalMode(), x, y);
        } else {
            engine.pool(x, c.spec(), y);
        }
    }

    private Timing.Result time(Runnable op, Runnable sync) {
        return Timing.median(op, sync, config, config.budgetMs());
    }

    private String note(Timing.Result r) {
        return r.reps() < config.timedReps() ? r.reps() + " of " + config.timedReps() + " reps (quick run: too slow here)"
                : null;
    }

    /**
     * For a reduction: the read-only pass over its input, measured in this run, as
     * {@code "read-only pass G GB/s"}; the figure's ratio to it is added by {@link #ratio}.
     */
    private String readOnlyNote(OpenClBackend backend, BenchCase c) {
        long bytes = c.shape().elementCount() * Float.BYTES;
        try (DeviceCopy copy = DeviceCopy.open(backend, bytes)) {
            Timing.Result r = time(copy::enqueueReadOnly, copy::finish);
            return String.format(Locale.ROOT, "%.1f", copy.bytes() / (r.ms() * 1e6));
        }
    }

    /** {@code "N% of a read-only pass (G GB/s)"}: the input bytes per second over the read-only pass's. */
    private static String ratio(BenchCase c, Timing.Result r, String readGbps) {
        if (readGbps == null) {
            return null;
        }
        double inGbps = c.shape().elementCount() * Float.BYTES / (r.ms() * 1e6);
        return String.format(Locale.ROOT, "%.0f%% of a read-only pass (%s GB/s)", 100 * inGbps / Double.parseDouble(readGbps),
                readGbps);
    }

    private static String join(String a, String b) {
        return a == null ? b : b == null ? a : a + "; " + b;
    }

    private Measurement emit(Measurement m) {
        listener.measured(m);
        return m;
    }

    /** The input for a shape: seeded values in [-4, 4), made once per shape and shared. */
    private Tensor input(Shape s) {
        return inputs.computeIfAbsent(s, shape -> {
            Tensor t = Tensor.allocate(shape);
            FloatBuffer f = t.floats();
            SplittableRandom r = new SplittableRandom(shape.hashCode());
            for (int i = 0, n = f.capacity(); i < n; i++) {
                f.put(i, (float) (r.nextDouble() * 8 - 4));
            }
            return t;
        });
    }
}
