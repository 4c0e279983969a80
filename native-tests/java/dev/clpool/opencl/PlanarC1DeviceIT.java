package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.BindingChoice;
import dev.clpool.DType;
import dev.clpool.DeviceAvailability;
import dev.clpool.IndexConvention;
import dev.clpool.Indices;
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
import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The channels-first kernels that replace the one-channel view on CPU devices, through every
 * binding: global pooling of planes ({@link PlanarGlobalRoutine}), max with indices of one
 * channel ({@code pool_planar_indices}), backward ({@code backward_rows.cl}, with max's argmax pass
 * {@code pool_planar_argmax}) and adaptive pooling ({@code adaptive_planes.cl}), against the CPU
 * path on the one-channel view of the same memory and the channel-lanes kernels on the same planes
 * as the channels of one item. Max and indices bit for bit (NaN with payloads, infinities, signed zeros and ties among
 * the values, planes whose maximum is a zero of either sign), avg within the tolerance; random
 * specs with padding, dilation and ceil mode, every index convention; host and device tensors.
 * Few kernel builds (one engine per binding, a spec per convention): a few seconds on PoCL.
 */
class PlanarC1DeviceIT {
    private static final Map<BindingChoice, OpenClBackend> BACKENDS = new EnumMap<>(BindingChoice.class);
    private static final CpuBackend CPU = new CpuBackend(2);

    static Iterable<BindingChoice> bindings() {
        return DeviceAvailability.bindings();
    }

    private static synchronized OpenClBackend device(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        return BACKENDS.computeIfAbsent(binding, b -> OpenClBackend.open(b, -1));
    }

    @AfterAll
    static void close() {
        for (OpenClBackend b : BACKENDS.values()) {
            b.close();
            assertEquals(0, b.nativeObjects().live(), "native objects after close");
        }
        CPU.close();
    }

    // ---- global pooling of planes ----

