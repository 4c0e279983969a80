package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.BackendChoice;
import dev.clpool.BindingChoice;
import dev.clpool.DType;
import dev.clpool.DeviceAvailability;
import dev.clpool.IndexConvention;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.cpu.CpuBackend;
import dev.clpool.testing.IndexCases;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.StorageCases;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Batch items larger than the device's largest allocation (lowered by {@code withMaxAlloc}) pooled
 * in 2, 3 and many row bands ({@link RowBands}): the results equal the CPU path's on the whole
 * tensor (max bit for bit, avg and LP within SEMANTICS.md's tolerance; float32, float16, bfloat16;
 * padding, same, ceil mode, dilation, count_include_pad; zero-copy and copying), max with indices
 * gives the item's indices in every convention, the backend really ran the bands it should, and no
 * buffer outlives an operation.
 */
class RowBandsDeviceIT {
    /** Bands wanted: as many as one output row per band gives (at least 5 here). */
    private static final int MANY = 0;
    private static final PoolingEngine CPU = PoolingEngine.builder().backend(BackendChoice.CPU).build();

    @AfterAll
    static void close() {
        CPU.close();
    }

    record Case(PoolSpec spec, Shape shape, DType dtype, boolean copying) {
        @Override
        public String toString() {
            return spec + " on " + shape + " " + dtype + (copying ? " copying" : "");
        }
    }

    static final List<Case> CASES = List.of(
            new Case(PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(), Shape.of(2, 29, 7, 8), DType.FLOAT32, false),
            new Case(PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(), Shape.of(2, 29, 7, 8), DType.BFLOAT16, true),
            new Case(PoolSpec.max(2, 2).stride(1).dilation(3).padding(Padding.SAME).build(), Shape.of(1, 23, 6, 4),
                    DType.FLOAT16, false),
            // ceil mode adds a 10th window at row 17 that reaches past the bottom padding
            new Case(PoolSpec.avg(3, 3).stride(2).padding(Padding.of(1)).countIncludePad(true).ceilMode(true).build(),
                    Shape.of(2, 18, 9, 3), DType.FLOAT32, true),
            new Case(PoolSpec.avg(2, 3).stride(2).padding(Padding.of(0, 0, 1, 0)).ceilMode(true).build(),
                    Shape.of(1, 21, 8, 5), DType.FLOAT16, false),
            new Case(PoolSpec.builder(PoolMode.LP).window(3, 2).stride(1).dilation(2, 1).padding(Padding.of(2, 1, 0, 1))
                    .p(3).build(), Shape.of(2, 15, 5, 2), DType.FLOAT32, false));

    static Stream<Arguments> cases() {
        return DeviceAvailability.bindings().stream().flatMap(b -> CASES.stream().map(c -> Arguments.of(b, c)));
    }

    static Iterable<BindingChoice> bindings() {
        return DeviceAvailability.bindings();
    }

    private static Tensor input(Shape s, DType t, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor x = RandomCases.values(r, s, true);
        return t == DType.FLOAT32 ? x : StorageCases.input(x, t, r, true);
    }

