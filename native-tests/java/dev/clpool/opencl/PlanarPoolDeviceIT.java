package dev.clpool.opencl;

import dev.clpool.PlanarGeometry;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.Axis;
import dev.clpool.BindingChoice;
import dev.clpool.DType;
import dev.clpool.DeviceAvailability;
import dev.clpool.InvalidSpecException;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.backend.ResidentTensor;
import dev.clpool.cpu.CpuBackend;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.Tolerance;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The channels-first pool kernel ({@link PlanarPoolRoutine}) through every binding: spatial rank
 * 1 and 2 against the CPU path on the C = 1 view of the same memory (N·C batch items of one
 * channel), rank 3 against a scalar reference, max bit for bit (NaN, infinities and signed zeros
 * among the values), avg and lp within the tolerance; random specs (per-axis windows, strides,
 * dilations, uneven padding, ceil mode, count_include_pad) and widths that exercise the vector
 * path of each stride class, stride-1 L2 through the staged rows (bands of output rows),
 * and the GPU layout (one work item per output) forced on the same device; half and bfloat16 storage; chunked and copying host paths and the
 * device-tensor form giving the same bits; no native object outliving the backend.
 */
class PlanarPoolDeviceIT {
    private static final Map<BindingChoice, OpenClBackend> BACKENDS = new EnumMap<>(BindingChoice.class);
    /** The same device with the GPU layout forced (one work item per output), so CPU devices test it too. */
    private static final Map<BindingChoice, OpenClBackend> LANES = new EnumMap<>(BindingChoice.class);
    private static final CpuBackend CPU = new CpuBackend(2);

    static Iterable<BindingChoice> bindings() {
        return DeviceAvailability.bindings();
    }

    static Stream<Arguments> bindingsAndLayouts() {
        return DeviceAvailability.bindings().stream().flatMap(b -> Stream.of(Arguments.of(b, false), Arguments.of(b, true)));
    }

    private static OpenClBackend device(BindingChoice binding) {
        return device(binding, false);
    }

    /** The device through {@code binding}, in its own layout or ({@code lanes}) one work item per output. */
    private static synchronized OpenClBackend device(BindingChoice binding, boolean lanes) {
        DeviceAvailability.requireDevice(binding);
        return lanes
                ? LANES.computeIfAbsent(binding, b -> OpenClBackend.open(b, -1, OpenClBackend.Options.DEFAULT,
                        OpenClBackend.Tuning.fromSystem().withLayout(OpenClBackend.Layout.CHANNEL_LANES)))
                : BACKENDS.computeIfAbsent(binding, b -> OpenClBackend.open(b, -1));
    }

    @AfterAll
    static void close() {
        for (OpenClBackend b : Stream.concat(BACKENDS.values().stream(), LANES.values().stream()).toList()) {
            b.close();
            assertEquals(0, b.nativeObjects().live(), "native objects after close");
        }
        CPU.close();
    }

    // ---- rank 1 and 2: the CPU path on the C = 1 view ----

    @ParameterizedTest(name = "{0} lanes={1}")
    @MethodSource("bindingsAndLayouts")
    void rank1And2_randomSpecs_matchCpuOnTheC1View(BindingChoice binding, boolean lanes) {
        OpenClBackend device = device(binding, lanes);
        SplittableRandom r = new SplittableRandom(0x91A4);
        for (int i = 0; i < 12; i++) { // every kernel build is seconds on PoCL, cold
            boolean rank1 = i % 3 == 0;
            PoolMode mode = PoolMode.values()[i % PoolMode.values().length];
            Shape view = Shape.of(1 + r.nextInt(6), rank1 ? 1 : 1 + r.nextInt(14), 1 + r.nextInt(70), 1);
            PoolSpec spec = randomSpec(r, mode, view, rank1);
            checkAgainstCpu(device, spec, view, r, "case " + i);
        }
    }