    @ParameterizedTest
    @MethodSource("bindings")
    void globalOfPlanes_matchesTheCpuPath_onTheOneChannelView(BindingChoice binding) {
        OpenClBackend device = device(binding);
        int planes = Math.max(1, device.device().info().computeUnits()) * WorkGroups.CPU_DEFAULT + 5;
        SplittableRandom r = new SplittableRandom(0x61B);
        for (int size : new int[] {1, 7, 49, 64, 131}) {
            Tensor x = RandomCases.values(r, Shape.of(planes, 1, size, 1), true);
            zeroPlanes(x, planes, size);
            for (PoolMode mode : new PoolMode[] {PoolMode.MAX, PoolMode.AVG}) {
                boolean planar = new PlanarGlobalRoutine(device.session()).covers(mode, planes, size);
                assertEquals(device.session().groups().channelLoop(), planar, "the planar kernel runs on CPU devices");
                Tensor want = Tensor.allocate(Shape.of(planes, 1, 1, 1));
                CPU.global(mode, x, want);
                Tensor got = Tensor.allocate(Shape.of(planes, 1, 1, 1));
                device.globalPlanar(mode, planes, size, x, got);
                String what = "global " + mode.word() + " of " + planes + " planes of " + size;
                assertMatches(mode, got.toArray(), want.toArray(), what);
                try (ResidentTensor dx = device.upload(x); ResidentTensor dy = device.allocate(Shape.of(planes, 1, 1, 1))) {
                    device.globalPlanar(mode, planes, size, dx, dy);
                    Tensor back = Tensor.allocate(Shape.of(planes, 1, 1, 1));
                    dy.download(back);
                    Tolerance.assertBitIdentical(back.toArray(), got.toArray(), what + ", device tensors");
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void globalMaxOfHalfPlanes_isTheFloatResultRounded(BindingChoice binding) {
        OpenClBackend device = device(binding);
        int planes = Math.max(1, device.device().info().computeUnits()) * WorkGroups.CPU_DEFAULT + 3;
        Shape in = Shape.of(planes, 1, 37, 1);
        Tensor x = RandomCases.values(new SplittableRandom(0x16), in, true).convert(DType.FLOAT16);
        Tensor want = Tensor.allocate(Shape.of(planes, 1, 1, 1));
        CPU.global(PoolMode.MAX, x.convert(DType.FLOAT32), want);
        Tensor got = Tensor.allocate(Shape.of(planes, 1, 1, 1), DType.FLOAT16);
        device.globalPlanar(PoolMode.MAX, planes, in.w(), x, got);
        assertEquals(want.convert(DType.FLOAT16).buffer(), got.buffer(), "float16 global max: stored bits differ");
    }

    /**
     * Every fourth plane made of zeros of both signs and negatives, with a NaN of its own payload
     * in every eighth: the maximum is then a signed zero or a NaN, which the lanes alone get wrong.
     */
    private static void zeroPlanes(Tensor x, int planes, int size) {
        for (int q = 0; q < planes; q += 4) {
            for (int i = 0; i < size; i++) {
                float v = (i + q) % 3 == 0 ? -0.0f : (i + q) % 3 == 1 ? 0.0f : -1 - i;
                if (q % 8 == 0 && size > 2 && i >= size / 2) {
                    v = Float.intBitsToFloat(0x7fc00000 | (q * 31 + i)); // the first NaN must win
                }
                x.set(q, 0, i, 0, v);
            }
        }
    }

    // ---- max with indices of one channel ----

    @ParameterizedTest
    @MethodSource("bindings")
    void indicesOfOneChannel_randomSpecs_matchTheCpuPath_inEveryConvention(BindingChoice binding) {
        OpenClBackend device = device(binding);
        SplittableRandom r = new SplittableRandom(0x1DC1);
        IndexConvention[] conventions = IndexConvention.values();
        for (int i = 0; i < 2 * conventions.length; i++) {
            Shape view = Shape.of(1 + r.nextInt(5), 1 + r.nextInt(12), 1 + r.nextInt(60), 1);
            PoolSpec spec = randomMaxSpec(r, view);
            check(device, spec, view, conventions[i % conventions.length], r, "case " + i);
        }
        // SegNet's 2x2 s2 and ResNet's 3x3 s2 p1, at widths around the vector path's reach.
        PoolSpec segnet = PoolSpec.max(2, 2).stride(2).build();
        PoolSpec stem = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
        for (int w : new int[] {15, 16, 33, 60}) {
            check(device, segnet, Shape.of(3, 6, w, 1), IndexConvention.ONNX_COLUMN_MAJOR, r, "segnet width " + w);
            check(device, stem, Shape.of(2, 7, w, 1), IndexConvention.ONNX, r, "stem width " + w);
        }
    }

    /**
     * Max with the {@code nhwc} indices of a channels-first tensor (its planes as one channel): the
     * kernel forms {@code p * C + c} itself, as the CPU path does, at SegNet's and ResNet's specs and
     * a padded, dilated one in ceil mode, for plane counts that are several items of C channels,
     * one plane all -inf (no maximum changes: the index stays at the window's first tap inside).
     */
    @ParameterizedTest
    @MethodSource("bindings")
    void nhwcIndicesOfChannelsFirstPlanes_matchTheCpuPath(BindingChoice binding) {
        OpenClBackend device = device(binding);
        SplittableRandom r = new SplittableRandom(0x4C1);
        PoolSpec[] specs = {PoolSpec.max(2, 2).stride(2).build(), PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(),
            PoolSpec.max(3, 2).stride(2, 1).dilation(1, 2).padding(Padding.of(1, 0, 1, 1)).ceilMode(true).build()};
        int[][] cases = {{2, 5, 6, 33}, {3, 3, 7, 60}, {1, 7, 5, 17}}; // items, channels, height, width
        for (int i = 0; i < cases.length; i++) {
            int[] c = cases[i];
            Shape view = Shape.of(c[0] * c[1], c[2], c[3], 1);
            PoolGeometry g = specs[i].geometry(view);
            Tensor x = r.nextBoolean() ? RandomCases.values(r, view, true) : ties(r, view);
            for (int y = 0; y < c[2]; y++) { // a plane of -inf: each index is its window's first tap inside the input
                for (int w = 0; w < c[3]; w++) {
                    x.set(1, y, w, 0, Float.NEGATIVE_INFINITY);
                }
            }
            Tensor want = Tensor.allocate(g.output());
            Tensor got = Tensor.allocate(g.output());
            try (Indices wantIdx = Indices.allocate(g.output(), IndexConvention.PYTORCH);
                 Indices gotIdx = Indices.allocate(g.output(), IndexConvention.PYTORCH)) {
                CPU.maxWithNhwcPlaneIndices(g, x, want, wantIdx, c[1]);
                device.maxWithNhwcPlaneIndices(g, x, got, gotIdx, c[1]);
                String what = specs[i] + " on " + c[0] + " items of " + c[1] + " channels of " + c[2] + "x" + c[3]
                        + " via " + device.description();
                Tolerance.assertBitIdentical(got.toArray(), want.toArray(), what + " values");
                assertArrayEquals(wantIdx.toArray(), gotIdx.toArray(), what + " nhwc indices");
            }
        }
    }

    private static void check(OpenClBackend device, PoolSpec spec, Shape view, IndexConvention conv, SplittableRandom r,
                              String what) {
        PoolGeometry g = spec.geometry(view);
        Tensor x = r.nextBoolean() ? RandomCases.values(r, view, true) : ties(r, view);
        Tensor want = Tensor.allocate(g.output());
        Tensor got = Tensor.allocate(g.output());
        try (Indices wantIdx = Indices.allocate(g.output(), conv); Indices gotIdx = Indices.allocate(g.output(), conv)) {
            CPU.maxWithIndices(g, x, want, wantIdx);
            device.maxWithIndices(g, x, got, gotIdx);
            String full = what + ": " + spec + " on " + view + ", " + conv.word() + " via " + device.description();
            Tolerance.assertBitIdentical(got.toArray(), want.toArray(), full + " values");
            assertArrayEquals(wantIdx.toArray(), gotIdx.toArray(), full + " indices");
            try (ResidentTensor dx = device.upload(x); ResidentTensor dv = device.allocate(g.output());
                 ResidentTensor di = device.allocateIndices(g.output(), conv)) {
                device.maxWithIndices(g, dx, dv, di);
                Tensor values = Tensor.allocate(g.output());
                dv.download(values);
                Indices indices = Indices.allocate(g.output(), conv);
                di.download(indices.buffer());
                Tolerance.assertBitIdentical(values.toArray(), want.toArray(), full + " device values");
                assertArrayEquals(wantIdx.toArray(), indices.toArray(), full + " device indices");
                indices.close();
            }
        }
    }

    // ---- max and avg backward of one channel ----

    @ParameterizedTest
    @MethodSource("bindings")
    void backwardOfOneChannel_equalsTheChannelLanesKernel_andTheCpuPath(BindingChoice binding) {
        OpenClBackend device = device(binding);
        SplittableRandom r = new SplittableRandom(0xBAC2);
        for (int i = 0; i < 4; i++) {
            Shape view = Shape.of(3, 1 + r.nextInt(9), 1 + r.nextInt(40), 1);
            checkBackward(device, randomSpec(r, PoolMode.AVG, view, i % 2 == 1), view, r, "case " + i);
        }
        // DenseNet's transition 2x2 s2 and Inception's 3x3 s1 p1 with count_include_pad.
        checkBackward(device, PoolSpec.avg(2, 2).stride(2).build(), Shape.of(3, 6, 45, 1), r, "densenet");
        // Stride 2 with padding: the interior's pairs of vectors (grad_pair) between masked vectors.
        checkBackward(device, PoolSpec.builder(PoolMode.AVG).countIncludePad(true).window(3, 3).stride(2).padding(Padding.of(1))
                .build(), Shape.of(2, 5, 40, 1), r, "avg 3x3 s2 p1");
        // ... whose first and last outputs' windows leave the row (their divisors count fewer columns).
        checkBackward(device, PoolSpec.avg(2, 2).stride(2).padding(Padding.of(1)).build(), Shape.of(2, 5, 40, 1), r, "avg 2x2 s2 p1");
        PoolSpec inception = PoolSpec.builder(PoolMode.AVG).countIncludePad(true).window(3, 3).stride(1).padding(Padding.of(1)).build();
        checkBackward(device, inception, Shape.of(3, 5, 17, 1), r, "inception");
        for (int i = 0; i < 2; i++) {
            Shape view = Shape.of(3, 1 + r.nextInt(9), 1 + r.nextInt(40), 1);
            checkBackward(device, randomMaxSpec(r, view), view, r, "max case " + i);
        }
        checkBackward(device, PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build(), Shape.of(3, 7, 30, 1), r, "stem");
        // Windows that tile the row (grad_split): 2x2 s2 with ceil mode (a partial last output row;
        // an odd row end left to grad_vec), and the 3-D depth pass's (2, 1) window, one column wide.
        checkBackward(device, PoolSpec.max(2, 2).stride(2).ceilMode(true).build(), Shape.of(2, 7, 37, 1), r, "max 2x2 s2 ceil");
        checkBackward(device, PoolSpec.max(2, 1).stride(2, 1).build(), Shape.of(3, 8, 29, 1), r, "max depth pass");
        checkBackward(device, PoolSpec.avg(2, 2).stride(2).ceilMode(true).build(), Shape.of(2, 7, 40, 1), r, "avg 2x2 s2 ceil");
        // pool_planar_argmax's taps at stride 1 (the taps read as one vector), with ceil mode and dilation.
        checkBackward(device, PoolSpec.max(3, 2).stride(1).padding(Padding.of(1, 1, 1, 0)).build(), Shape.of(3, 6, 27, 1), r,
                "max stride 1");
        checkBackward(device, PoolSpec.max(2, 3).stride(2).dilation(1, 2).ceilMode(true).build(), Shape.of(2, 7, 26, 1), r,
                "max ceil, dilation");
        // float16 storage (unaligned half vectors at stride 1): the planes against the lanes.
        Shape view = Shape.of(3, 4, 19, 1);
        Shape lanes = Shape.of(1, 4, 19, 3);
        PoolGeometry g = inception.geometry(view);
        Tensor x = RandomCases.values(r, view, false).convert(DType.FLOAT16);
        Tensor dy = RandomCases.values(r, g.output(), true).convert(DType.FLOAT16);
        Tensor got = Tensor.allocate(view, DType.FLOAT16);
        device.backward(g, x, dy, got);
        Tensor gotLanes = Tensor.allocate(lanes, DType.FLOAT16);
        device.backward(inception.geometry(lanes), planesAsChannels(x, lanes).convert(DType.FLOAT16),
                planesAsChannels(dy, Shape.of(1, 4, 19, 3)).convert(DType.FLOAT16), gotLanes);
        Tolerance.assertBitIdentical(got.toArray(), planesAsChannels(gotLanes, view).toArray(), "float16 planes against lanes");
    }

    /**
     * Backward of {@code view} (planes of one channel: {@code backward_rows.cl} on CPU
     * devices) bit for bit against the same planes as the channels of one item (the lanes of
     * {@code pool2d_backward}), and within the tolerance against the CPU path; host and device tensors.
     */
    private static void checkBackward(OpenClBackend device, PoolSpec spec, Shape view, SplittableRandom r, String what) {
        PoolGeometry g = spec.geometry(view);
        Shape os = g.output();
        Tensor x = r.nextBoolean() ? RandomCases.values(r, view, true) : ties(r, view);
        Tensor dy = RandomCases.values(r, os, true);
        String full = what + ": " + spec + " on " + view + " via " + device.description();
        Tensor want = Tensor.allocate(view);
        CPU.backward(g, x, dy, want);
        Tensor got = Tensor.allocate(view);
        device.backward(g, x, dy, got);
        Tolerance.assertClose(got.toArray(), want.toArray(), 4 * Tolerance.REL, full);
        Shape lanes = Shape.of(1, view.h(), view.w(), view.n());
        Tensor gotLanes = Tensor.allocate(lanes);
        device.backward(spec.geometry(lanes), planesAsChannels(x, lanes), planesAsChannels(dy, Shape.of(1, os.h(), os.w(), os.n())), gotLanes);
        Tolerance.assertBitIdentical(got.toArray(), planesAsChannels(gotLanes, view).toArray(), full + " against the channel lanes");
        try (ResidentTensor dx = device.upload(x); ResidentTensor ddy = device.upload(dy); ResidentTensor dgx = device.allocate(view)) {
            device.backward(g, dx, ddy, dgx);
            Tensor back = Tensor.allocate(view);
            dgx.download(back);
            Tolerance.assertBitIdentical(back.toArray(), got.toArray(), full + ", device tensors");
        }
    }

    // ---- adaptive avg and max of one channel ----

    @ParameterizedTest
    @MethodSource("bindings")
    void adaptiveOfOneChannel_equalsTheChannelLanesKernel_andTheCpuPath(BindingChoice binding) {
        OpenClBackend device = device(binding);
        SplittableRandom r = new SplittableRandom(0xADA7);
        // (H, W, OH, OW): SPP-net's and VGG's heads and a plane of 15 to 8 outputs (whole planes per
        // work item: adaptive_plane_groups, its stores transposed), regions too large to stage
        // (gathered), region rows staged with more outputs than inputs, and fewer outputs than a
        // vector (whole planes, stored one at a time).
        int[][] sizes = {{13, 13, 6, 6}, {10, 10, 7, 7}, {40, 41, 3, 5}, {5, 3, 4, 2}, {3, 9, 7, 20}, {7, 9, 2, 3}};
        // Odd plane counts (one build of adaptive2d's lanes per mode): lanes past the last plane, and
        // in pairs of groups of 8 a second group partly (27, 15) or wholly (3, 5, 19, 7) past it.
        int[] planes = {3, 27, 5, 19, 7, 15};
        // Whole small planes one group of 8 a work item (these plane counts) and two groups a work
        // item (adaptive_plane_groups2, forced: the rule takes it for a thousand planes and more).
        // SPP-net's max takes adaptive_plane_rows and small averages adaptive_plane_cols unless forced
        // off (below; PlaneColsDeviceIT): here the groups of planes.
        for (String pairs : new String[] {"auto", "always"}) {
            System.setProperty("clpool.opencl.planeRows", "never");
            System.setProperty("clpool.opencl.planeCols", "never");
            System.setProperty("clpool.opencl.planePairs", pairs);
            try {
                for (int i = 0; i < sizes.length; i++) {
                    int[] s = sizes[i];
                    Shape view = Shape.of(planes[i], s[0], s[1], 1);
                    for (PoolMode mode : new PoolMode[] {PoolMode.MAX, PoolMode.AVG}) {
                        checkAdaptive(device, AdaptiveGeometry.of(mode, view, s[2], s[3]), r, i == 0);
                    }
                }
            } finally {
                System.clearProperty("clpool.opencl.planePairs");
                System.clearProperty("clpool.opencl.planeRows");
                System.clearProperty("clpool.opencl.planeCols");
            }
        }
        // Max over planes of 2*OW + 1 columns (adaptive_plane_rows, a plane a work item, its rows read
        // once): SPP-net's 13x13, the widest (15 to 7) and narrowest (9 to 4) rows, region rows of one
        // to three and more; one plane (its last row read element by element) and odd counts; ties,
        // signed zeros and NaN payloads decide the scan order's bits.
        int[][] rowSizes = {{13, 13, 6, 6}, {5, 15, 2, 7}, {16, 9, 3, 4}, {2, 11, 5, 5}};
        int[] rowPlanes = {1, 9, 4, 3};
        System.setProperty("clpool.opencl.planeCols", "never"); // those shapes take adaptive_plane_cols first
        for (int i = 0; i < rowSizes.length; i++) {
            int[] s = rowSizes[i];
            Shape v = Shape.of(rowPlanes[i], s[0], s[1], 1);
            AdaptiveGeometry g = AdaptiveGeometry.of(PoolMode.MAX, v, s[2], s[3]);
            assertTrue(AdaptiveRoutine.planeRows(g), "adaptive_plane_rows takes " + v);
            checkAdaptive(device, g, ties(r, v), i == 0);
            checkAdaptive(device, g, RandomCases.values(r, v, true), false);
        }
        System.clearProperty("clpool.opencl.planeCols");
        // float16 storage (the transpose's unaligned half vectors): the planes against the lanes.
        Shape view = Shape.of(11, 13, 13, 1);
        Shape lanes = Shape.of(1, 13, 13, 11);
        Tensor x = ties(r, view).convert(DType.FLOAT16);
        Tensor got = Tensor.allocate(Shape.of(11, 6, 6, 1), DType.FLOAT16);
        device.adaptive(AdaptiveGeometry.of(PoolMode.MAX, view, 6, 6), x, got);
        Tensor gotLanes = Tensor.allocate(Shape.of(1, 6, 6, 11), DType.FLOAT16);
        device.adaptive(AdaptiveGeometry.of(PoolMode.MAX, lanes, 6, 6), planesAsChannels(x, lanes).convert(DType.FLOAT16), gotLanes);
        Tolerance.assertBitIdentical(got.toArray(), planesAsChannels(gotLanes, got.shape()).toArray(),
                "float16 adaptive max, planes against lanes");
    }

    /**
     * Adaptive pooling of {@code g}'s planes ({@code adaptive_planes.cl} on CPU devices) bit for bit
     * against the same planes as the channels of one item ({@code adaptive2d}'s lanes) and the CPU
     * path (avg within the tolerance: compensated float sums where the device has no doubles);
     * device tensors where {@code resident}.
     */
    private static void checkAdaptive(OpenClBackend device, AdaptiveGeometry g, SplittableRandom r, boolean resident) {
        checkAdaptive(device, g, r.nextBoolean() ? RandomCases.values(r, g.input(), true) : ties(r, g.input()), resident);
    }

    /** The same on the planes {@code x}. */
    private static void checkAdaptive(OpenClBackend device, AdaptiveGeometry g, Tensor x, boolean resident) {
        Shape view = g.input();
        Shape os = g.output();
        String what = "adaptive " + g.mode().word() + " of " + view + " to " + os.h() + "x" + os.w() + " via "
                + device.description();
        Tensor want = Tensor.allocate(os);
        CPU.adaptive(g, x, want);
        Tensor got = Tensor.allocate(os);
        device.adaptive(g, x, got);
        assertMatches(g.mode(), got.toArray(), want.toArray(), what);
        Shape lanes = Shape.of(1, view.h(), view.w(), view.n());
        Tensor gotLanes = Tensor.allocate(Shape.of(1, os.h(), os.w(), view.n()));
        device.adaptive(AdaptiveGeometry.of(g.mode(), lanes, os.h(), os.w()), planesAsChannels(x, lanes), gotLanes);
        Tolerance.assertBitIdentical(got.toArray(), planesAsChannels(gotLanes, os).toArray(), what + " against the channel lanes");
        if (resident) {
            try (ResidentTensor dx = device.upload(x); ResidentTensor dy = device.allocate(os)) {
                device.adaptive(g, dx, dy);
                Tensor back = Tensor.allocate(os);
                dy.download(back);
                Tolerance.assertBitIdentical(back.toArray(), got.toArray(), what + ", device tensors");
            }
        }
    }

    /** (P, H, W, 1) as (1, H, W, P) with P &gt; 1, or back: a transpose of the plane and pixel axes. */
    private static Tensor planesAsChannels(Tensor t, Shape to) {
        float[] v = t.toArray();
        float[] out = new float[v.length];
        boolean toLanes = t.shape().c() == 1;
        int planes = toLanes ? t.shape().n() : t.shape().c();
        int pixels = v.length / planes;
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < pixels; i++) {
                if (toLanes) {
                    out[i * planes + p] = v[p * pixels + i];
                } else {
                    out[p * pixels + i] = v[i * planes + p];
                }
            }
        }
        return Tensor.of(to, out);
    }

    /** Few distinct values (ties in most windows), signed zeros among them, and an occasional NaN. */
    static Tensor ties(SplittableRandom r, Shape s) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            int k = r.nextInt(12);
            v[i] = k == 0 ? Float.intBitsToFloat(0x7fc00000 | i) : k < 4 ? -0.0f : k < 7 ? 0.0f : r.nextInt(-2, 2);
        }
        return Tensor.of(s, v);
    }

