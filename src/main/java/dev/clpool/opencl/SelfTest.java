package dev.clpool.opencl;

import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.backend.PoolingBackend;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A quick check of one device through one binding ({@code clpool probe --self-test}): a few
 * pooling cases on small random tensors compared with a reference backend (the CPU path), then
 * two bandwidth figures.
 *
 * <ul>
 * <li>Max and global max must be bit-identical; the other modes within
 *     {@code |got - want| <= 4e-6 * max(1, |want|)} (SEMANTICS.md).</li>
 * <li>Copy bandwidth: {@code clEnqueueCopyBuffer} of a 64 MiB buffer; bytes moved = read + written.</li>
 * <li>Pool bandwidth: max 2x2 stride 2 on a device-resident 1x512x512x64 tensor; bytes moved =
 *     input + output.</li>
 * </ul>
 * Each timing is the median of {@link #TIMED_RUNS} runs after one untimed warm-up run (which also
 * builds the kernel), each run ending with {@code clFinish} inside the timed region. GB/s are
 * 10^9 bytes per second.
 */
public final class SelfTest {

    /** {@code |got - want| <= TOLERANCE * max(1, |want|)} for every mode but max. */
    public static final double TOLERANCE = 4e-6;
    public static final int TIMED_RUNS = 7;
    static final long COPY_BYTES = 64L << 20;
    static final Shape BENCH_SHAPE = Shape.of(1, 512, 512, 64);
    static final PoolSpec BENCH_SPEC = PoolSpec.max(2, 2).stride(2).build();

    /** One correctness case: windowed pooling with {@code spec}, or global pooling with {@code global}. */
    public record Case(String name, Shape shape, PoolSpec spec, PoolMode global) {
        static Case pool(PoolSpec spec, Shape shape) {
            return new Case(spec.toString(), shape, spec, null);
        }

        static Case global(PoolMode mode, Shape shape) {
            return new Case("global " + mode.word(), shape, null, mode);
        }

        /** Max modes compare bits; the others use {@link #TOLERANCE}. */
        public boolean exact() {
            return (spec != null ? spec.mode() : global) == PoolMode.MAX;
        }
    }

    /**
     * A case's outcome. {@code maxError} is the largest {@code |got - want| / max(1, |want|)} over
     * the output (infinite where NaN or an infinity does not match); {@code firstMismatch} describes
     * the first element that disagrees, or is null.
     */
    public record CaseResult(Case testCase, boolean passed, long mismatches, double maxError, String firstMismatch) { }

    /** A bandwidth figure: {@code bytesMoved} per run over the median run time. */
    public record Bandwidth(String what, long bytesMoved, int runs, double medianSeconds) {
        /** 10^9 bytes per second. */
        public double gbPerSecond() {
            return bytesMoved / medianSeconds / 1e9;
        }
    }

    /**
     * The outcome on one device through one binding. {@code error} is set when something threw
     * (the kernel did not build, the device failed); then later cases and figures are missing.
     */
    public record Result(ClDevice device, List<CaseResult> cases, Bandwidth copy, Bandwidth pool, String error) {
        public Result {
            cases = List.copyOf(cases);
        }

        public String binding() {
            return device.binding().name();
        }

        /** Every case ran and agreed, and nothing threw. */
        public boolean passed() {
            return error == null && cases.size() == CASES.size() && cases.stream().allMatch(CaseResult::passed);
        }
    }

    /** Told before each step, with a short description of it. */
    public interface Progress {
        void step(String what);
    }