    /** The benchmark's specs and widths past each stride class' vector reach (1, 2, 3, 4). */
    @ParameterizedTest(name = "{0} lanes={1}")
    @MethodSource("bindingsAndLayouts")
    void everyStrideClass_ofTheVectorPath_matchesCpu(BindingChoice binding, boolean lanes) {
        OpenClBackend device = device(binding, lanes);
        SplittableRandom r = new SplittableRandom(0x5712);
        List<PoolSpec> specs = List.of(
                PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(),
                PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).build(),
                PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).countIncludePad(true).build(),
                PoolSpec.max(2, 2).stride(2).build(),
                PoolSpec.max(2, 3).stride(1, 3).dilation(1, 2).padding(Padding.of(0, 1, 2, 1)).build(),
                // count_include_pad in ceil mode: the last windows pass the padding (divisors lane by lane)
                PoolSpec.avg(1, 5).stride(1, 2).dilation(1, 3).padding(Padding.of(0, 0, 4, 3)).ceilMode(true)
                        .countIncludePad(true).build(),
                PoolSpec.max(1, 4).stride(1, 4).build(), // M5's 1-D pool: stride 4's four-load path
                PoolSpec.avg(2, 3).stride(1, 4).dilation(1, 2).padding(Padding.of(1, 0, 2, 1)).build(),
                PoolSpec.builder(PoolMode.LP).window(3).stride(2).padding(Padding.of(1)).p(2).build());
        for (PoolSpec spec : specs) {
            for (int w : new int[] {7, 16, 33, 61}) {
                checkAgainstCpu(device, spec, Shape.of(3, 9, w, 1), r, spec + " width " + w);
                if (spec.mode() == PoolMode.MAX) { // the column taps' scan order decides signed zeros and NaN payloads
                    Shape s = Shape.of(3, 9, w, 1);
                    checkAgainstCpu(device, spec, s, PlanarC1DeviceIT.ties(r, s), spec + " width " + w + ", ties");
                }
            }
        }
    }

    /**
     * L2 pooling (p = 2) takes the row loop's vectors (one double chain per lane, masked taps at the row
     * ends): the same bits as one output at a time (the GPU layout on the same device), NaN and
     * infinities included; the spec is the one above, so no new programs.
     */
    @ParameterizedTest
    @MethodSource("bindings")
    void lpVectors_areBitIdentical_toOneOutputAtATime(BindingChoice binding) {
        PoolSpec spec = PoolSpec.builder(PoolMode.LP).window(3).stride(2).padding(Padding.of(1)).p(2).build();
        SplittableRandom r = new SplittableRandom(0x1F2);
        for (int w : new int[] {7, 16, 33, 61}) {
            Shape view = Shape.of(3, 9, w, 1);
            PoolGeometry g = spec.geometry(view);
            PlanarGeometry pg = new PlanarGeometry(view.n(), new Axis[] {g.rows(), g.cols()}, PoolMode.LP, 2, false);
            Tensor x = RandomCases.values(r, view, true);
            Tensor rows = Tensor.allocate(g.output());
            device(binding, false).poolPlanar(pg, x, rows);
            Tensor single = Tensor.allocate(g.output());
            device(binding, true).poolPlanar(pg, x, single);
            Tolerance.assertBitIdentical(rows.toArray(), single.toArray(), "lp p=2 width " + w);
        }
    }

    /**
     * Stride-1 L2 takes the staged rows on CPU devices (bands of 16 output rows, a ring of row
     * sums): planes taller than a band (band ends, the ring's wrap), FaceNet's 3x3 and an uneven
     * 5x3 window, widths from one vector (with 4-lane and overlapping row ends) to past the 64
     * staged outputs (those rows go the row loop's way). Two new programs.
     */
    @ParameterizedTest
    @MethodSource("bindings")
    void stagedRows_ofStride1L2_matchCpu(BindingChoice binding) {
        OpenClBackend device = device(binding);
        SplittableRandom r = new SplittableRandom(0x57A6);
        List<PoolSpec> specs = List.of(
                PoolSpec.builder(PoolMode.LP).window(3).stride(1).padding(Padding.of(1)).p(2).build(),
                PoolSpec.builder(PoolMode.LP).window(5, 3).stride(1).padding(Padding.of(0, 2, 2, 0)).p(2).build());
        for (PoolSpec spec : specs) {
            Shape view = Shape.of(2, 37, 28, 1);
            PoolGeometry g = spec.geometry(view);
            PlanarGeometry pg = new PlanarGeometry(view.n(), new Axis[] {g.rows(), g.cols()}, spec.mode(), spec.p(),
                    spec.countIncludePad());
            assertTrue(KernelOptions.planarRows(pg, PlanarPoolRoutine.CPU_VECTOR, true, true), spec + " staged");
            for (int w : new int[] {8, 28, 35, 61, 64, 66}) {
                checkAgainstCpu(device, spec, Shape.of(2, 37, w, 1), r, spec + " width " + w);
            }
        }
    }

    private static void checkAgainstCpu(OpenClBackend device, PoolSpec spec, Shape view, SplittableRandom r, String what) {
        checkAgainstCpu(device, spec, view, RandomCases.values(r, view, spec.mode() != PoolMode.LP || r.nextBoolean()), what);
    }

    private static void checkAgainstCpu(OpenClBackend device, PoolSpec spec, Shape view, Tensor x, String what) {
        PoolGeometry g = spec.geometry(view);
        boolean rank1 = view.h() == 1 && spec.windowH() == 1 && spec.strideH() == 1;
        Axis[] axes = rank1 ? new Axis[] {g.cols()} : new Axis[] {g.rows(), g.cols()};
        PlanarGeometry pg = new PlanarGeometry(view.n(), axes, spec.mode(), spec.p(), spec.countIncludePad());
        Tensor want = Tensor.allocate(g.output());
        CPU.pool(g, x, want);
        Tensor got = Tensor.allocate(g.output());
        device.poolPlanar(pg, x, got);
        assertMatches(spec.mode(), got.toArray(), want.toArray(), what + ": " + spec + " on " + view + " via " + device.description());
    }

    // ---- rank 3: a scalar reference ----

    @ParameterizedTest(name = "{0} lanes={1}")
    @MethodSource("bindingsAndLayouts")
    void rank3_randomSpecs_matchScalarReference(BindingChoice binding, boolean lanes) {
        OpenClBackend device = device(binding, lanes);
        SplittableRandom r = new SplittableRandom(0x3D3D);
        for (int i = 0; i < 9; i++) {
            PoolMode mode = PoolMode.values()[i % PoolMode.values().length];
            int planes = 1 + r.nextInt(4);
            PlanarGeometry g = random3d(r, mode, planes, 1 + r.nextInt(7), 1 + r.nextInt(9), 1 + r.nextInt(40));
            checkAgainstReference(device, g, r, "case " + i);
        }
        // The shapes of C3D / I3D layers: 3x3x3 s1 p1, 1x2x2 s1x2x2, 3x3x3 s2 p1.
        checkAgainstReference(device, geometry3d(PoolMode.MAX, 4, new int[] {8, 14, 20}, new int[] {3, 3, 3},
                new int[] {1, 1, 1}, new int[] {1, 1, 1}, false), r, "3x3x3 s1 p1");
        checkAgainstReference(device, geometry3d(PoolMode.AVG, 4, new int[] {6, 14, 28}, new int[] {1, 2, 2},
                new int[] {1, 2, 2}, new int[] {0, 0, 0}, false), r, "1x2x2 s1x2x2");
        checkAgainstReference(device, geometry3d(PoolMode.AVG, 3, new int[] {7, 11, 37}, new int[] {3, 3, 3},
                new int[] {2, 2, 2}, new int[] {1, 1, 1}, true), r, "3x3x3 s2 p1 include-pad");
    }

    private static void checkAgainstReference(OpenClBackend device, PlanarGeometry g, SplittableRandom r, String what) {
        Axis[] a = g.axes();
        Shape flat = Shape.of(g.planes(), a[0].in() * a[1].in(), a[2].in(), 1); // only the element count matters
        Tensor x = RandomCases.values(r, flat, g.mode() != PoolMode.LP || r.nextBoolean());
        Tensor got = Tensor.allocate(Shape.of(g.planes(), a[0].out() * a[1].out(), a[2].out(), 1));
        device.poolPlanar(g, x, got);
        assertMatches(g.mode(), got.toArray(), reference(g, x.toArray()), what + ": " + g + " via " + device.description());
    }

    // ---- storage, host paths, device tensors ----

    @ParameterizedTest(name = "{0} lanes={1}")
    @MethodSource("bindingsAndLayouts")
    void halfAndBfloat16_maxIsBitIdentical_toTheFloatPathRounded(BindingChoice binding, boolean lanes) {
        OpenClBackend device = device(binding, lanes);
        SplittableRandom r = new SplittableRandom(0x16);
        PlanarGeometry g = geometry3d(PoolMode.MAX, 3, new int[] {5, 9, 45}, new int[] {2, 3, 3},
                new int[] {1, 2, 2}, new int[] {0, 1, 1}, false);
        Axis[] a = g.axes();
        Shape in = Shape.of(g.planes(), a[0].in() * a[1].in(), a[2].in(), 1);
        Shape out = Shape.of(g.planes(), a[0].out() * a[1].out(), a[2].out(), 1);
        for (DType dtype : new DType[] {DType.FLOAT16, DType.BFLOAT16}) {
            Tensor x = RandomCases.values(r, in, true).convert(dtype);
            Tensor got = Tensor.allocate(out, dtype);
            device.poolPlanar(g, x, got);
            float[] want = reference(g, x.convert(DType.FLOAT32).toArray());
            Tensor wantStored = Tensor.of(out, want).convert(dtype);
            assertEquals(wantStored.buffer(), got.buffer(), dtype + " max: stored bits differ");
        }
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void chunkedAndCopyingHostPaths_andDeviceTensors_giveTheSameBits(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        SplittableRandom r = new SplittableRandom(0xC0C0);
        PlanarGeometry g = geometry3d(PoolMode.AVG, 12, new int[] {4, 10, 30}, new int[] {3, 3, 3},
                new int[] {2, 1, 2}, new int[] {1, 1, 1}, false);
        Axis[] a = g.axes();
        Shape in = Shape.of(g.planes(), a[0].in() * a[1].in(), a[2].in(), 1);
        Shape out = Shape.of(g.planes(), a[0].out() * a[1].out(), a[2].out(), 1);
        Tensor x = RandomCases.values(r, in, true);
        Tensor whole = Tensor.allocate(out);
        device(binding).poolPlanar(g, x, whole);

        long planeBytes = g.inputPlane() * Float.BYTES;
        OpenClBackend.Options small = OpenClBackend.Options.DEFAULT.withMaxAlloc(planeBytes * 5); // 5 planes a chunk
        for (boolean zeroCopy : new boolean[] {true, false}) {
            try (OpenClBackend chunked = OpenClBackend.open(binding, -1, small,
                    OpenClBackend.Tuning.fromSystem().withZeroCopy(zeroCopy))) {
                Tensor got = Tensor.allocate(out);
                chunked.poolPlanar(g, x, got);
                assertEquals(whole.buffer(), got.buffer(), "chunks of 5 planes, zeroCopy=" + zeroCopy);

                // The device-tensor form over the first 4 planes (within one allocation).
                PlanarGeometry four = new PlanarGeometry(4, a, g.mode(), g.p(), g.countIncludePad());
                Shape fourOut = Shape.of(4, a[0].out() * a[1].out(), a[2].out(), 1);
                Tensor fromDevice = Tensor.allocate(fourOut);
                try (ResidentTensor din = chunked.upload(x.batch(0, 4));
                     ResidentTensor dout = chunked.allocate(fourOut)) {
                    chunked.poolPlanar(four, din, dout);
                    dout.download(fromDevice);
                }
                assertEquals(whole.batch(0, 4).buffer(), fromDevice.buffer(), "device tensors, zeroCopy=" + zeroCopy);
                chunked.close();
                assertEquals(0, chunked.nativeObjects().live(), "native objects after close");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void wrongSizes_areRefused_beforeAnyDeviceWork(BindingChoice binding) {
        OpenClBackend device = device(binding);
        PlanarGeometry g = geometry3d(PoolMode.MAX, 2, new int[] {3, 4, 5}, new int[] {2, 2, 2},
                new int[] {1, 1, 1}, new int[] {0, 0, 0}, false);
        Tensor x = Tensor.allocate(Shape.of(2, 12, 5, 1));
        assertThrows(IllegalArgumentException.class, () -> device.poolPlanar(g, x, Tensor.allocate(Shape.of(2, 6, 4, 2))));
        assertThrows(IllegalArgumentException.class, () -> device.poolPlanar(g, Tensor.allocate(Shape.of(2, 12, 4, 1)),
                Tensor.allocate(Shape.of(2, 6, 4, 1))));
        ResidentTensor small = device.allocate(Shape.of(1, 6, 4, 1));
        try (ResidentTensor din = device.upload(x)) {
            assertThrows(IllegalArgumentException.class, () -> device.poolPlanar(g, din, small));
        } finally {
            small.close();
        }
    }

    // ---- helpers ----

    private static void assertMatches(PoolMode mode, float[] got, float[] want, String what) {
        if (mode == PoolMode.MAX) {
            Tolerance.assertBitIdentical(got, want, what);
        } else {
            Tolerance.assertClose(got, want, 4 * Tolerance.REL, what);
        }
    }

    /** A random valid spec over {@code view} (rank 1: a window of one row); retried until valid. */
    private static PoolSpec randomSpec(SplittableRandom r, PoolMode mode, Shape view, boolean rank1) {
        while (true) {
            int kh = rank1 ? 1 : 1 + r.nextInt(4);
            int kw = 1 + r.nextInt(5);
            int dh = rank1 ? 1 : 1 + r.nextInt(2);
            int dw = 1 + r.nextInt(3);
            int t = rank1 ? 0 : r.nextInt(kh);
            int b = rank1 ? 0 : r.nextInt(kh);
            PoolSpec.Builder s = PoolSpec.builder(mode).window(kh, kw).stride(rank1 ? 1 : 1 + r.nextInt(3), 1 + r.nextInt(4))
                    .dilation(dh, dw).padding(Padding.of(t, b, r.nextInt(kw), r.nextInt(kw)))
                    .ceilMode(r.nextInt(4) == 0).countIncludePad(r.nextBoolean());
            if (mode == PoolMode.LP) {
                s.p(new double[] {1, 2, 3.5}[r.nextInt(3)]);
            }
            try {
                PoolSpec spec = s.build();
                spec.geometry(view);
                return spec;
            } catch (InvalidSpecException e) {
                // an empty output or a window over padding only: draw again
            }
        }
    }

    private static PlanarGeometry random3d(SplittableRandom r, PoolMode mode, int planes, int d, int h, int w) {
        while (true) {
            int[] k = {1 + r.nextInt(3), 1 + r.nextInt(3), 1 + r.nextInt(4)};
            int[] s = {1 + r.nextInt(2), 1 + r.nextInt(3), 1 + r.nextInt(3)};
            int[] p = {r.nextInt(k[0]), r.nextInt(k[1]), r.nextInt(k[2])};
            try {
                return geometry3d(mode, planes, new int[] {d, h, w}, k, s, p, r.nextBoolean());
            } catch (InvalidSpecException e) {
                // draw again
            }
        }
    }

    /** Depth from one 2-D spec's rows, rows and columns from another's: every axis as PoolSpec resolves it. */
    private static PlanarGeometry geometry3d(PoolMode mode, int planes, int[] size, int[] k, int[] s, int[] p, boolean includePad) {
        PoolSpec depth = PoolSpec.builder(mode).window(k[0], 1).stride(s[0], 1).padding(Padding.of(p[0], p[0], 0, 0))
                .countIncludePad(includePad).p(3).build();
        PoolSpec plane = PoolSpec.builder(mode).window(k[1], k[2]).stride(s[1], s[2])
                .padding(Padding.of(p[1], p[1], p[2], p[2])).countIncludePad(includePad).p(3).build();
        Axis dz = depth.geometry(Shape.of(1, size[0], 1, 1)).rows();
        PoolGeometry hw = plane.geometry(Shape.of(1, size[1], size[2], 1));
        return new PlanarGeometry(planes, new Axis[] {dz, hw.rows(), hw.cols()}, mode, 3, includePad);
    }

    /** Pooling of every plane of {@code x} by definition, in double; max by clpool's rule. */
    private static float[] reference(PlanarGeometry g, float[] x) {
        Axis[] a = g.axes3();
        int in = (int) g.inputPlane();
        float[] out = new float[Math.toIntExact(g.planes() * g.outputPlane())];
        int o = 0;
        for (int plane = 0; plane < g.planes(); plane++) {
            for (int oz = 0; oz < a[0].out(); oz++) {
                for (int oy = 0; oy < a[1].out(); oy++) {
                    for (int ox = 0; ox < a[2].out(); ox++) {
                        List<Float> taps = new ArrayList<>();
                        for (int jz = a[0].firstTap(oz); jz < a[0].endTap(oz); jz++) {
                            for (int jy = a[1].firstTap(oy); jy < a[1].endTap(oy); jy++) {
                                for (int jx = a[2].firstTap(ox); jx < a[2].endTap(ox); jx++) {
                                    long z = a[0].start(oz) + (long) jz * a[0].dilation();
                                    long y = a[1].start(oy) + (long) jy * a[1].dilation();
                                    long xx = a[2].start(ox) + (long) jx * a[2].dilation();
                                    taps.add(x[(int) (plane * in + (z * a[1].in() + y) * a[2].in() + xx)]);
                                }
                            }
                        }
                        long div = g.countIncludePad()
                                ? (long) a[0].extentIncludingPad(oz) * a[1].extentIncludingPad(oy) * a[2].extentIncludingPad(ox)
                                : taps.size();
                        out[o++] = reduce(g.mode(), g.p(), taps, div);
                    }
                }
            }
        }
        return out;
    }

    private static float reduce(PoolMode mode, double p, List<Float> taps, long div) {
        switch (mode) {
            case MAX: {
                float m = Float.NEGATIVE_INFINITY;
                for (float v : taps) {
                    if (!(v <= m) && !Float.isNaN(m)) {
                        m = v;
                    }
                }
                return m;
            }
            case AVG: {
                double sum = 0;
                for (float v : taps) {
                    sum += v;
                }
                return (float) (sum / div);
            }
            default: {
                double sum = 0;
                for (float v : taps) {
                    sum += Math.pow(Math.abs((double) v), p);
                }
                return (float) Math.pow(sum, 1 / p);
            }
        }
    }
}
