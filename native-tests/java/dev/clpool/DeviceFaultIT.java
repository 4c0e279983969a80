package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.clpool.DeviceUnavailableException.Reason;
import dev.clpool.opencl.Bindings;
import dev.clpool.opencl.ClDevice;
import dev.clpool.opencl.ClException;
import dev.clpool.opencl.OpenClBackend;
import dev.clpool.opencl.OpenClDevices;
import dev.clpool.testing.MixedOps.Op;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each OpenCL call clpool makes fails in turn (out of resources, allocation failure, build
 * failure, a lost device's unnamed error code), on every binding, during a script of pooling
 * (max, avg, lp, global), adaptive pooling, max with indices and backward: under {@code auto} every
 * operation still completes, on the CPU path, with the reason in {@link PoolingEngine#fallbackReason()};
 * under {@code opencl} a typed {@link DeviceUnavailableException}; the backend itself throws a
 * {@link ClException}. In every case every native object created so far is released: the binding's
 * own count and {@link OpenClBackend#nativeObjects()} are zero after close.
 */
class DeviceFaultIT {

    /** A fault: {@code call} fails with {@code code} from its {@code nth} invocation on. */
    record Fault(String call, int nth, int code) { }

    record FaultCase(String label, boolean atConstruction, List<Fault> faults) {
        @Override
        public String toString() {
            return label;
        }
    }

    private static final int CL_OUT_OF_RESOURCES = -5;
    private static final int CL_OUT_OF_HOST_MEMORY = -6;
    private static final int CL_MEM_OBJECT_ALLOCATION_FAILURE = -4;
    private static final int CL_BUILD_PROGRAM_FAILURE = -11;
    private static final int DEVICE_LOST = -9999; // an unnamed driver code, as NVIDIA returns for a lost device

    static final List<FaultCase> CASES = List.of(
            new FaultCase("createContext", true, List.of(new Fault("createContext", 1, CL_OUT_OF_HOST_MEMORY))),
            new FaultCase("createQueue", true, List.of(new Fault("createQueue", 1, CL_OUT_OF_HOST_MEMORY))),
            // the second buffer of the first operation: the first one must be released
            new FaultCase("createBuffer", false, List.of(new Fault("createBuffer", 2, CL_MEM_OBJECT_ALLOCATION_FAILURE))),
            new FaultCase("buildProgram", false, List.of(new Fault("buildProgram", 1, CL_BUILD_PROGRAM_FAILURE))),
            // the second kernel: the first operation's program and kernel are cached by then
            new FaultCase("createKernel", false, List.of(new Fault("createKernel", 2, CL_OUT_OF_RESOURCES))),
            new FaultCase("enqueueKernel", false, List.of(new Fault("enqueueKernel", 1, CL_OUT_OF_RESOURCES))),
            new FaultCase("write", false, List.of(new Fault("write", 1, CL_OUT_OF_RESOURCES))),
            new FaultCase("read", false, List.of(new Fault("read", 1, CL_OUT_OF_RESOURCES))),
            // zero-copy host tensors (host-unified devices such as PoCL) synchronise with a map, not a read
            new FaultCase("map", false, List.of(new Fault("map", 1, CL_OUT_OF_RESOURCES))),
            // a device lost mid-run: two operations succeed, then every launch and read fails
            new FaultCase("device lost", false, List.of(new Fault("enqueueKernel", 4, DEVICE_LOST), new Fault("read", 3, DEVICE_LOST),
                    new Fault("map", 3, DEVICE_LOST))));

    private static final AtomicInteger RUNS = new AtomicInteger();
    private static final AtomicInteger LEAKED = new AtomicInteger();
    private static final java.util.Set<String> BINDINGS_RUN = new TreeSet<>();
    private static final java.util.Set<String> NOT_REACHED = new TreeSet<>();

    static Stream<Arguments> cases() {
        return DeviceAvailability.bindings().stream().flatMap(b -> CASES.stream().map(c -> Arguments.of(b, c)));
    }

    @AfterAll
    static void summary() {
        System.out.println("device faults: " + CASES.size() + " calls x 2 modes (auto, opencl) + the backend itself, on "
                + BINDINGS_RUN + ": " + RUNS + " runs, " + LEAKED + " leaked"
                + (NOT_REACHED.isEmpty() ? "" : "; never called by the current operations, so not exercised: " + NOT_REACHED));
    }

    /** The operations each run performs: max, avg and lp pooling, global avg and max. */
    private static List<Op> script() {
        SplittableRandom r = new SplittableRandom(11);
        Tensor x = RandomCases.values(r, Shape.of(2, 7, 7, 3), true);
        Tensor y = RandomCases.values(r, Shape.of(1, 9, 5, 8), false);
        List<Op> ops = new ArrayList<>();
        ops.add(new Op("max 3x3 s2 p1", x, PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(), null));
        ops.add(new Op("global avg", y, null, PoolMode.AVG));
        ops.add(new Op("avg 2x2 include-pad", y, PoolSpec.avg(2, 2).stride(1).padding(Padding.of(1)).countIncludePad(true).build(), null));
        ops.add(new Op("lp p=3 2x2", x, PoolSpec.builder(PoolMode.LP).window(2).p(3).build(), null));
        ops.add(new Op("global max", x, null, PoolMode.MAX));
        return ops;
    }

    /** One engine-level operation: its name, whether it compares exactly, and how it runs. */
    record Step(String name, boolean exact, Function<PoolingEngine, float[]> run) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** The script through the engine, plus adaptive pooling, max with indices and backward. */
    private static List<Step> steps() {
        List<Step> steps = new ArrayList<>();
        for (Op op : script()) {
            boolean max = op.spec() != null ? op.spec().mode() == PoolMode.MAX : op.globalMode() == PoolMode.MAX;
            steps.add(new Step(op.name(), max, e -> op.run(e).toArray()));
        }
        SplittableRandom r = new SplittableRandom(12);
        Tensor x = RandomCases.values(r, Shape.of(2, 6, 7, 4), true);
        PoolSpec max = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
        PoolSpec avg = PoolSpec.avg(2, 2).stride(1).build();
        Tensor dyMax = RandomCases.values(r, max.outputShape(x.shape()), false);
        Tensor dyAvg = RandomCases.values(r, avg.outputShape(x.shape()), false);
        steps.add(new Step("adaptive avg 3x4", false, e -> e.adaptiveAvg(x, 3, 4).toArray()));
        steps.add(new Step("max with indices", true, e -> {
            PooledWithIndices p = e.poolWithIndices(x, max);
            float[] v = p.values().toArray();
            long[] idx = new long[Math.toIntExact(p.indices().shape().elementCount())];
            p.indices().longs().get(idx);
            float[] both = java.util.Arrays.copyOf(v, v.length + idx.length);
            for (int i = 0; i < idx.length; i++) {
                both[v.length + i] = idx[i]; // small indices: exact in a float
            }
            return both;
        }));
        steps.add(new Step("backward max", false, e -> e.backward(x, dyMax, max).toArray()));
        steps.add(new Step("backward avg", false, e -> e.backward(x, dyAvg, avg).toArray()));
        return steps;
    }

    private static FaultInjectingBinding faulty(ClDevice real, FaultCase c) {
        FaultInjectingBinding f = new FaultInjectingBinding(real.binding());
        for (Fault fault : c.faults()) {
            f.failFrom(fault.call(), fault.nth(), fault.code());
        }
        return f;
    }

    private static boolean reached(FaultInjectingBinding f, FaultCase c) {
        return c.faults().stream().anyMatch(x -> f.calls(x.call()) >= x.nth());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void failingCall_autoFallsBackToCpu_releasingEverything(BindingChoice binding, FaultCase c) {
        DeviceAvailability.requireDevice(binding);
        ClDevice real = OpenClDevices.choose(Bindings.require(binding), -1);
        FaultInjectingBinding f = faulty(real, c);
        ClDevice device = new ClDevice(f, real.platform(), real.id(), real.info(), real.index());
        List<Step> ops = steps();
        List<float[]> want = cpuResults(ops);

        try (PoolingEngine auto = PoolingEngine.builder().device(device).build()) {
            if (c.atConstruction()) {
                assertEquals("cpu", auto.backendKind(), c + ": a device that cannot be opened leaves the CPU path");
                assertTrue(auto.fallbackReason().orElseThrow().contains("injected"), auto.fallbackReason().get());
            }
            for (int i = 0; i < ops.size(); i++) {
                assertSame(ops.get(i), want.get(i), ops.get(i).run().apply(auto), c + " auto");
            }
            if (reached(f, c)) {
                assertEquals("cpu", auto.backendKind(), c + ": after the fault the engine runs on the CPU path");
                String why = auto.fallbackReason().orElseThrow(() -> new AssertionError(c + ": no fallback reason"));
                assertTrue(why.contains("injected") || why.contains("kernel build failed"), c + ": reason " + why);
            } else {
                assertEquals("opencl", auto.backendKind(), c + ": never called, so nothing failed");
                synchronized (NOT_REACHED) {
                    NOT_REACHED.add(c.label());
                }
            }
        }
        assertNothingLive(f, c + " auto");
        synchronized (BINDINGS_RUN) {
            BINDINGS_RUN.add(binding.name().toLowerCase());
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void failingCall_openclThrowsTyped_releasingEverything(BindingChoice binding, FaultCase c) {
        DeviceAvailability.requireDevice(binding);
        ClDevice real = OpenClDevices.choose(Bindings.require(binding), -1);
        FaultInjectingBinding f = faulty(real, c);
        ClDevice device = new ClDevice(f, real.platform(), real.id(), real.info(), real.index());
        List<Step> ops = steps();
        List<float[]> want = cpuResults(ops);

        if (c.atConstruction()) {
            DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class,
                    () -> PoolingEngine.builder().backend(BackendChoice.OPENCL).device(device).build(), c.toString());
            assertEquals(Reason.DEVICE_ERROR, e.reason(), e.getMessage());
            assertTrue(e.getMessage().contains("injected"), e.getMessage());
        } else {
            try (PoolingEngine opencl = PoolingEngine.builder().backend(BackendChoice.OPENCL).device(device).build()) {
                DeviceUnavailableException thrown = null;
                for (int i = 0; i < ops.size() && thrown == null; i++) {
                    try {
                        assertSame(ops.get(i), want.get(i), ops.get(i).run().apply(opencl), c + " opencl");
                    } catch (DeviceUnavailableException e) {
                        thrown = e;
                    }
                }
                if (reached(f, c)) {
                    assertTrue(thrown != null, c + ": the fault must surface as DeviceUnavailableException");
                    Reason want0 = c.label().equals("buildProgram") ? Reason.BUILD_FAILED : Reason.DEVICE_ERROR;
                    assertEquals(want0, thrown.reason(), thrown.getMessage());
                    assertEquals("opencl", opencl.backendKind(), "opencl never falls back");
                } else {
                    assertTrue(thrown == null, c + ": never called, yet " + thrown);
                }
            }
        }
        assertNothingLive(f, c + " opencl");
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void failingCall_backendThrowsClException_andReleasesOnClose(BindingChoice binding, FaultCase c) {
        DeviceAvailability.requireDevice(binding);
        ClDevice real = OpenClDevices.choose(Bindings.require(binding), -1);
        FaultInjectingBinding f = faulty(real, c);
        ClDevice device = new ClDevice(f, real.platform(), real.id(), real.info(), real.index());
        if (c.atConstruction()) {
            assertThrows(ClException.class, () -> OpenClBackend.open(device, OpenClBackend.Options.DEFAULT), c.toString());
            assertNothingLive(f, c + " backend");
            return;
        }
        OpenClBackend backend = OpenClBackend.open(device, OpenClBackend.Options.DEFAULT);
        ClException thrown = null;
        for (Op op : script()) {
            Tensor out = Tensor.allocate(op.spec() != null ? op.spec().outputShape(op.input().shape())
                    : Shape.of(op.input().shape().n(), 1, 1, op.input().shape().c()));
            try {
                if (op.spec() != null) {
                    backend.pool(op.spec().geometry(op.input().shape()), op.input(), out);
                } else {
                    backend.global(op.globalMode(), op.input(), out);
                }
            } catch (ClException e) {
                thrown = e;
                break;
            }
        }
        assertEquals(reached(f, c), thrown != null, c + ": " + thrown);
        backend.close();
        assertEquals(0, backend.nativeObjects().live(), c + ": backend count " + backend.nativeObjects());
        assertNothingLive(f, c + " backend");
    }

    private static void assertNothingLive(FaultInjectingBinding f, String what) {
        RUNS.incrementAndGet();
        if (f.live() != 0) {
            LEAKED.incrementAndGet();
            fail(what + ": " + f.live() + " native objects still live after close");
        }
    }

    private static List<float[]> cpuResults(List<Step> steps) {
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            List<float[]> out = new ArrayList<>();
            for (Step step : steps) {
                out.add(step.run().apply(cpu));
            }
            return out;
        }
    }

    /** Max (and indices) bit-identical, the rest within tolerance: the result may come from the device or the CPU. */
    private static void assertSame(Step step, float[] want, float[] got, String what) {
        if (step.exact()) {
            Tolerance.assertBitIdentical(got, want, what + " " + step);
        } else {
            double[] w = new double[want.length];
            for (int i = 0; i < w.length; i++) {
                w[i] = want[i];
            }
            Tolerance.assertClose(got, w, 2 * Tolerance.REL, what + " " + step);
        }
    }
}
