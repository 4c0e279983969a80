package dev.clpool;

import java.util.Arrays;
import java.util.Objects;

/**
 * Max unpooling (SEMANTICS.md "Unpooling"): values Y and their int64 indices, both of shape
 * {@code values}, scattered into a zero tensor of shape {@code output} (same N, C, layout and
 * spatial rank), each value at the element its index names in {@code convention}, <b>decoded in
 * the output's shape</b>. Where several values name one element, the last in the values'
 * channels-last order (n, spatial, c) wins, whatever the layout. Obtain one from {@link #of},
 * which computes or checks the output size.
 *
 * <p>{@link #target} is the one decoding rule every backend follows: where in the output's
 * storage a value's index points, or -1 for an index outside the output (for {@code nhwc}, outside
 * the value's own batch item; for {@code pytorch}, outside its own (n, c) plane).
 */
public record UnpoolGeometry(TensorShape values, TensorShape output, IndexConvention convention) {

    public UnpoolGeometry {
        Objects.requireNonNull(values, "values");
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(convention, "convention");
        if (output.n() != values.n() || output.c() != values.c() || output.layout() != values.layout()
                || output.rank() != values.rank()) {
            throw new IllegalArgumentException("unpooling output " + output + " (" + output.describe()
                    + ") must keep N, C, layout and rank of the values " + values + " (" + values.describe() + ")");
        }
    }

    /**
     * The unpooling of {@code values} by a pooling of {@code window}, {@code stride} and padding
     * {@code padBegin}/{@code padEnd} (one number per spatial axis, outermost first): the output
     * size per axis is {@link #defaultSize}, or {@code outputSize} when given (null: the default),
     * which must be at least the default and smaller than the default plus the stride.
     *
     * @throws InvalidSpecException naming the field: window or stride below 1, padding below 0,
     *                              a default size below 1, or an output size out of range
     * @throws IllegalArgumentException an array whose length is not the spatial rank
     */
    public static UnpoolGeometry of(TensorShape values, int[] window, int[] stride, int[] padBegin, int[] padEnd,
                                    int[] outputSize, IndexConvention convention) {
        Objects.requireNonNull(values, "values");
        int rank = values.rank();
        requireRank("window", window, rank);
        requireRank("stride", stride, rank);
        requireRank("padding begin", padBegin, rank);
        requireRank("padding end", padEnd, rank);
        if (outputSize != null) {
            requireRank("output size", outputSize, rank);
        }
        int[] out = new int[rank];
        for (int a = 0; a < rank; a++) {
            long d = defaultSize(values.spatial(a), window[a], stride[a], padBegin[a], padEnd[a]);
            if (outputSize == null) {
                out[a] = (int) d;
            } else if (outputSize[a] < d || outputSize[a] >= d + stride[a]) {
                throw new InvalidSpecException("output size", joined(outputSize), "axis " + a + " must be in ["
                        + d + ", " + (d + stride[a] - 1) + "] (the default " + d + " plus less than the stride "
                        + stride[a] + ")");
            } else {
                out[a] = outputSize[a];
            }
        }
        return new UnpoolGeometry(values, values.withSpatial(out), convention);
    }

    /**
     * The default output size of one axis, {@code (in-1)*s + k - begin - end} (ONNX MaxUnpool,
     * PyTorch {@code max_unpool}).
     *
     * @throws InvalidSpecException window or stride below 1, padding below 0, or a size below 1
     *                              or beyond 2^31-1
     */
    public static long defaultSize(int in, int window, int stride, int padBegin, int padEnd) {
        if (window < 1) {
            throw new InvalidSpecException("window", window, "must be >= 1");
        }
        if (stride < 1) {
            throw new InvalidSpecException("stride", stride, "must be >= 1");
        }
        if (padBegin < 0 || padEnd < 0) {
            throw new InvalidSpecException("padding", padBegin + "," + padEnd, "must be >= 0");
        }
        long d = (long) (in - 1) * stride + window - padBegin - padEnd;
        if (d < 1 || d > Integer.MAX_VALUE) {
            throw new InvalidSpecException("output size", d, "(input " + in + " - 1) * stride " + stride + " + window "
                    + window + " - padding " + padBegin + " - " + padEnd + " must be in [1, 2^31-1]");
        }
        return d;
    }

    /**
     * Where the index {@code index} of the value of batch item {@code n}, channel {@code c} points:
     * an element offset in the output's storage (its layout), or -1 when it names no element the
     * convention allows. The index is decoded in the output's shape: {@code nhwc} within batch item
     * {@code n} in channels-last order, {@code pytorch} within plane (n, c), {@code onnx} over the
     * whole tensor in channels-first order, {@code onnx-column-major} the same with the spatial
     * axes reversed. For many indices, {@link #decoder()} is faster.
     */
    public long target(int n, int c, long index) {
        return decoder().target(n, c, index);
    }

    /** The decoding of {@link #target}, with this geometry's sizes worked out once: for loops over every index. */
    public Decoder decoder() {
        return new Decoder(this);
    }

    /** {@link UnpoolGeometry#target} with the sizes it needs precomputed. Immutable, thread-safe. */
    public static final class Decoder {
        private final IndexConvention convention;
        private final boolean last;
        private final long ch;
        private final long plane;
        private final long item;
        private final long total;
        /** Output spatial sizes as (D, H, W), 1 for the axes a lower rank lacks: for column-major indices. */
        private final long d;
        private final long h;
        private final long w;

        private Decoder(UnpoolGeometry g) {
            TensorShape o = g.output();
            this.convention = g.convention();
            this.last = o.layout() == Layout.CHANNELS_LAST;
            this.ch = o.c();
            this.plane = o.spatialSize();
            this.item = plane * ch;
            this.total = o.elementCount();
            int r = o.rank();
            this.d = r == 3 ? o.spatial(0) : 1;
            this.h = r >= 2 ? o.spatial(r - 2) : 1;
            this.w = o.spatial(r - 1);
        }

