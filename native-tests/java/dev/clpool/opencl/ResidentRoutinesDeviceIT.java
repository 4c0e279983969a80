package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.BackendChoice;
import dev.clpool.BindingChoice;
import dev.clpool.DType;
import dev.clpool.DeviceAvailability;
import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.backend.ResidentTensor;
import dev.clpool.cpu.CpuBackend;
import dev.clpool.testing.NaiveReference;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.Tolerance;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The routines of max with indices, backward and adaptive pooling on the device, through every
 * binding: their device-tensor forms give the host forms' bits (zero-copy and copying host paths
 * both), the host forms give the CPU path's results (max and indices bit for bit), the host forms
 * run pipelined on a device that copies when the batch makes several chunks, and no native object
 * outlives the backend.
 */
class ResidentRoutinesDeviceIT {
    private static final List<PoolSpec> SPECS = List.of(
            PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(),
            PoolSpec.avg(3, 3).stride(2).padding(Padding.of(1)).build(),
            PoolSpec.max(2, 3).stride(1, 2).dilation(2, 1).build(),
            PoolSpec.avg(2, 2).stride(1).padding(Padding.of(0, 1, 1, 0)).countIncludePad(true).build());
    /** Channels 24 (vectors of 8), 6 (of 2) and 5 (of 1); widths that do not fill a work group. */
    private static final List<Shape> SHAPES = List.of(Shape.of(3, 11, 13, 24), Shape.of(2, 9, 7, 6), Shape.of(1, 5, 17, 5));

    static Stream<Arguments> bindingsAndCopies() {
        return DeviceAvailability.bindings().stream().flatMap(b -> Stream.of(Arguments.of(b, true), Arguments.of(b, false)));
    }

    static Iterable<BindingChoice> bindings() {
        return DeviceAvailability.bindings();
    }

    private static OpenClBackend open(BindingChoice binding, OpenClBackend.Options options, boolean zeroCopy) {
        DeviceAvailability.requireDevice(binding);
        return OpenClBackend.open(binding, -1, options, OpenClBackend.Tuning.fromSystem().withZeroCopy(zeroCopy));
    }

    /** Every long in {@code b} (from 0: a download leaves the position at the end). */
    private static long[] longs(ByteBuffer b) {
        long[] out = new long[b.capacity() / Long.BYTES];
        b.duplicate().clear().order(ByteOrder.nativeOrder()).asLongBuffer().get(out);
        return out;
    }

    private static float[] download(ResidentTensor t) {
        Tensor host = Tensor.allocate(t.shape());
        t.download(host);
        return host.toArray();
    }

    /** Max bit for bit; averages and gradients (summed in another order) within the tolerance. */
    private static void assertMatchesCpu(boolean exact, Tensor got, Tensor want, String what) {
        if (exact) {
            Tolerance.assertBitIdentical(got.toArray(), want.toArray(), what);
        } else {
            Tolerance.assertClose(got.toArray(), want.toArray(), 4 * Tolerance.REL, what);
        }
    }

    @ParameterizedTest(name = "{0} zeroCopy={1}")
    @MethodSource("bindingsAndCopies")
    void residentForms_giveTheHostFormsBits(BindingChoice binding, boolean zeroCopy) {
        OpenClBackend device = open(binding, OpenClBackend.Options.DEFAULT, zeroCopy);
        try (CpuBackend cpu = new CpuBackend(1)) {
            SplittableRandom r = new SplittableRandom(20261206L);
            for (Shape s : SHAPES) {
                Tensor x = RandomCases.values(r, s, true);
                try (ResidentTensor dx = device.upload(x)) {
                    for (PoolSpec spec : SPECS) {
                        PoolGeometry g = spec.geometry(s);
                        String what = binding + " zeroCopy=" + zeroCopy + " " + spec + " on " + s;
                        Tensor dy = RandomCases.values(r, g.output(), false);
                        if (spec.mode() == PoolMode.MAX) {
                            for (IndexConvention conv : IndexConvention.values()) {
                                indices(device, cpu, g, x, dx, conv, what + " " + conv);
                            }
                        }
                        backward(device, cpu, g, x, dx, dy, what + " backward");
                    }
                    for (PoolMode mode : List.of(PoolMode.AVG, PoolMode.MAX)) {
                        for (int[] o : new int[][] {{3, 4}, {1, 1}, {s.h() + 2, s.w() - 1}}) {
                            AdaptiveGeometry g = AdaptiveGeometry.of(mode, s, o[0], o[1]);
                            String what = binding + " zeroCopy=" + zeroCopy + " adaptive " + mode + " " + s + " -> " + o[0] + "x" + o[1];
                            Tensor host = Tensor.allocate(g.output());
                            device.adaptive(g, x, host);
                            Tensor want = Tensor.allocate(g.output());
                            cpu.adaptive(g, x, want);
                            assertMatchesCpu(mode == PoolMode.MAX, host, want, what);
                            try (ResidentTensor out = device.allocate(g.output())) {
                                device.adaptive(g, dx, out);
                                Tolerance.assertBitIdentical(download(out), host.toArray(), what + " (device tensors)");
                            }
                        }
                    }
                }
            }
        } finally {
            device.close();
        }
        assertEquals(0, device.nativeObjects().live(), device.nativeObjects().toString());
    }

