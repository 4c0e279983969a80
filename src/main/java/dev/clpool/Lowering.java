package dev.clpool;

/**
 * How a tensor of any spatial rank and layout runs on the 2-D channels-last operations, exactly:
 * <ul>
 *   <li>1-D is 2-D with H = 1 (a window of 1 on the height axis): every result, every index
 *       convention the same.</li>
 *   <li>Channels-first (N, C, spatial) is channels-last with batch N·C and C = 1: the same memory,
 *       each plane its own batch item. Indices in the {@code pytorch}, {@code onnx} and
 *       {@code onnx-column-major} conventions come out unchanged; {@code nhwc} ones are the plane
 *       position times C plus c ({@link NdHost} converts).</li>
 *   <li>3-D pooling is separable: a 2-D pass over (H, W) of every depth slice, then a pass over D
 *       of the (N, D, H'·W', C) result with window (kd, 1). Max is exact (the first maximum in scan
 *       order of the two passes is the first of the volume); the averages' divisors are products
 *       of per-axis factors; lp sums powers in both passes.</li>
 * </ul>
 */
final class Lowering {
    private Lowering() {
    }

    /** Batch items of the channels-last view: N, or N·C for channels-first. */
    static int batch(TensorShape t) {
        return t.layout() == Layout.CHANNELS_LAST ? t.n() : t.n() * t.c();
    }

    /** Channels of the channels-last view: C, or 1 for channels-first. */
    static int channels(TensorShape t) {
        return t.layout() == Layout.CHANNELS_LAST ? t.c() : 1;
    }

    /** The 2-D channels-last view of a tensor of spatial rank 1 or 2. */
    static Shape view(TensorShape t) {
        if (t.rank() > 2) {
            throw new IllegalArgumentException("a 3-D tensor has no single 2-D view: " + t);
        }
        int h = t.rank() == 2 ? t.spatial(0) : 1;
        return Shape.of(batch(t), h, t.spatial(t.rank() - 1), channels(t));
    }

    /** The view of a 3-D tensor as its depth slices: (N'·D, H, W, C'). */
    static Shape slices(TensorShape t) {
        return Shape.of(batch(t) * t.spatial(0), t.spatial(1), t.spatial(2), channels(t));
    }

    /** The shape of a 3-D tensor after the (H, W) pass whose final output is {@code out}: (D, H', W'). */
    static TensorShape mid(TensorShape s, TensorShape out) {
        return s.withSpatial(s.spatial(0), out.spatial(1), out.spatial(2));
    }

    /** The view of a 3-D tensor with its planes flattened: (N', D, H·W, C'). */
    static Shape depth(TensorShape t) {
        return Shape.of(batch(t), t.spatial(0), Math.multiplyExact(t.spatial(1), t.spatial(2)), channels(t));
    }

    /** A spec of rank 1 or 2 as a 2-D spec (rank 1: a window of 1 on the height axis). */
    static PoolSpec spec2d(PoolSpec spec, int rank) {
        if (rank == 2) {
            return spec;
        }
        int[] k = spec.window(1);
        int[] s = spec.stride(1);
        int[] d = spec.dilation(1);
        return derived(spec, new int[] {1, k[0]}, new int[] {1, s[0]}, new int[] {1, d[0]},
                new int[] {0, 0}, 0, 1);
    }

    /** The (H, W) pass of a 3-D spec. */
    static PoolSpec planes(PoolSpec spec) {
        int[] k = spec.window(3);
        int[] s = spec.stride(3);
        int[] d = spec.dilation(3);
        return derived(spec, new int[] {k[1], k[2]}, new int[] {s[1], s[2]}, new int[] {d[1], d[2]},
                new int[] {1, 2}, -1, 3);
    }

    /** The D pass of a 3-D spec: window (kd, 1) over (D, H'·W'). */
    static PoolSpec depth(PoolSpec spec) {
        int[] k = spec.window(3);
        int[] s = spec.stride(3);
        int[] d = spec.dilation(3);
        return derived(spec, new int[] {k[0], 1}, new int[] {s[0], 1}, new int[] {d[0], 1},
                new int[] {0, 0}, 1, 3);
    }

