package dev.clpool.bench;

import dev.clpool.BackendChoice;
import dev.clpool.BindingChoice;
import dev.clpool.DType;
import dev.clpool.PoolingEngine;
import dev.clpool.bench.Workload.Op;
import dev.clpool.bench.WorkloadSuite.Api;
import dev.clpool.bench.WorkloadSuite.Run;
import dev.clpool.bench.WorkloadSuite.Variant;
import dev.clpool.opencl.ClDevice;
import dev.clpool.opencl.OpenClBackend;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs the workload suite ({@link WorkloadSuite}) end to end, host tensor to host tensor, on the
 * CPU path and on each binding's OpenCL device: each figure on every backend in turn before the
 * next (so that load on the machine spreads over the backends alike), one layer's kinds of data
 * and APIs in one storage type timed round by round (the same for them), against a plain copy of the
 * same bytes measured in the same run (host copy for the CPU path, device copy on a device, as in
 * {@link Benchmark}). Then issue 11's allocation cases: the allocating and the into-existing
 * form of each operation timed alternately, their medians' ratio reported. Prints nothing.
 */
public final class WorkloadBenchmark {

    /**
     * One figure: the median milliseconds of one call of {@code workload} in {@code variant}.
     *
     * @param binding null on the CPU path
     * @param note    a remark (fewer repetitions in a quick run), or null
     */
    public record Figure(Workload workload, Variant variant, String backend, String binding, String device, double ms,
                         int reps, int opsPerRep, double copyGbps, String note) {
        /** The bytes the operation must move ({@link Workload#bytes}) per second, 10^9. */
        public double gbps() {
            return workload.bytes(variant.dtype()) / (ms * 1e6);
        }

        public double copyRatio() {
            return gbps() / copyGbps;
        }
    }

    /**
     * Issue 11: the median time of an allocating call in a steady loop, results closed
     * ({@code allocMs}) or dropped ({@code droppedMs}), and of the into-existing call, float32
     * random data.
     */
    public record AllocationRatio(Workload workload, String backend, String binding, double allocMs, double droppedMs,
                                  double intoMs, int rounds) {
        /** Issue 11's bound: an allocating call costs at most this many times the into-existing call. */
        public static final double LIMIT = 1.2;

        /** Allocating (results closed) over into-existing. */
        public double ratio() {
            return allocMs / intoMs;
        }

        /** Allocating (results dropped) over into-existing. */
        public double droppedRatio() {
            return droppedMs / intoMs;
        }

        /** Output bytes (float32 values; the indices of poolWithIndices not counted), in MiB. */
        public double outputMib() {
            return workload.resultShape().elementCount() * (double) Float.BYTES / (1 << 20);
        }
    }

    /** Hears about progress; every method has a do-nothing default. */
    public interface Listener {
        default void started(String what) {
        }

        default void figure(Figure f) {
        }

        default void ratio(AllocationRatio r) {
        }

        default void skipped(String backend, String reason) {
        }
    }

    /** Everything measured. */
    public record Result(List<Figure> figures, List<AllocationRatio> ratios) {
    }

    /** One backend: the CPU path, or one binding's device; {@code copyBackend} null on the CPU path. */
    private record Side(String backend, String binding, String device, PoolingEngine engine, OpenClBackend copyBackend) {
    }

    private final Benchmark.Config config;
    private final Listener listener;
    private final CopyReference copies = new CopyReference(this::time);
    private final Map<String, Double> copyGbps = new HashMap<>();

    private WorkloadBenchmark(Benchmark.Config config, Listener listener) {
        this.config = config;
        this.listener = listener;
    }

    /** Measures {@code runs}, then {@code allocationCases}, on the backends {@code config} asks for. */
    public static Result run(Benchmark.Config config, List<Run> runs, List<Workload> allocationCases, Listener listener) {
        return new WorkloadBenchmark(config, listener).run(runs, allocationCases);
    }

    private Result run(List<Run> runs, List<Workload> allocationCases) {
        List<Side> sides = new ArrayList<>();
        try {
            open(sides);
            List<Figure> figures = new ArrayList<>();
            List<AllocationRatio> ratios = new ArrayList<>();
            if (sides.isEmpty()) {
                return new Result(figures, ratios);
            }
            for (int i = 0; i < runs.size(); ) {
                List<Run> kinds = sameLayerAndStorage(runs, i);
                i += kinds.size();
                Run r = kinds.get(0);
                listener.started(r.workload().name() + " " + (kinds.size() == 1 ? r.variant()
                        : kinds.size() + " variants (data, API), interleaved") + ": " + r.workload().source());
                List<WorkloadOps> ops = kinds.stream().map(k -> new WorkloadOps(k.workload(), k.variant())).toList();
                for (Side s : sides) {
                    List<Runnable> calls = new ArrayList<>();
                    for (int k = 0; k < kinds.size(); k++) {
                        calls.add(ops.get(k).call(s.engine(), kinds.get(k).variant().api()));
                    }
                    List<Timing.Result> t = Timing.interleaved(calls, () -> { }, config, budgetMs());
                    for (int k = 0; k < kinds.size(); k++) {
                        figures.add(emit(figure(kinds.get(k), s, t.get(k))));
                    }
                }
            }
            Variant plain = new Variant(DType.FLOAT32, Data.RANDOM, Api.INTO);
            for (Workload w : allocationCases) {
                listener.started(w.name() + ": " + w.label() + " " + w.dims() + ", allocating vs into-existing");
                WorkloadOps ops = new WorkloadOps(w, plain);
                for (Side s : sides) {
                    AllocationRatio a = ratio(ops, s);
                    ratios.add(a);
                    listener.ratio(a);
                }
            }
            return new Result(figures, ratios);
        } finally {
            for (Side s : sides) {
                s.engine().close();
                if (s.copyBackend() != null) {
                    s.copyBackend().close();
                }
            }
        }
    }

