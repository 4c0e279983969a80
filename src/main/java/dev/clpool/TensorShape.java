package dev.clpool;

import java.util.Arrays;

/**
 * The shape of a tensor of spatial rank 1, 2 or 3 in either {@link Layout}: batch N, channels C and
 * the spatial sizes outermost first (depth, height, width; or height, width; or width).
 *
 * <p>Channels-last (N, D, H, W, C) stores element (n, z, y, x, c) at
 * {@code (((n*D + z)*H + y)*W + x)*C + c}; channels-first (N, C, D, H, W) at
 * {@code (((n*C + c)*D + z)*H + y)*W + x}; ranks 1 and 2 alike. A 2-D channels-last shape is the
 * classic {@link Shape} ({@link #of(Shape)}, {@link #asShape()}).
 */
public final class TensorShape {

    private final int n;
    private final int c;
    private final int[] spatial;
    private final Layout layout;

    private TensorShape(int n, int c, int[] spatial, Layout layout) {
        if (spatial.length < 1 || spatial.length > 3) {
            throw new IllegalArgumentException("spatial rank must be 1, 2 or 3, got " + spatial.length);
        }
        this.n = requirePositive("N", n);
        this.c = requirePositive("C", c);
        this.spatial = spatial.clone();
        this.layout = java.util.Objects.requireNonNull(layout, "layout");
        long count = (long) n * c;
        try {
            for (int s : this.spatial) {
                count = Math.multiplyExact(count, (long) requirePositive("spatial", s));
            }
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("shape " + this + " has more than 2^63 elements");
        }
    }

    /** (N, spatial..., C). */
    public static TensorShape channelsLast(int n, int[] spatial, int c) {
        return new TensorShape(n, c, spatial, Layout.CHANNELS_LAST);
    }

    /** (N, C, spatial...). */
    public static TensorShape channelsFirst(int n, int c, int... spatial) {
        return new TensorShape(n, c, spatial, Layout.CHANNELS_FIRST);
    }

    /** N, C and spatial sizes in the given layout. */
    public static TensorShape of(int n, int c, int[] spatial, Layout layout) {
        return new TensorShape(n, c, spatial, layout);
    }

    /** The 2-D channels-last shape (N, H, W, C). */
    public static TensorShape of(Shape s) {
        return new TensorShape(s.n(), s.c(), new int[] {s.h(), s.w()}, Layout.CHANNELS_LAST);
    }

    /**
     * The shape of an array of rank 3, 4 or 5 with these dimensions in storage order (as a
     * {@code .npy} header lists them), C where {@code layout} says.
     */
    public static TensorShape fromDims(int[] dims, Layout layout) {
        if (dims.length < 3 || dims.length > 5) {
            throw new IllegalArgumentException("rank " + dims.length + " not supported, expected 3, 4 or 5");
        }
        if (layout == Layout.CHANNELS_LAST) {
            return channelsLast(dims[0], Arrays.copyOfRange(dims, 1, dims.length - 1), dims[dims.length - 1]);
        }
        return channelsFirst(dims[0], dims[1], Arrays.copyOfRange(dims, 2, dims.length));
    }

    public int n() {
        return n;
    }

    public int c() {
        return c;
    }

    public Layout layout() {
        return layout;
    }

    /** The spatial rank, 1 to 3. */
    public int rank() {
        return spatial.length;
    }

    /** Spatial size of {@code axis}, 0 the outermost. */
    public int spatial(int axis) {
        return spatial[axis];
    }

    /** Spatial sizes, outermost first (a copy). */
    public int[] spatial() {
        return spatial.clone();
    }

    /** D·H·W (H·W, W): the number of positions in one plane or volume. */
    public long spatialSize() {
        long s = 1;
        for (int v : spatial) {
            s *= v;
        }
        return s;
    }

    /** N·C·spatial. */
    public long elementCount() {
        return (long) n * c * spatialSize();
    }

    /** Number of elements in one batch item. */
    public long itemSize() {
        return (long) c * spatialSize();
    }

    /** The dimensions in storage order, as a {@code .npy} header lists them. */
    public int[] dims() {
        int[] d = new int[spatial.length + 2];
        d[0] = n;
        if (layout == Layout.CHANNELS_LAST) {
            System.arraycopy(spatial, 0, d, 1, spatial.length);
            d[d.length - 1] = c;
        } else {
            d[1] = c;
            System.arraycopy(spatial, 0, d, 2, spatial.length);
        }
        return d;
    }

    /** This shape with other spatial sizes (same rank, N, C and layout). */
    public TensorShape withSpatial(int... sizes) {
        if (sizes.length != spatial.length) {
            throw new IllegalArgumentException("expected " + spatial.length + " spatial sizes, got " + sizes.length);
        }
        return new TensorShape(n, c, sizes, layout);
    }

    /** This shape with every spatial size 1 (a global pooling's output). */
    public TensorShape global() {
        int[] ones = new int[spatial.length];
        Arrays.fill(ones, 1);
        return withSpatial(ones);
    }

    /** True for (N, H, W, C): the shape the 2-D channels-last kernels take as it is. */
    public boolean isShape2d() {
        return spatial.length == 2 && layout == Layout.CHANNELS_LAST;
    }

    /** This shape as a {@link Shape}; only for 2-D channels-last ({@link #isShape2d()}). */
    public Shape asShape() {
        if (!isShape2d()) {
            throw new IllegalStateException("shape " + this + " (" + describe() + ") is not a 2-D channels-last shape");
        }
        return new Shape(n, spatial[0], spatial[1], c);
    }

    /** {@code 3-D channels-first} and alike. */
    public String describe() {
        return spatial.length + "-D " + layout.word();
    }

    /** The dimensions in storage order, comma-separated, as the CLI reads and writes them. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        for (int d : dims()) {
            if (b.length() > 0) {
                b.append(',');
            }
            b.append(d);
        }
        return b.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorShape t && t.n == n && t.c == c && t.layout == layout
                && Arrays.equals(t.spatial, spatial);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * n + c) + layout.hashCode()) + Arrays.hashCode(spatial);
    }

    private static int requirePositive(String axis, int v) {
        if (v < 1) {
            throw new IllegalArgumentException("shape axis " + axis + " must be >= 1, got " + v);
        }
        return v;
    }
}