    /** Whether the (H, W) pass of a 3-D spec is the identity (window, stride, dilation 1, no padding). */
    static boolean planesIdentity(PoolSpec spec) {
        return identity(spec, 1) && identity(spec, 2);
    }

    /** Whether the D pass of a 3-D spec is the identity. */
    static boolean depthIdentity(PoolSpec spec) {
        return identity(spec, 0);
    }

    private static boolean identity(PoolSpec spec, int axis) {
        Padding p = spec.padding();
        boolean unpadded = p.kind() == Padding.Kind.VALID
                || p.kind() == Padding.Kind.EXPLICIT && p.begin(axis, 3) == 0 && p.end(axis, 3) == 0;
        // SAME pads nothing for a window of 1 with stride 1.
        return spec.window(3)[axis] == 1 && spec.stride(3)[axis] == 1 && spec.dilation(3)[axis] == 1
                && (unpadded || p.kind() != Padding.Kind.EXPLICIT);
    }

    /**
     * A 2-D spec with these windows, strides and dilations; padding taken from {@code spec}'s axes
     * {@code from} (rank {@code rank}) and none on axis {@code unpadded} (-1: both padded).
     */
    private static PoolSpec derived(PoolSpec spec, int[] k, int[] s, int[] d, int[] from, int unpadded, int rank) {
        Padding p = spec.padding();
        Padding q = p;
        if (p.kind() == Padding.Kind.EXPLICIT) {
            int[] b = new int[2];
            int[] e = new int[2];
            for (int i = 0; i < 2; i++) {
                if (i != unpadded) {
                    int axis = rank == 1 ? 0 : from[i];
                    b[i] = p.begin(axis, rank);
                    e[i] = p.end(axis, rank);
                }
            }
            q = Padding.perAxis(b, e);
        }
        return PoolSpec.builder(spec.mode()).window(k).stride(s).dilation(d).padding(q).ceilMode(spec.ceilMode())
                .countIncludePad(spec.countIncludePad()).p(spec.p()).build();
    }

    /**
     * The planar passes of a channels-first pooling: one for rank 1-2; for rank 3 the (H, W) pass
     * over every depth slice, then the D pass over (D, H'·W') planes, either left out (null) when
     * it is the identity.
     */
    static PlanarGeometry[] planar(TensorShape s, PoolSpec spec) {
        Axis[] axes = spec.axes(s);
        int planes = s.n() * s.c();
        PoolMode m = spec.mode();
        if (s.rank() <= 2) {
            return new PlanarGeometry[] {new PlanarGeometry(planes, axes, m, spec.p(), spec.countIncludePad()), null};
        }
        boolean skipPlanes = planesIdentity(spec);
        PlanarGeometry slices = skipPlanes ? null : new PlanarGeometry(planes * s.spatial(0), new Axis[] {axes[1], axes[2]},
                m, spec.p(), spec.countIncludePad());
        if (depthIdentity(spec)) {
            return new PlanarGeometry[] {slices, null};
        }
        int plane = Math.multiplyExact(axes[1].out(), axes[2].out());
        PlanarGeometry depth = new PlanarGeometry(planes, new Axis[] {axes[0], new Axis(plane, plane, 1, 1, 1, 0, 0)}, m,
                spec.p(), spec.countIncludePad());
        return new PlanarGeometry[] {slices, depth};
    }

    /** The index of element (n, c, z, y, x) of a 3-D input of (D, H, W) positions and C channels under {@code conv}. */
    static long index3d(IndexConvention conv, long n, long c, long channels, long z, long y, long x,
                        long d, long h, long w) {
        switch (conv) {
            case NHWC: return ((z * h + y) * w + x) * channels + c;
            case PYTORCH: return (z * h + y) * w + x;
            case ONNX: return (((n * channels + c) * d + z) * h + y) * w + x;
            case ONNX_COLUMN_MAJOR: return (((n * channels + c) * w + x) * h + y) * d + z;
            default: throw new IllegalStateException("convention " + conv);
        }
    }
}
