package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.opencl.Bindings;
import dev.clpool.opencl.ClDevice;
import dev.clpool.opencl.ClException;
import dev.clpool.opencl.OpenClBackend;
import dev.clpool.opencl.OpenClDevices;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.StorageCases;
import dev.clpool.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The pipelined copy path for host tensors (zero-copy off, so PoCL copies like a discrete GPU):
 * batches split into several chunks by a small allocation limit (counts that do not divide the
 * batch, N=1, every chunk in its own slot or slots reused) give the CPU path's results, max bit for
 * bit, for pool and global, float32 and 16-bit storage; the pipeline really ran (its markers were
 * enqueued); a write, kernel, read, marker, barrier or flush failing at a middle chunk surfaces as
 * a {@link ClException} (or a fallback under {@code auto}) and leaves no native object live after
 * close; and a soak loop returns to the same live-object count after every operation.
 */
class PipelineDeviceIT {
    private static final List<PoolSpec> SPECS = List.of(
            PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(),
            PoolSpec.max(2, 2).stride(2).build(),
            PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).build(),
            PoolSpec.avg(2, 3).stride(2, 1).padding(Padding.of(1)).countIncludePad(true).build());
    private static final PoolingEngine CPU = PoolingEngine.builder().backend(BackendChoice.CPU).build();
    private static int pipelinedCases;

    @AfterAll
    static void close() {
        CPU.close();
        System.out.println("pipeline: " + pipelinedCases + " cases ran pipelined");
    }

    /** A shape and the batch items one chunk may hold (so chunks = ceil(n / items)). */
    record Split(Shape shape, int items) {
        int chunks() {
            return (shape.n() + items - 1) / items;
        }

        @Override
        public String toString() {
            return shape + " in chunks of " + items;
        }
    }

    /**
     * Channel counts of two vector classes only (4 and 1: a kernel is specialised for C mod 16, and
     * each class is a kernel build per spec and type), while the byte sizes of rows and items, which
     * the chunking works with, differ from split to split.
     */
    static final List<Split> SPLITS = List.of(
            new Split(Shape.of(7, 13, 11, 20), 2),   // 2, 2, 2, 1: slots reused, a short last chunk
            new Split(Shape.of(5, 9, 17, 28), 3),    // 3, 2: two chunks, no reuse
            new Split(Shape.of(9, 6, 7, 3), 1),      // nine chunks of one item
            new Split(Shape.of(6, 40, 36, 12), 4),   // large planes: global in two passes
            new Split(Shape.of(1, 21, 19, 5), 1));   // N=1: one chunk, not pipelined

    static Stream<Arguments> cases() {
        return DeviceAvailability.bindings().stream().flatMap(b -> Stream.of(DType.FLOAT32, DType.FLOAT16, DType.BFLOAT16)
                .flatMap(t -> SPLITS.stream().map(s -> Arguments.of(b, t, s))));
    }

    private static ClDevice counted(BindingChoice binding, FaultInjectingBinding[] out) {
        DeviceAvailability.requireDevice(binding);
        ClDevice real = OpenClDevices.choose(Bindings.require(binding), -1);
        FaultInjectingBinding f = new FaultInjectingBinding(real.binding());
        out[0] = f;
        return new ClDevice(f, real.platform(), real.id(), real.info(), real.index());
    }

    private static OpenClBackend.Options limit(Tensor x, int items) {
        return OpenClBackend.Options.DEFAULT.withMaxAlloc(items * x.byteSize() / x.shape().n());
    }

    private static OpenClBackend.Tuning copying() {
        return OpenClBackend.Tuning.fromSystem().withZeroCopy(false);
    }

    private static Tensor input(Shape s, DType t, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor x = RandomCases.values(r, s, true);
        return t == DType.FLOAT32 ? x : StorageCases.input(x, t, r, true);
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void chunkedCopies_matchTheCpuPath(BindingChoice binding, DType t, Split split) {
        FaultInjectingBinding[] f = new FaultInjectingBinding[1];
        ClDevice device = counted(binding, f);
        Tensor x = input(split.shape(), t, split.hashCode());
        try (PoolingEngine engine = PoolingEngine.builder().backend(BackendChoice.OPENCL).device(device)
                .openClOptions(limit(x, split.items())).openClTuning(copying()).build()) {
            int ops = 0;
            for (PoolSpec spec : SPECS) {
                Tensor want = CPU.pool(x, spec);
                Tensor got = engine.pool(x, spec, Tensor.allocate(want.shape(), t));
                check(spec.mode(), got, want, x, spec, binding + " " + t + " " + split + " " + spec);
                ops++;
            }
            for (PoolMode mode : List.of(PoolMode.MAX, PoolMode.AVG)) {
                Tensor want = CPU.global(mode, x);
                Tensor got = engine.global(mode, x, Tensor.allocate(want.shape(), t));
                check(mode, got, want, x, null, binding + " " + t + " " + split + " global " + mode);
                ops++;
            }
            long markers = f[0].calls("marker");
            if (split.chunks() >= 2) {
                // per op: one marker on the compute queue first, then per chunk upload + compute, and a download
                // marker for each chunk whose output slot is reused
                int perOp = 1 + 2 * split.chunks() + Math.max(0, split.chunks() - 2);
                assertEquals((long) ops * perOp, markers, "the pipeline must have run every op in " + split.chunks() + " chunks");
                synchronized (PipelineDeviceIT.class) {
                    pipelinedCases++;
                }
            } else {
                assertEquals(0, markers, "one chunk: no pipeline");
            }
        }
        assertEquals(0, f[0].live(), "native objects live after close");
    }

    private static void check(PoolMode mode, Tensor got, Tensor want, Tensor x, PoolSpec spec, String what) {
        StorageCases.assertMatchesCpu(mode, got, want, x, spec, what);
    }

    /** A call failing at a middle chunk of a 4-chunk pipeline (chunk 2 of 0..3, unless said). */
    record MidFault(String call, int nth) {
        @Override
        public String toString() {
            return call + " #" + nth;
        }
    }

    static final List<MidFault> FAULTS = List.of(
            new MidFault("write", 3),          // the upload of chunk 2
            new MidFault("enqueueKernel", 3),  // chunk 2's kernel (pool: one launch per chunk)
            new MidFault("read", 2),           // the download of chunk 1, while chunk 2 is uploaded
            new MidFault("marker", 5),         // chunk 1's upload marker (1: compute, then 3 per chunk)
            new MidFault("waitFor", 6),        // chunk 2's upload waiting for chunk 0's kernel
            new MidFault("flush", 7),          // a marker's flush, mid chunk 2
            new MidFault("createBuffer", 3));  // the second slot's input buffer

    static Stream<Arguments> faults() {
        return DeviceAvailability.bindings().stream().flatMap(b -> FAULTS.stream().map(c -> Arguments.of(b, c)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("faults")
    void failureMidPipeline_surfaces_andReleasesEverything(BindingChoice binding, MidFault fault) {
        FaultInjectingBinding[] f = new FaultInjectingBinding[1];
        ClDevice device = counted(binding, f);
        f[0].failFrom(fault.call(), fault.nth(), -5 /* CL_OUT_OF_RESOURCES */);
        Shape s = Shape.of(8, 12, 10, 8);
        Tensor x = input(s, DType.FLOAT32, 41);
        PoolGeometry g = SPECS.get(0).geometry(s);
        OpenClBackend backend = OpenClBackend.open(device, limit(x, 2), copying());
        ClException thrown = assertThrows(ClException.class, () -> backend.pool(g, x, Tensor.allocate(g.output())),
                fault.toString());
        assertTrue(String.valueOf(thrown.getMessage()).contains("injected"), thrown.getMessage());
        assertTrue(f[0].calls(fault.call()) >= fault.nth(), fault + " was not reached");
        backend.close();
        assertEquals(0, backend.nativeObjects().live(), fault + ": " + backend.nativeObjects());
        assertEquals(0, f[0].live(), fault + ": native objects live after close");

        // Under auto the same failure falls back to the CPU path with the right result.
        FaultInjectingBinding[] f2 = new FaultInjectingBinding[1];
        ClDevice device2 = counted(binding, f2);
        f2[0].failFrom(fault.call(), fault.nth(), -5);
        try (PoolingEngine auto = PoolingEngine.builder().device(device2).smallOpsOnCpu(false)
                .openClOptions(limit(x, 2)).openClTuning(copying()).build()) {
            Tolerance.assertBitIdentical(auto.pool(x, SPECS.get(0)).toArray(), CPU.pool(x, SPECS.get(0)).toArray(),
                    "auto after " + fault);
            assertEquals("cpu", auto.backendKind(), fault + ": auto must have fallen back");
        }
        assertEquals(0, f2[0].live(), fault + ": native objects live after close (auto)");
    }

    private static void runAndCheck(OpenClBackend backend, Tensor x, boolean global, PoolSpec spec, PoolMode mode,
            String what) {
        Tensor want = global ? CPU.global(mode, x) : CPU.pool(x, spec);
        Tensor got = Tensor.allocate(want.shape(), x.dtype());
        if (global) {
            backend.global(mode, x, got);
        } else {
            backend.pool(spec.geometry(x.shape()), x, got);
        }
        check(mode, got, want, x, global ? null : spec, what + " " + x.shape() + " " + x.dtype() + " "
                + (global ? "global " + mode : spec));
    }

    static Stream<Arguments> bindings() {
        return DeviceAvailability.bindings().stream().map(Arguments::of);
    }

    /**
     * Many pipelined operations of varied shapes, types and chunk counts on one backend: after each
     * one (idle buffers released) exactly as many native objects are live as before it, so no
     * event or buffer outlives its operation; results stay right; close leaves nothing.
     */
    @ParameterizedTest
    @MethodSource("bindings")
    void soak_liveObjectsReturnToTheSameCount(BindingChoice binding) {
        FaultInjectingBinding[] f = new FaultInjectingBinding[1];
        ClDevice device = counted(binding, f);
        long millis = Long.getLong("clpool.pipeline.soak.millis", 2500);
        SplittableRandom r = new SplittableRandom(7);
        List<Tensor> inputs = new ArrayList<>();
        // The vector classes of SPLITS, whose kernels the cases above built (PoCL's cache has them).
        for (Shape s : List.of(Shape.of(6, 10, 9, 20), Shape.of(5, 7, 12, 3), Shape.of(11, 5, 5, 12))) {
            for (DType t : List.of(DType.FLOAT32, DType.FLOAT16)) {
                inputs.add(input(s, t, r.nextLong()));
            }
        }
        // One item per chunk at most for the largest item: every input runs in several chunks.
        long maxItem = inputs.stream().mapToLong(x -> x.byteSize() / x.shape().n()).max().orElseThrow();
        OpenClBackend backend = OpenClBackend.open(device, OpenClBackend.Options.DEFAULT.withMaxAlloc(2 * maxItem), copying());
        try {
            // Warm-up: every program built once (the cache holds them all), so the count is flat after.
            for (Tensor x : inputs) {
                for (PoolSpec spec : SPECS) {
                    runAndCheck(backend, x, false, spec, spec.mode(), "warm-up");
                }
                runAndCheck(backend, x, true, null, PoolMode.MAX, "warm-up");
                runAndCheck(backend, x, true, null, PoolMode.AVG, "warm-up");
            }
            backend.releaseIdleBuffers();
            long baseline = backend.nativeObjects().live();
            int ops = 0;
            long deadline = System.nanoTime() + millis * 1_000_000L;
            while (ops < 100 || System.nanoTime() < deadline) {
                Tensor x = inputs.get(r.nextInt(inputs.size()));
                boolean global = r.nextInt(3) == 0;
                PoolSpec spec = SPECS.get(r.nextInt(SPECS.size()));
                PoolMode mode = global ? (r.nextBoolean() ? PoolMode.MAX : PoolMode.AVG) : spec.mode();
                runAndCheck(backend, x, global, spec, mode, "soak op " + ops);
                backend.releaseIdleBuffers();
                long live = backend.nativeObjects().live();
                assertEquals(live, f[0].live(), "the backend's count and the binding's agree");
                assertEquals(baseline, live, "live native objects after op " + ops);
                ops++;
            }
            assertTrue(f[0].calls("marker") > ops, "the operations ran pipelined");
            System.out.println("pipeline soak (" + binding + "): " + ops + " ops, " + f[0].calls("marker")
                    + " markers, " + baseline + " native objects live throughout");
        } finally {
            backend.close();
        }
        assertEquals(0, backend.nativeObjects().live(), backend.nativeObjects().toString());
        assertEquals(0, f[0].live());
    }
}