        /** As {@link UnpoolGeometry#target}. */
        public long target(int n, int c, long index) {
            // The common cases first, without divisions: the index is the offset, or nearly.
            switch (convention) {
                case NHWC -> {
                    if (index < 0 || index >= item) {
                        return -1;
                    }
                    if (last) {
                        return n * item + index;
                    }
                    long tq = index / ch;
                    return (n * ch + (index - tq * ch)) * plane + tq;
                }
                case PYTORCH -> {
                    if (index < 0 || index >= plane) {
                        return -1;
                    }
                    return last ? (n * plane + index) * ch + c : (n * ch + c) * plane + index;
                }
                default -> {
                    if (index < 0 || index >= total) {
                        return -1;
                    }
                    if (convention == IndexConvention.ONNX && !last) {
                        return index;
                    }
                    long p = index / plane;
                    long tq = index - p * plane;
                    if (convention == IndexConvention.ONNX_COLUMN_MAJOR) {
                        tq = rowMajor(tq);
                    }
                    if (!last) {
                        return p * plane + tq;
                    }
                    long tn = p / ch;
                    return (tn * plane + tq) * ch + (p - tn * ch);
                }
            }
        }

        /** The row-major position (z*H + y)*W + x of column-major position (x*H + y)*D + z. */
        private long rowMajor(long r) {
            long z = r % d;
            long rest = r / d;
            long y = rest % h;
            long x = rest / h;
            return (z * h + y) * w + x;
        }
    }

    /**
     * Whether every index of a valid input stays in its value's batch item, so that batch items
     * can be unpooled independently: always for {@code nhwc} and {@code pytorch}; for the ONNX
     * conventions only when N is 1 (otherwise the indices must be looked at).
     */
    public boolean itemsIndependent() {
        return convention == IndexConvention.NHWC || convention == IndexConvention.PYTORCH || output.n() == 1;
    }

    /**
     * The position in the values' channels-last order (n, spatial, c) of the element at
     * {@code offset} of their storage: the order in which duplicate targets are decided (the last
     * wins) and bad indices are reported (the first).
     */
    public long channelsLastPosition(long offset) {
        if (values.layout() == Layout.CHANNELS_LAST) {
            return offset;
        }
        long plane = values.spatialSize();
        long ch = values.c();
        long q = offset % plane;
        long nc = offset / plane;
        return (nc / ch * plane + q) * ch + nc % ch;
    }

    /** The storage offset of the value at {@code position} of the values' channels-last order. */
    public long storageOffset(long position) {
        if (values.layout() == Layout.CHANNELS_LAST) {
            return position;
        }
        long plane = values.spatialSize();
        long ch = values.c();
        long c = position % ch;
        long nq = position / ch;
        return (nq / plane * ch + c) * plane + nq % plane;
    }

    /**
     * The refusal of the value at {@code position} (in the values' channels-last order) whose index
     * is {@code index}: names both, the value's coordinates and what range the convention allows.
     */
    public InvalidInputException badIndex(long position, long index) {
        long ch = values.c();
        long c = position % ch;
        long nq = position / ch;
        long plane = values.spatialSize();
        long n = nq / plane;
        long q = nq % plane;
        int[] at = new int[values.rank()];
        for (int a = values.rank() - 1; a >= 0; a--) {
            at[a] = (int) (q % values.spatial(a));
            q /= values.spatial(a);
        }
        String range = switch (convention) {
            case NHWC -> "[0, " + output.itemSize() + ") (its own batch item of the output)";
            case PYTORCH -> "[0, " + output.spatialSize() + ") (its own plane of the output)";
            default -> "[0, " + output.elementCount() + ") (the output)";
        };
        return new InvalidInputException("unpooling index " + index + " of the value at channels-last position "
                + position + " (n=" + n + ", c="
                + c + ", at " + joined(at) + ") is outside " + range + ", output shape " + output + " ("
                + output.describe() + "), index convention " + convention.word());
    }

    /**
     * Refuses tensors whose sizes or storage types do not match: {@code values} and {@code indices}
     * hold the values' element count, {@code out} the output's, in the values' storage type.
     */
    public void check(Tensor values, Indices indices, Tensor out) {
        DType t = values.dtype();
        long count = values().elementCount();
        if (values.byteSize() != count * t.byteSize() || indices.buffer().remaining() != count * Long.BYTES) {
            throw new IllegalArgumentException("unpooling values (" + values.byteSize() + " bytes of " + t.word()
                    + ") and indices (" + indices.buffer().remaining() + " bytes) must both hold " + count
                    + " elements of shape " + values());
        }
        if (out.dtype() != t || out.byteSize() != output().elementCount() * t.byteSize()) {
            throw new IllegalArgumentException("unpooling output (" + out.byteSize() + " bytes of " + out.dtype().word()
                    + ") must hold " + output().elementCount() + " " + t.word() + " elements of shape " + output());
        }
    }

    /** Elements of the values (and of the indices). */
    public long valueCount() {
        return values.elementCount();
    }

    private static void requireRank(String what, int[] v, int rank) {
        Objects.requireNonNull(v, what);
        if (v.length != rank) {
            throw new IllegalArgumentException(what + " " + Arrays.toString(v) + ": expected " + rank
                    + " numbers, one per spatial axis");
        }
    }

    private static String joined(int[] v) {
        StringBuilder b = new StringBuilder();
        for (int x : v) {
            b.append(b.length() == 0 ? "" : ",").append(x);
        }
        return b.toString();
    }
}
