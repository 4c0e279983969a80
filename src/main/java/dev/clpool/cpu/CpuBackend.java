package dev.clpool.cpu;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.Axis;
import dev.clpool.DType;
import dev.clpool.Indices;
import dev.clpool.PlanarGeometry;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.UnpoolGeometry;
import dev.clpool.backend.BatchLanes;
import dev.clpool.backend.PoolingBackend;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;

/**
 * The multithreaded CPU path: the fallback, and the reference the device tests compare with.
 *
 * <p>Work is split into contiguous ranges of output rows (or, for global pooling, of pixel runs),
 * several ranges per thread, which the calling thread and the threads of a private fork-join pool
 * claim one at a time ({@link WorkShare}); problems too small to be worth waking the pool run in
 * the calling thread alone. Each reduction has its own classes and loops, so that the JIT
 * compiles each for its own profile: windowed max and average in {@link MaxWindows} and
 * {@link AvgWindows} (input rows staged into heap arrays by bulk copies, an interior/border split so
 * that interior windows carry no bounds checks, channels innermost; see {@link WindowPlan}; large
 * max and average windows in {@link MaxVanHerk} and {@link AvgVanHerk}, at a cost per output
 * independent of the window, chosen by {@link WindowPlan#prefixSuffixPays}), global
 * pooling in {@link CpuGlobal}, LP pooling in {@link LpWindows}.
 * Scratch arrays are per thread and reused.
 *
 * <p>Max gives the same bits as the kernels (a strictly larger value, or the first NaN, wins; see
 * {@link #max}). Averages use certified float sums (windowed: plain sums with a running error
 * bound, {@link AvgWindows}; global: compensated, {@link CompensatedSum}), falling
 * back to double per result where the certificate fails; LP accumulates in double.
 */
public final class CpuBackend implements PoolingBackend {

    /** Ranges per thread in {@link #chunks}. */
    private static final int CHUNKS_PER_THREAD = 4;
    /**
     * Element visits per range beyond which a job gets more than {@link #CHUNKS_PER_THREAD} ranges per
     * thread (about 0.1 ms of a streaming kernel). Threads claim ranges as they go ({@link WorkShare}),
     * so the last ranges' ends differ by up to a range: with DenseNet's 2×2 average (6.4 M visits,
     * 2.2 ms of one thread) in 8 ranges, a helper that started late left the caller up to a whole
     * 0.27 ms range more than its share; in 14 ranges, 0.16 ms (docs/performance.md, branch
     * {@code gapd}: two threads 1.82 → 1.57 ms, median wall).
     */
    private static final long PART_WORK = 1 << 18;
    /**
     * Items a range keeps at least when {@link #PART_WORK} splits a job finer: a range's first items
     * may cost more than the rest (a ring of staged input rows is filled again at each range's start).
     */
    private static final int MIN_PART_ITEMS = 32;
    /** Below this many element visits a range is not worth a task of its own. */
    private static final long MIN_TASK_WORK = 1 << 15;

    /**
     * {@code -Dclpool.cpu.spinMicros=N}: with N above 0 the helper threads are {@link SpinningHelpers},
     * which poll for the next job for N microseconds before they park; 0 (the default), a fork-join
     * pool, whose workers park at once (docs/performance.md, branch {@code spin}).
     */
    static final String SPIN_PROPERTY = "clpool.cpu.spinMicros";
    static final long DEFAULT_SPIN_MICROS = 0;

    private final Executor pool;
    private final int threads;
    private final long spin;
    /** One-thread backends for {@link #lanes()}, made on first use and closed with this one. */
    private CpuBackend[] lanes;

    public CpuBackend(int threads) {
        this(threads, spinMicros());
    }