    /**
     * Large max windows take the separable passes ({@link SeparablePool}), bit for bit with the CPU
     * path on inputs of signed zeros (the first of equal maxima) and of NaNs with distinct
     * payloads (the first NaN); the device-tensor form gives the host form's bits; no native
     * object outlives the backend. Two specs cover stride 1 and 2, asymmetric windows and
     * padding, ceil mode, float16 storage (the first spec) and a window taller than the passes
     * keep in private memory (35 rows). Each spec and storage type builds two programs, so there
     * are few, on one binding (both run the same kernels).
     */
    @Test
    void largeWindows_takeTheSeparablePasses_likeTheCpuPath() {
        BindingChoice binding = DeviceAvailability.bindings().get(0);
        OpenClBackend device = open(binding, OpenClBackend.Options.DEFAULT, true);
        List<PoolSpec> specs = List.of(
                PoolSpec.max(13, 5).stride(1).padding(Padding.of(6, 5, 2, 1)).build(),
                PoolSpec.max(35, 9).stride(1, 2).padding(Padding.of(17, 0, 4, 1)).ceilMode(true).build());
        Shape s = Shape.of(2, 37, 17, 16);
        SplittableRandom r = new SplittableRandom(20261206L);
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            for (Tensor x : List.of(signedZeros(r, s), sparseNaNs(r, s), signedZeros(r, s).convert(DType.FLOAT16))) {
                boolean half = x.dtype() == DType.FLOAT16;
                for (PoolSpec spec : half ? specs.subList(0, 1) : specs.subList(1, 2)) {
                    PoolGeometry g = spec.geometry(s);
                    String what = binding + " " + spec + " on " + s + " " + x.dtype();
                    assertTrue(SeparablePool.pays(g), what + ": the cost model should choose the passes");
                    Tensor host = Tensor.allocate(g.output(), x.dtype());
                    device.pool(g, x, host);
                    Tolerance.assertBitIdentical(host.toArray(), cpu.pool(x, spec).toArray(), what);
                    residentGivesHostBits(device, g, x, host, what);
                }
            }
        } finally {
            device.close();
        }
        assertEquals(0, device.nativeObjects().live(), device.nativeObjects().toString());
    }

    /**
     * Large average windows, within the tolerance of the float64 reference in both layouts: on
     * CPU devices (the channel loop) the sliding sums ({@link SlidingPool}), on one and two
     * columns of tiles, bands of 1 and 3 output rows, stride 2 down, ceil mode and
     * count_include_pad; in the channel lanes (GPUs') the separable passes with float rows.
     * Uniform data takes the sliding sums' certificate; NaNs, sparse values of 2^100
     * (whose subtraction loses every smaller term) and rows of 2^20 whose every 7 rows cancel fail
     * it (and the passes' float-row certificate), so those tiles are summed again with additions
     * only. Builds one program for the sliding sums and two for the passes, on one binding.
     */
    @Test
    void largeAverages_slideOnCpuDevices_andTakeThePassesInLanes() {
        BindingChoice binding = DeviceAvailability.bindings().get(0);
        OpenClBackend loop = open(binding, OpenClBackend.Options.DEFAULT, true);
        OpenClBackend lanes = OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT,
                OpenClBackend.Tuning.fromSystem().withLayout(OpenClBackend.Layout.CHANNEL_LANES));
        PoolSpec spec = PoolSpec.avg(7, 11).stride(2, 1).padding(Padding.of(3, 1, 5, 2)).ceilMode(true).countIncludePad(true).build();
        SplittableRandom r = new SplittableRandom(20261208L);
        try {
            for (Shape s : List.of(Shape.of(2, 37, 17, 16), Shape.of(1, 37, 70, 16), Shape.of(4, 37, 19, 32))) {
                PoolGeometry g = spec.geometry(s);
                assertTrue(SeparablePool.pays(g) && SlidingPool.pays(g), spec + ": the cost models should choose both");
                for (Tensor x : List.of(uniform(r, s), sparseNaNs(r, s), sparseHuge(r, s), cancelling(r, s))) {
                    for (OpenClBackend device : s.w() == 17 ? List.of(loop, lanes) : List.of(loop)) {
                        String what = binding + " " + (device == loop ? "loop " : "lanes ") + spec + " on " + s;
                        Tensor host = Tensor.allocate(g.output());
                        device.pool(g, x, host);
                        Tolerance.assertClose(host.toArray(), NaiveReference.pool(x.toArray(), s, spec), what);
                        if (s.w() == 17) {
                            residentGivesHostBits(device, g, x, host, what);
                        }
                    }
                }
            }
        } finally {
            loop.close();
            lanes.close();
        }
        assertEquals(0, loop.nativeObjects().live(), loop.nativeObjects().toString());
        assertEquals(0, lanes.nativeObjects().live(), lanes.nativeObjects().toString());
    }

    /** The device-tensor form of {@code g} on {@code x} against the host form's result (float32 only). */
    private static void residentGivesHostBits(OpenClBackend device, PoolGeometry g, Tensor x, Tensor host, String what) {
        if (x.dtype() != DType.FLOAT32) {
            return;
        }
        try (ResidentTensor dx = device.upload(x); ResidentTensor out = device.allocate(g.output())) {
            device.pool(g, dx, out);
            Tolerance.assertBitIdentical(download(out), host.toArray(), what + " (device tensors)");
        }
    }

    /** Uniform in [-4, 4), the bench's data. */
    private static Tensor uniform(SplittableRandom r, Shape s) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 8 - 4);
        }
        return Tensor.of(s, v);
    }

    /**
     * Uniform in [-4, 4) with one element in 300 set to 2^100 (one sign, so that the reference's
     * own sums lose nothing that matters): adding one then subtracting it loses the rest.
     */
    private static Tensor sparseHuge(SplittableRandom r, Shape s) {
        float[] v = uniform(r, s).toArray();
        for (int i = 0; i < v.length; i++) {
            if (r.nextInt(300) == 0) {
                v[i] = 0x1p100f;
            }
        }
        return Tensor.of(s, v);
    }

    /** Mostly +0.0 and -0.0, some negatives: most maxima are zeros whose sign only the tap order decides. */
    private static Tensor signedZeros(SplittableRandom r, Shape s) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            int k = r.nextInt(20);
            v[i] = k < 9 ? 0.0f : k < 18 ? -0.0f : k == 18 ? -1 - r.nextInt(8) : Float.NEGATIVE_INFINITY;
        }
        return Tensor.of(s, v);
    }

    /** Random values with a few NaNs of distinct payloads and signs: the first NaN of a window must win. */
    private static Tensor sparseNaNs(SplittableRandom r, Shape s) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            int k = r.nextInt(400);
            v[i] = k == 0 ? Float.intBitsToFloat((r.nextBoolean() ? 0xffc00000 : 0x7fc00000) | (1 + r.nextInt(1 << 9)))
                    : k == 1 ? (r.nextBoolean() ? 0.0f : -0.0f) : (r.nextInt(2048) - 1024) / 128f;
        }
        return Tensor.of(s, v);
    }

    /**
     * Row y holds 2^20·P[y mod 7] plus a value in [0, 1), P summing to zero: a 7-row window sums
     * to its small parts, far below the rounding of its float row sums (about 2^20·33·2^-24 each).
     */
    private static Tensor cancelling(SplittableRandom r, Shape s) {
        int[] period = {3, -1, -1, -1, -1, -1, 2};
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            int y = i / (s.w() * s.c()) % s.h();
            v[i] = period[y % period.length] * 0x1p20f + r.nextFloat();
        }
        return Tensor.of(s, v);
    }

    /** The host form against the CPU path, then (unless {@code dx} is null) the device-tensor form against the host form. */
    private static void indices(OpenClBackend device, CpuBackend cpu, PoolGeometry g, Tensor x, ResidentTensor dx,
                                IndexConvention conv, String what) {
        Tensor host = Tensor.allocate(g.output());
        Indices hostIdx = Indices.allocate(g.output(), conv);
        device.maxWithIndices(g, x, host, hostIdx);
        Tensor want = Tensor.allocate(g.output());
        Indices wantIdx = Indices.allocate(g.output(), conv);
        cpu.maxWithIndices(g, x, want, wantIdx);
        Tolerance.assertBitIdentical(host.toArray(), want.toArray(), what);
        assertArrayEquals(wantIdx.toArray(), hostIdx.toArray(), what + ": indices");
        if (dx == null) {
            return;
        }
        try (ResidentTensor out = device.allocate(g.output());
             ResidentTensor idx = device.allocateIndices(g.output(), conv)) {
            assertEquals(Long.BYTES, idx.elementBytes());
            device.maxWithIndices(g, dx, out, idx);
            ByteBuffer got = ByteBuffer.allocateDirect(Math.toIntExact(g.output().elementCount() * Long.BYTES));
            idx.download(got);
            Tolerance.assertBitIdentical(download(out), host.toArray(), what + " (device tensors)");
            assertArrayEquals(hostIdx.toArray(), longs(got), what + " (device tensors): indices");
            // Indices are not values: neither may stand in for the other.
            assertThrows(IllegalArgumentException.class, () -> device.maxWithIndices(g, dx, idx, out));
        }
    }

    private static void backward(OpenClBackend device, CpuBackend cpu, PoolGeometry g, Tensor x, ResidentTensor dx,
                                 Tensor dy, String what) {
        Tensor host = Tensor.allocate(g.input());
        device.backward(g, x, dy, host);
        Tensor want = Tensor.allocate(g.input());
        cpu.backward(g, x, dy, want);
        assertMatchesCpu(false, host, want, what);
        try (ResidentTensor ddy = device.upload(dy); ResidentTensor grad = device.allocate(g.input())) {
            device.backward(g, dx, ddy, grad);
            Tolerance.assertBitIdentical(download(grad), host.toArray(), what + " (device tensors)");
        }
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void hostForms_runPipelinedOnADeviceThatCopies(BindingChoice binding) {
        Shape s = Shape.of(7, 13, 11, 24);
        long itemBytes = s.itemSize() * Float.BYTES;
        // Two items per chunk for the largest buffer of each operation (the input, or its gradient).
        OpenClBackend device = open(binding, OpenClBackend.Options.DEFAULT.withMaxAlloc(2 * itemBytes), false);
        try (CpuBackend cpu = new CpuBackend(1)) {
            SplittableRandom r = new SplittableRandom(20261207L);
            Tensor x = RandomCases.values(r, s, true);
            long ops = 0;
            for (PoolSpec spec : SPECS.subList(0, 2)) {
                PoolGeometry g = spec.geometry(s);
                String what = binding + " " + spec;
                if (spec.mode() == PoolMode.MAX) {
                    indices(device, cpu, g, x, null, IndexConvention.ONNX, what + " indices");
                    ops++;
                }
                Tensor dy = RandomCases.values(r, g.output(), false);
                Tensor got = Tensor.allocate(g.input());
                device.backward(g, x, dy, got);
                Tensor want = Tensor.allocate(g.input());
                cpu.backward(g, x, dy, want);
                assertMatchesCpu(false, got, want, what + " backward");
                ops++;
            }
            for (PoolMode mode : List.of(PoolMode.AVG, PoolMode.MAX)) {
                AdaptiveGeometry g = AdaptiveGeometry.of(mode, s, 5, 4);
                Tensor got = Tensor.allocate(g.output());
                device.adaptive(g, x, got);
                Tensor want = Tensor.allocate(g.output());
                cpu.adaptive(g, x, want);
                assertMatchesCpu(mode == PoolMode.MAX, got, want, binding + " adaptive " + mode);
                ops++;
            }
            // 7 items in chunks of 2: 4 chunks per operation.
            assertArrayEquals(new long[] {ops, 4 * ops}, device.pipelineCounts(), binding.toString());
        } finally {
            device.close();
        }
        assertEquals(0, device.nativeObjects().live(), device.nativeObjects().toString());
    }
}