    /** A random valid max spec over {@code view}: windows, strides, dilations, uneven padding, ceil mode. */
    private static PoolSpec randomMaxSpec(SplittableRandom r, Shape view) {
        return randomSpec(r, PoolMode.MAX, view, false);
    }

    /** ... of {@code mode}, with {@code count_include_pad} where {@code includePad}. */
    private static PoolSpec randomSpec(SplittableRandom r, PoolMode mode, Shape view, boolean includePad) {
        while (true) {
            int kh = 1 + r.nextInt(3);
            int kw = 1 + r.nextInt(4);
            PoolSpec.Builder s = PoolSpec.builder(mode).countIncludePad(includePad).window(kh, kw).stride(1 + r.nextInt(3), 1 + r.nextInt(4))
                    .dilation(1 + r.nextInt(2), 1 + r.nextInt(3))
                    .padding(Padding.of(r.nextInt(kh), r.nextInt(kh), r.nextInt(kw), r.nextInt(kw)))
                    .ceilMode(r.nextInt(3) == 0);
            try {
                PoolSpec spec = s.build();
                spec.geometry(view);
                return spec;
            } catch (InvalidSpecException e) {
                // an empty output or a window over padding only: draw again
            }
        }
    }

    private static void assertMatches(PoolMode mode, float[] got, float[] want, String what) {
        if (mode == PoolMode.MAX) {
            Tolerance.assertBitIdentical(got, want, what);
        } else {
            Tolerance.assertClose(got, want, 4 * Tolerance.REL, what);
        }
    }
}