    CpuBackend(int threads, long spinMicros) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.spin = spinMicros;
        // The calling thread takes parts of every job (WorkShare): the pool supplies the others.
        this.pool = spinMicros > 0 ? new SpinningHelpers(Math.max(1, threads - 1), spinMicros, "clpool-cpu-helper")
                : new ForkJoinPool(Math.max(1, threads - 1));
    }

    private static long spinMicros() {
        String v = System.getProperty(SPIN_PROPERTY);
        if (v == null || v.isBlank()) {
            return DEFAULT_SPIN_MICROS;
        }
        try {
            return Math.max(0, Long.parseLong(v.strip()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + SPIN_PROPERTY + " must be a number of microseconds, got " + v, e);
        }
    }

    /** The helper threads, for tests. */
    Executor helpers() {
        return pool;
    }

    /** One thread per available processor. */
    public CpuBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    int threads() {
        return threads;
    }

    /**
     * This backend's threads as one-thread backends, one a thread, with parts claimed by this
     * backend's threads as they come free ({@link WorkShare}): for splitting a batch by items. A
     * one-thread backend runs in its caller's thread and keeps nothing between calls but its
     * thread-local scratch, so one lane may serve parts on two threads at once.
     */
    public BatchLanes lanes() {
        return new BatchLanes() {
            @Override
            public int count() {
                return threads;
            }

            @Override
            public PoolingBackend lane(int i) {
                return oneThread()[i];
            }

            @Override
            public void run(int parts, IntConsumer part) {
                if (parts < 1) {
                    throw new IllegalArgumentException("no parts to run: " + parts);
                }
                if (parts == 1) {
                    part.accept(0);
                    return;
                }
                WorkShare.run(pool, threads - 1, parts, part);
            }
        };
    }

    private synchronized CpuBackend[] oneThread() {
        if (lanes == null) {
            CpuBackend[] made = new CpuBackend[threads];
            for (int i = 0; i < threads; i++) {
                made[i] = new CpuBackend(1, spin);
            }
            lanes = made;
        }
        return lanes;
    }

    @Override
    public String kind() {
        return "cpu";
    }

    @Override
    public String description() {
        return "CPU (" + threads + (threads == 1 ? " thread" : " threads")
                + (VectorSupport.enabled() ? ", " + VecWidth.bits() + "-bit Vector API kernels)" : ")");
    }

    /** Channels-first planes read along W ({@link ChannelsFirstPool}); float32 (WideningBackend widens). */
    @Override
    public void poolPlanar(PlanarGeometry g, Tensor in, Tensor out) {
        new ChannelsFirstPool(this).pool(g.mode(), g.p(), g.countIncludePad(), in.buffer(), out.buffer(), g.planes(),
                g.axes());
    }

    @Override
    public void globalPlanar(PoolMode mode, int planes, int planeSize, Tensor in, Tensor out) {
        if (VectorSupport.ENABLED && planeSize < PlaneGlobal.LARGE_PLANE) {
            if (mode == PoolMode.AVG) {
                VecPlaneGlobal.avg(this, in.buffer(), out.floats(), planes, planeSize);
                return;
            }
            if (mode == PoolMode.MAX && VecPlaneGlobal.fitsMax(planeSize)) {
                VecPlaneGlobal.max(this, in.buffer(), in.floats(), out.floats(), planes, planeSize);
                return;
            }
        }
        new ChannelsFirstPool(this).global(mode, 2.0, in.floats(), out.floats(), planes, planeSize);
    }

    @Override
    public void pool(PoolGeometry g, Tensor in, Tensor out) {
        FloatBuffer src = in.floats();
        FloatBuffer dst = out.floats();
        Shape os = g.output();
        int rows = os.n() * os.h();
        // One class, and one lambda, per reduction: each compiles for its own profile.
        if (MaxVanHerk.pays(g)) {
            MaxVanHerk max = new MaxVanHerk(g);
            chunks(rows, max.workPerRow(), (from, to) -> max.run(in, out, from, to, Scratch.get()));
            return;
        }
        if (g.mode() == PoolMode.MAX) {
            MaxWindows max = new MaxWindows(g);
            chunks(rows, max.workPerRow(), (from, to) -> max.run(in, out, from, to, Scratch.get()));
            return;
        }
        if (AvgVanHerk.pays(g)) {
            AvgVanHerk avg = new AvgVanHerk(g);
            chunks(rows, avg.workPerRow(), (from, to) -> avg.run(in, out, from, to, Scratch.get()));
            return;
        }
        if (g.mode() == PoolMode.AVG) {
            AvgWindows avg = new AvgWindows(g, true);
            chunks(rows, avg.workPerRow(), (from, to) -> avg.run(in, out, from, to, Scratch.get()));
            return;
        }
        LpWindows lp = new LpWindows(g);
        chunks(rows, lp.workPerRow(), (from, to) -> lp.run(src, dst, from, to, Scratch.get()));
    }

    /**
     * Channels-last max windows of a float16 or bfloat16 tensor on its 16-bit patterns, in Vector
     * API short lanes ({@link VecMaxStored}): the widened path's bits with nothing widened. Taken
     * where {@link #storesMax} says; every other request is refused and widened.
     */
    @Override
    public boolean poolStored(PoolGeometry g, Tensor in, Tensor out) {
        if (!storesMax(g, in.dtype(), out.dtype())) {
            return false;
        }
        WindowPlan p = new WindowPlan(g);
        boolean half = in.dtype() == DType.FLOAT16;
        Shape os = g.output();
        chunks(os.n() * os.h(), p.workPerRow(),
                (from, to) -> VecMaxStored.run(in.buffer(), out.buffer(), p, half, from, to));
        return true;
    }

    /**
     * Whether {@link #poolStored} takes a request: max, one 16-bit type in and out, the Vector API
     * enabled, windows that the float32 path runs as {@link MaxWindows} (not {@link MaxVanHerk}'s
     * large stride-1 ones) and channels that fill a short vector ({@link VecMaxStored#fits}).
     */
    static boolean storesMax(PoolGeometry g, DType in, DType out) {
        return VectorSupport.ENABLED && g.mode() == PoolMode.MAX && in == out && in != DType.FLOAT32
                && !MaxVanHerk.pays(g) && VecMaxStored.fits(g.input().c());
    }

    /**
     * Channels-last global max of a float16 or bfloat16 tensor on its 16-bit patterns
     * ({@link VecMaxStored#global}), where the Vector API runs and the channels fill a short vector;
     * in tasks of an item's channel block, so at least as many tasks as threads need
     * {@code N·blocks >= threads} (else refused, and widened).
     */
    @Override
    public boolean globalStored(PoolMode mode, Tensor in, Tensor out) {
        Shape s = in.shape();
        if (!VectorSupport.ENABLED || mode != PoolMode.MAX || in.dtype() != out.dtype() || in.dtype() == DType.FLOAT32
                || !VecMaxStored.fits(s.c())) {
            return false;
        }
        int blocks = VecMaxStored.globalBlocks(s.c());
        if ((long) s.n() * blocks < threads) {
            return false;
        }
        int positions = s.h() * s.w();
        boolean half = in.dtype() == DType.FLOAT16;
        chunks(s.n() * blocks, (long) positions * s.c() / blocks,
                (from, to) -> VecMaxStored.global(in.buffer(), out.buffer(), positions, s.c(), half, from, to));
        return true;
    }

    @Override
    public void backward(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn) {
        CpuBackward.run(g, in, gradOut, gradIn,
                sized(elements(in) + elements(gradOut) * windowTaps(g) + elements(gradIn)));
    }

    /** Max and avg backward of tiling windows two columns wide in one pass ({@link CfPairBackward}). */
    @Override
    public boolean backwardPlanar(PoolMode mode, Axis[] axes, int planes, Tensor in, Tensor gradOut, Tensor gradIn) {
        if (!CfPairBackward.fits(mode, axes, in, gradOut, gradIn)) {
            return false;
        }
        CfPairBackward.run(mode, axes, planes, in, gradOut, gradIn, sized(elements(in) + elements(gradOut) + elements(gradIn)));
        return true;
    }

    @Override
    public boolean hasBackwardPlanar(PoolMode mode, Axis[] axes) {
        return CfPairBackward.fits(mode, axes);
    }

    @Override
    public void global(PoolMode mode, Tensor in, Tensor out) {
        switch (mode) {
            case MAX: CpuGlobal.max(this, in, out); break;
            case AVG: CpuGlobal.avg(this, in, out); break;
            default: throw new IllegalArgumentException("global pooling supports max and avg, not " + mode.word());
        }
    }

    @Override
    public void adaptive(AdaptiveGeometry g, Tensor in, Tensor out) {
        CpuAdaptive.run(g, in, out, sized(elements(in) + elements(out)));
    }

    @Override
    public void maxWithIndices(PoolGeometry g, Tensor in, Tensor out, Indices indices) {
        CpuMaxIndices.run(g, in, out, indices, sized(elements(in) + elements(out) * windowTaps(g)));
    }

    /** Forms the {@code nhwc} indices as it writes them ({@link CpuMaxIndices#runNhwcPlanes}): no second pass. */
    @Override
    public void maxWithNhwcPlaneIndices(PoolGeometry g, Tensor in, Tensor out, Indices indices, int channels) {
        CpuMaxIndices.runNhwcPlanes(g, in, out, indices, channels, sized(elements(in) + elements(out) * windowTaps(g)));
    }

    /**
     * Copies {@code src} into {@code dst}, each element rounded once to {@code dst}'s storage type
     * (as {@link Tensor#convertInto} does, bit for bit), in blocks over this backend's threads
     * ({@link HostConversion}).
     * The two tensors hold the same number of elements.
     */
    @Override
    public void convert(Tensor src, Tensor dst) {
        convert(src, dst, VectorSupport.ENABLED);
    }

    /** {@link #convert}, with {@code vectors} false: the scalar blocks even where the Vector API runs (tests compare them). */
    void convert(Tensor src, Tensor dst, boolean vectors) {
        HostConversion.run(src, dst, vectors, (count, body) -> chunks(count, 1, body));
    }

    @Override
    public void unpool(Tensor values, Indices indices, UnpoolGeometry g, Tensor out) {
        CpuUnpool.run(g, values, indices, out, this);
    }

    /**
     * clpool's max: {@code v} replaces {@code m} if strictly larger, or if it is NaN and {@code m}
     * is not (the first NaN wins and stays). Identical to the kernels' MAX_UPDATE.
     */
    static float max(float m, float v) {
        return (v > m || (v != v && m == m)) ? v : m;
    }

    /**
     * A NaN sum comes out with a sign and payload that depend on the JIT tier (HotSpot may swap
     * the operands of an add, and x86 keeps the first NaN operand): the same call gave 0x7fc00000
     * interpreted and 0xffc00000 compiled. Sums (averages, adaptive averages, gradients: SEMANTICS
     * says only "NaN" for them) return the one canonical NaN, so that results repeat bit for bit,
     * serially and concurrently.
     */
    static float canonicalNaN(float v) {
        return v != v ? Float.NaN : v;
    }

    /**
     * {@link #parallel} for an operation that visits about {@code work} elements in all, or the
     * calling thread alone when that is too little to be worth waking the pool (the rule of
     * {@link #chunks}): a hand-off to the pool and back costs tens of microseconds, more than a
     * small layer's whole work.
     */
    private CpuBackward.Parallel sized(long work) {
        if (work >= 2 * MIN_TASK_WORK) {
            return this::parallel;
        }
        return (tasks, body) -> {
            for (int t = 0; t < tasks; t++) {
                body.accept(t);
            }
        };
    }

    private static long elements(Tensor t) {
        return t.byteSize() / t.dtype().byteSize();
    }

    private static long windowTaps(PoolGeometry g) {
        return (long) g.rows().window() * g.cols().window();
    }

    private void parallel(int tasks, java.util.function.IntConsumer body) {
        chunks(tasks, 2 * MIN_TASK_WORK, (from, to) -> {
            for (int t = from; t < to; t++) {
                body.accept(t);
            }
        });
    }

    /**
     * Runs {@code body} over {@code [0, items)} split into contiguous ranges: several per thread so
     * that a thread slowed by other work on the machine does not hold up the rest, or in the
     * calling thread alone when the whole job is too small to be worth waking the pool.
     */
    void chunks(int items, long workPerItem, RangeBody body) {
        long work = items * Math.max(1, workPerItem);
        long fine = Math.min(work / PART_WORK, items / MIN_PART_ITEMS);
        int parts = (int) Math.min(items, Math.min(Math.max(CHUNKS_PER_THREAD * threads, fine),
                Math.max(1, work / MIN_TASK_WORK)));
        if (parts <= 1 || threads == 1) {
            body.run(0, items);
            return;
        }
        WorkShare.run(pool, threads - 1, parts,
                p -> body.run((int) ((long) items * p / parts), (int) ((long) items * (p + 1) / parts)));
    }

    @FunctionalInterface
    interface RangeBody {
        void run(int from, int to);
    }

    @Override
    public void close() {
        synchronized (this) {
            if (lanes != null) {
                Arrays.stream(lanes).forEach(CpuBackend::close);
            }
        }
        if (pool instanceof SpinningHelpers spinning) {
            spinning.close();
        } else {
            ((ForkJoinPool) pool).shutdown();
        }
    }
}