    private void open(List<Side> sides) {
        if (config.cpu()) {
            PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build();
            sides.add(new Side("cpu", null, cpu.backendDescription(), cpu, null));
        }
        if (!config.opencl()) {
            return;
        }
        for (BindingChoice b : Benchmark.bindings(config.binding())) {
            String name = b.name().toLowerCase(Locale.ROOT);
            ClDevice device = Benchmark.device(b, config.device(), listener::skipped);
            if (device == null) {
                continue;
            }
            PoolingEngine engine = PoolingEngine.builder().backend(BackendChoice.OPENCL).device(device).build();
            try {
                OpenClBackend copy = OpenClBackend.open(device, OpenClBackend.Options.DEFAULT);
                sides.add(new Side("opencl", name, device.info().summary(), engine, copy));
            } catch (RuntimeException e) {
                engine.close();
                throw e;
            }
        }
    }

    /**
     * The runs from {@code from} on that differ from it only in their kind of data or their API:
     * measured together, their repetitions interleaved ({@link Timing#interleaved}), so that the
     * data cliffs' table and the allocating form against the into-existing one compare figures
     * taken in the same seconds (timed one after the other, a spell of load on a shared machine
     * moved one form's figure by up to 6x).
     */
    static List<Run> sameLayerAndStorage(List<Run> runs, int from) {
        Run first = runs.get(from);
        int to = from + 1;
        while (to < runs.size() && runs.get(to).workload().equals(first.workload())
                && runs.get(to).variant().dtype() == first.variant().dtype()) {
            to++;
        }
        return runs.subList(from, to);
    }

    private Figure figure(Run r, Side s, Timing.Result t) {
        long bytes = r.workload().bytes(r.variant().dtype());
        double copy = copyGbps.computeIfAbsent(s.backend() + "/" + s.binding() + "/" + bytes,
                k -> s.copyBackend() == null ? copies.hostGbps(bytes) : copies.deviceGbps(s.copyBackend(), bytes));
        String note = t.reps() < config.timedReps()
                ? t.reps() + " of " + config.timedReps() + " reps (" + (config.quick() ? "quick run" : "time budget")
                + ": too slow here)" : null;
        return new Figure(r.workload(), r.variant(), s.backend(), s.binding(), s.device(), t.ms(), t.reps(),
                t.opsPerRep(), copy, note);
    }

    /** Into-existing and allocating calls (closed, dropped) timed alternately, round by round; the medians of the rounds. */
    private AllocationRatio ratio(WorkloadOps ops, Side s) {
        Runnable into = ops.call(s.engine(), Api.INTO);
        Runnable alloc = ops.call(s.engine(), Api.ALLOCATING);
        Runnable dropped = ops.call(s.engine(), Api.DROPPED);
        warmDropped(dropped, ops.workload());
        int rounds = config.quick() ? 1 : 5;
        double[] b = new double[rounds];
        double[] a = new double[rounds];
        double[] d = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            b[i] = time(into, () -> { }).ms();
            a[i] = time(alloc, () -> { }).ms();
            d[i] = time(dropped, () -> { }).ms();
        }
        return new AllocationRatio(ops.workload(), s.backend(), s.binding(), Timing.median(a), Timing.median(d),
                Timing.median(b), rounds);
    }

    /**
     * Results of a dropped loop handed out untimed first: until the engine's pool first nudges
     * the collector every dropped result is fresh memory, which faults in at 12-17 ms per MiB on
     * the shared test machine, against about 1 ms per MiB for the operations measured here. So the
     * timed rounds see the pool's steady state (blocks taken back by each nudge, reused until the
     * next), which is what issue 11 bounds, rather than its one-time filling (1.3-8x the
     * into-existing call when it was timed). The first nudge comes after 256 MiB of results, or
     * after as much as the pool's bound (at most 4 GiB; see
     * {@code PoolingEngine.Builder#hostMemoryPoolBytes}) where earlier rows' large results left
     * its threshold there: 1 GiB of warm-up left the 1 MiB global-average row on PoCL, measured
     * after the 100 MiB rows, timing the fill (4.3x).
     */
    static final long DROPPED_WARM_BYTES = 4L << 30;
    /** The dropped loop's untimed warm-up stops here even if fewer bytes went out (a slow device). */
    static final double DROPPED_WARM_MS = 20_000;

    /** Runs {@code dropped} untimed until {@link #DROPPED_WARM_BYTES} of results went out, or {@link #DROPPED_WARM_MS} passed. */
    private void warmDropped(Runnable dropped, Workload w) {
        if (config.quick()) {
            return;
        }
        long perCall = w.resultShape().elementCount() * Float.BYTES
                + (w.op() == Op.POOL_WITH_INDICES ? w.outputTensorShape().elementCount() * Long.BYTES : 0);
        long start = System.nanoTime();
        for (long out = 0; out < DROPPED_WARM_BYTES && (System.nanoTime() - start) / 1e6 < DROPPED_WARM_MS;
             out += perCall) {
            dropped.run();
        }
    }

    private Figure emit(Figure f) {
        listener.figure(f);
        return f;
    }

    /**
     * A full run spends at most about this on the timed repetitions of one figure (fewer
     * repetitions, noted): some layers take seconds per call on some devices, and the full
     * suite has hundreds of figures.
     */
    static final double FULL_BUDGET_MS = 8000;

    private Timing.Result time(Runnable op, Runnable sync) {
        return Timing.median(op, sync, config, budgetMs());
    }

    private double budgetMs() {
        return config.budgetMs() > 0 ? config.budgetMs() : FULL_BUDGET_MS;
    }
}