    private static OpenClBackend open(BindingChoice binding, long maxAlloc, boolean copying) {
        return OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT.withMaxAlloc(maxAlloc),
                OpenClBackend.Tuning.fromSystem().withZeroCopy(!copying));
    }

    /** The bands of one item of {@code g} under {@code maxAlloc}: as large as fit, input and output. */
    private static int bands(PoolGeometry g, long maxAlloc, int inBytes, int outBytes) {
        long inRow = (long) g.input().w() * g.input().c() * inBytes;
        long outRow = (long) g.output().w() * g.output().c() * outBytes;
        return RowBands.split(g, maxAlloc / inRow, maxAlloc / outRow).size();
    }

    /** The largest allocation limit that splits one item of {@code g} into {@code want} bands ({@link #MANY}: the smallest limit). */
    private static long maxAllocFor(PoolGeometry g, int inBytes, int outBytes, int want) {
        long inRow = (long) g.input().w() * g.input().c() * inBytes;
        long outRow = (long) g.output().w() * g.output().c() * outBytes;
        int least = RowBands.inputRowsOfOneOutputRow(g.rows());
        if (want == MANY) {
            return Math.max(least * inRow, outRow);
        }
        for (long rows = g.input().h() - 1; rows >= least; rows--) {
            long alloc = Math.max(rows * inRow, outRow);
            if (bands(g, alloc, inBytes, outBytes) == want) {
                return alloc;
            }
        }
        throw new IllegalStateException("no allocation limit gives " + want + " bands for " + g.spec() + " on " + g.input());
    }

    /** After an operation: only the context, the queue and the cached programs with their one kernel each. */
    private static void assertOnlyProgramsLive(OpenClBackend backend, String what) {
        backend.releaseIdleBuffers();
        assertEquals(2 + 2 * backend.cachedPrograms(), backend.nativeObjects().live(), what + ": " + backend.nativeObjects());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void itemLargerThanAnAllocation_isPooledInRowBands_likeTheCpuPath(BindingChoice binding, Case c) {
        DeviceAvailability.requireDevice(binding);
        Tensor x = input(c.shape(), c.dtype(), c.hashCode());
        PoolGeometry g = c.spec().geometry(c.shape());
        Tensor want = CPU.pool(x, c.spec());
        int bytes = c.dtype().byteSize();
        for (int wanted : new int[] {2, 3, MANY}) {
            long maxAlloc = maxAllocFor(g, bytes, bytes, wanted);
            int perItem = bands(g, maxAlloc, bytes, bytes);
            String what = binding + " " + c + " in " + perItem + " bands (largest allocation " + maxAlloc + " bytes)";
            assertTrue(wanted == MANY ? perItem >= 5 : perItem == wanted, what);
            OpenClBackend backend = open(binding, maxAlloc, c.copying());
            try {
                Tensor got = Tensor.allocate(g.output(), c.dtype());
                backend.pool(g, x, got);
                StorageCases.assertMatchesCpu(c.spec().mode(), got, want, x, c.spec(), what);
                assertArrayEquals(new long[] {1, (long) c.shape().n() * perItem}, backend.bandCounts(), what);
                assertOnlyProgramsLive(backend, what);
            } finally {
                backend.close();
            }
            assertEquals(0, backend.nativeObjects().live(), what + ": " + backend.nativeObjects());
        }
    }

    /**
     * A large max window in two row bands takes the separable passes in each band (its scratch
     * fits where the band's input does) and gives the CPU path's bits for the whole item; one
     * binding, since each band's geometry builds two programs.
     */
    @Test
    void largeWindow_inRowBands_takesTheSeparablePasses_bitForBit() {
        BindingChoice binding = DeviceAvailability.bindings().get(0);
        DeviceAvailability.requireDevice(binding);
        Shape s = Shape.of(2, 31, 12, 8);
        Tensor x = input(s, DType.FLOAT32, 31);
        PoolSpec spec = PoolSpec.max(11, 7).stride(1).padding(Padding.of(5, 4, 3, 3)).build();
        PoolGeometry g = spec.geometry(s);
        long maxAlloc = maxAllocFor(g, Float.BYTES, Float.BYTES, 2);
        String what = binding + " " + spec + " on " + s + " in 2 bands";
        for (RowBands.Band b : RowBands.split(g, maxAlloc / ((long) s.w() * s.c() * Float.BYTES),
                maxAlloc / ((long) g.output().w() * s.c() * Float.BYTES))) {
            assertTrue(SeparablePool.chosen(b.geometry(), true, new Limits(maxAlloc, Integer.MAX_VALUE), 1), what);
        }
        OpenClBackend backend = open(binding, maxAlloc, false);
        try {
            Tensor got = Tensor.allocate(g.output());
            backend.pool(g, x, got);
            StorageCases.assertMatchesCpu(PoolMode.MAX, got, CPU.pool(x, spec), x, spec, what);
            assertArrayEquals(new long[] {1, 2L * s.n()}, backend.bandCounts(), what);
            assertOnlyProgramsLive(backend, what);
        } finally {
            backend.close();
        }
        assertEquals(0, backend.nativeObjects().live(), what + ": " + backend.nativeObjects());
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void maxWithIndices_inRowBands_givesTheItemsIndices(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        Shape s = Shape.of(2, 19, 6, 3);
        Tensor x = input(s, DType.FLOAT32, 19);
        PoolGeometry g = PoolSpec.max(3, 2).stride(2).padding(Padding.of(1, 1, 1, 0)).ceilMode(true).build().geometry(s);
        try (CpuBackend cpu = new CpuBackend(1)) {
            for (int wanted : new int[] {2, 3, MANY}) {
                // The int64 indices are the widest output: they decide the output rows of a band.
                long maxAlloc = maxAllocFor(g, Float.BYTES, Long.BYTES, wanted);
                int perItem = bands(g, maxAlloc, Float.BYTES, Long.BYTES);
                assertTrue(wanted == MANY ? perItem >= 5 : perItem == wanted, perItem + " bands");
                OpenClBackend backend = open(binding, maxAlloc, false);
                try {
                    IndexCases.assertEveryConventionMatches(backend, cpu, g, x, binding + " in " + perItem + " bands");
                    int ops = IndexConvention.values().length;
                    assertArrayEquals(new long[] {ops, (long) ops * s.n() * perItem}, backend.bandCounts());
                    assertOnlyProgramsLive(backend, binding + " indices in " + perItem + " bands");
                } finally {
                    backend.close();
                }
                assertEquals(0, backend.nativeObjects().live(), backend.nativeObjects().toString());
            }
        }
    }

    /**
     * Global max and avg of items larger than an allocation, in 2, 3 and many pixel ranges: max bit
     * for bit, avg within tolerance of the float64 reference, also in compensated float where the
     * device has fp64 and for a plane whose sum cancels (values near ±1e4 whose mean is near 0).
     */
    @ParameterizedTest
    @MethodSource("bindings")
    void globalOfAnItemLargerThanAnAllocation_runsInPixelRanges_likeTheCpuPath(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        Shape s = Shape.of(2, 13, 11, 8);
        int hw = s.h() * s.w();
        List<Tensor> inputs = List.of(input(s, DType.FLOAT32, 13), input(s, DType.FLOAT16, 14), input(s, DType.BFLOAT16, 15),
                cancelling(s, 16));
        for (Tensor x : inputs) {
            long pixelBytes = (long) s.c() * x.dtype().byteSize();
            for (long perRange : new long[] {(hw + 1) / 2, (hw + 2) / 3, 7}) {
                for (boolean dbl : new boolean[] {true, false}) {
                    OpenClBackend.Options options = OpenClBackend.Options.DEFAULT.withMaxAlloc(perRange * pixelBytes);
                    OpenClBackend backend = OpenClBackend.open(binding, -1, dbl ? options : options.withoutDouble());
                    try {
                        for (PoolMode mode : List.of(PoolMode.MAX, PoolMode.AVG)) {
                            String what = binding + " global " + mode + " " + x.dtype() + " in ranges of " + perRange
                                    + " pixels" + (dbl ? "" : ", float sums");
                            Tensor got = Tensor.allocate(Shape.of(s.n(), 1, 1, s.c()), x.dtype());
                            backend.global(mode, x, got);
                            StorageCases.assertMatchesCpu(mode, got, CPU.global(mode, x), x, null, what);
                        }
                        long ranges = (hw + perRange - 1) / perRange;
                        assertArrayEquals(new long[] {2, 2 * s.n() * ranges}, backend.bandCounts());
                        assertOnlyProgramsLive(backend, binding + " global in ranges of " + perRange); // global_partial alone
                    } finally {
                        backend.close();
                    }
                    assertEquals(0, backend.nativeObjects().live(), backend.nativeObjects().toString());
                }
            }
        }
    }

    /** Float32 values near +1e4 and -1e4 in turn, plus a little: each plane's mean is near 0. */
    private static Tensor cancelling(Shape s, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((i / s.c() % 2 == 0 ? 1e4 : -1e4) + r.nextDouble() - 0.5);
        }
        return Tensor.of(s, v);
    }
}