    private static final List<Case> CASES = List.of(
            Case.pool(PoolSpec.max(2, 2).stride(2).build(), Shape.of(2, 9, 11, 3)),
            Case.pool(PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(), Shape.of(2, 10, 9, 5)),
            Case.pool(PoolSpec.max(3, 3).stride(2).dilation(2).ceilMode(true).build(), Shape.of(2, 11, 12, 12)),
            Case.pool(PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).build(), Shape.of(2, 8, 7, 16)),
            Case.pool(PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).countIncludePad(true).build(),
                    Shape.of(2, 8, 7, 5)),
            Case.pool(PoolSpec.avg(3, 3).stride(2).padding(Padding.SAME).build(), Shape.of(2, 9, 10, 3)),
            Case.pool(PoolSpec.builder(PoolMode.LP).window(3, 3).stride(2).padding(Padding.of(1)).p(3).build(),
                    Shape.of(2, 8, 9, 5)),
            Case.global(PoolMode.AVG, Shape.of(2, 13, 11, 16)),
            Case.global(PoolMode.MAX, Shape.of(2, 13, 11, 5)));

    private SelfTest() {
    }

    /** The correctness cases, in the order they run. */
    public static List<Case> cases() {
        return CASES;
    }

    /** Steps per {@link #run}: every case, then the two bandwidth figures. */
    public static int steps() {
        return CASES.size() + 2;
    }

    /**
     * Runs every case and both figures on {@code device} (through its binding), comparing with
     * {@code reference}. Never throws for device trouble: it ends up in {@link Result#error()}.
     */
    public static Result run(ClDevice device, PoolingBackend reference, Progress progress) {
        List<CaseResult> results = new ArrayList<>();
        Bandwidth copy = null;
        Bandwidth pool = null;
        try (OpenClBackend backend = OpenClBackend.open(device, OpenClBackend.Options.DEFAULT)) {
            for (int i = 0; i < CASES.size(); i++) {
                Case c = CASES.get(i);
                progress.step(c.name() + " on " + c.shape());
                results.add(check(c, 0x5EED + i, backend, reference));
            }
            progress.step("copy bandwidth");
            copy = copyBandwidth(backend);
            progress.step("max-pool bandwidth");
            pool = poolBandwidth(backend);
            return new Result(device, results, copy, pool, null);
        } catch (RuntimeException e) {
            return new Result(device, results, copy, pool, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private static CaseResult check(Case c, long seed, OpenClBackend backend, PoolingBackend reference) {
        Tensor x = random(c.shape(), seed);
        Tensor want;
        Tensor got;
        if (c.spec() != null) {
            PoolGeometry g = c.spec().geometry(c.shape());
            want = Tensor.allocate(g.output());
            got = Tensor.allocate(g.output());
            reference.pool(g, x, want);
            backend.pool(g, x, got);
        } else {
            Shape os = Shape.of(c.shape().n(), 1, 1, c.shape().c());
            want = Tensor.allocate(os);
            got = Tensor.allocate(os);
            reference.global(c.global(), x, want);
            backend.global(c.global(), x, got);
        }
        return compare(c, want, got);
    }

    private static CaseResult compare(Case c, Tensor want, Tensor got) {
        float[] w = want.toArray();
        float[] g = got.toArray();
        long mismatches = 0;
        double worst = 0;
        String first = null;
        for (int i = 0; i < w.length; i++) {
            boolean ok;
            double err;
            if (Float.isNaN(w[i]) || Float.isNaN(g[i]) || Float.isInfinite(w[i]) || Float.isInfinite(g[i])) {
                ok = c.exact() ? Float.floatToRawIntBits(w[i]) == Float.floatToRawIntBits(g[i])
                        : Float.isNaN(w[i]) ? Float.isNaN(g[i]) : w[i] == g[i];
                err = ok ? 0 : Double.POSITIVE_INFINITY;
            } else {
                double diff = Math.abs((double) g[i] - w[i]);
                double scale = Math.max(1.0, Math.abs((double) w[i]));
                err = diff / scale;
                ok = c.exact() ? Float.floatToRawIntBits(w[i]) == Float.floatToRawIntBits(g[i])
                        : diff <= TOLERANCE * scale;
            }
            worst = Math.max(worst, err);
            if (!ok) {
                if (first == null) {
                    first = "element " + position(want.shape(), i) + ": got " + g[i] + ", want " + w[i]
                            + (c.exact() ? " (bits 0x" + Integer.toHexString(Float.floatToRawIntBits(g[i]))
                                    + " vs 0x" + Integer.toHexString(Float.floatToRawIntBits(w[i])) + ")" : "");
                }
                mismatches++;
            }
        }
        return new CaseResult(c, mismatches == 0, mismatches, worst, first);
    }

    private static String position(Shape s, int flat) {
        int c = flat % s.c();
        int x = flat / s.c() % s.w();
        int y = flat / s.c() / s.w() % s.h();
        int n = flat / s.c() / s.w() / s.h();
        return "(n=" + n + ", y=" + y + ", x=" + x + ", c=" + c + ")";
    }

    private static Bandwidth copyBandwidth(OpenClBackend backend) {
        DeviceInfo info = backend.device().info();
        long bytes = Math.min(COPY_BYTES, Math.min(info.maxAllocBytes(), info.globalMemBytes() / 4)) & ~4095L;
        ClContext context = backend.session().context();
        ClQueue queue = backend.session().queue();
        try (ClBuffer src = context.createBuffer(Cl.CL_MEM_READ_WRITE, bytes);
             ClBuffer dst = context.createBuffer(Cl.CL_MEM_READ_WRITE, bytes)) {
            double median = median(() -> queue.copy(src, dst, bytes), queue);
            return new Bandwidth("clEnqueueCopyBuffer of " + mib(bytes), 2 * bytes, TIMED_RUNS, median);
        }
    }

    private static Bandwidth poolBandwidth(OpenClBackend backend) {
        DeviceInfo info = backend.device().info();
        Shape s = BENCH_SHAPE;
        while (s.h() > 2 && s.elementCount() * Float.BYTES > Math.min(info.maxAllocBytes(), info.globalMemBytes() / 8)) {
            s = Shape.of(s.n(), s.h() / 2, s.w() / 2, s.c()); // a small device: a smaller tensor
        }
        PoolGeometry g = BENCH_SPEC.geometry(s);
        Tensor x = random(s, 0xBE7C);
        long outBytes = g.output().elementCount() * Float.BYTES;
        ClContext context = backend.session().context();
        ClQueue queue = backend.session().queue();
        try (ClBuffer in = context.createBuffer(Cl.CL_MEM_READ_ONLY | Cl.CL_MEM_COPY_HOST_PTR, x.buffer());
             ClBuffer out = context.createBuffer(Cl.CL_MEM_READ_WRITE, outBytes)) { // max may read it back (maxRuns)
            int n = s.n();
            double median = median(() -> backend.poolRoutine().enqueue(g, x.dtype(), in, out, n), queue);
            return new Bandwidth(BENCH_SPEC + " on " + s + " resident on the device", x.byteSize() + outBytes,
                    TIMED_RUNS, median);
        }
    }

    /** One untimed warm-up, then the median of TIMED_RUNS runs, each ending with clFinish. */
    private static double median(Runnable enqueue, ClQueue queue) {
        enqueue.run();
        queue.finish();
        double[] seconds = new double[TIMED_RUNS];
        for (int i = 0; i < TIMED_RUNS; i++) {
            long t0 = System.nanoTime();
            enqueue.run();
            queue.finish();
            seconds[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(seconds);
        return seconds[TIMED_RUNS / 2];
    }

    private static Tensor random(Shape s, long seed) {
        Tensor t = Tensor.allocate(s);
        FloatBuffer f = t.floats();
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0, n = f.capacity(); i < n; i++) {
            f.put(i, (float) r.nextDouble(-4, 4));
        }
        return t;
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%d MiB", bytes >> 20);
    }
}
