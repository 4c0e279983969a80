package dev.clpool;

import java.util.Locale;

/**
 * What number a max-pooling index holds for the chosen input element (n, y, x, c) of an input of
 * shape (N, H, W, C). Every convention picks the same element (the first maximum in window scan
 * order, or the first NaN: SEMANTICS.md "Indices"); they differ only in how its position is
 * written. The {@link Indices} array itself is always laid out like the values, NHWC.
 *
 * <pre>{@code
 * PooledWithIndices r = engine.poolWithIndices(x, PoolSpec.max(2, 2).build(), IndexConvention.PYTORCH);
 * }</pre>
 */
public enum IndexConvention {
    /**
     * The default (SEMANTICS.md): {@code (y*W + x)*C + c}, the position in the flattened (H, W, C)
     * volume of the element's own batch item; TensorFlow's {@code max_pool_with_argmax} with
     * {@code include_batch_in_index = false}.
     */
    NHWC("nhwc"),
    /**
     * {@code y*W + x}: the position within the element's own (n, c) plane; PyTorch's
     * {@code return_indices}. The element is still clpool's choice: where a window holds several
     * NaNs, PyTorch's CPU kernel points at the last one, clpool at the first.
     */
    PYTORCH("pytorch"),
    /**
     * {@code ((n*C + c)*H + y)*W + x}: the position in the whole tensor flattened in NCHW order;
     * ONNX MaxPool's {@code Indices} with {@code storage_order = 0}.
     */
    ONNX("onnx"),
    /**
     * {@code ((n*C + c)*W + x)*H + y}: as {@link #ONNX} but column-major within each plane;
     * ONNX MaxPool's {@code Indices} with {@code storage_order = 1}.
     */
    ONNX_COLUMN_MAJOR("onnx-column-major");

    private final String word;

    IndexConvention(String word) {
        this.word = word;
    }

    /** {@code nhwc}, {@code pytorch}, {@code onnx} or {@code onnx-column-major}: the CLI's word. */
    public String word() {
        return word;
    }

    /** The convention named by {@link #word()} (case-insensitive). */
    public static IndexConvention parse(String word) {
        String w = word == null ? "" : word.trim().toLowerCase(Locale.ROOT);
        for (IndexConvention c : values()) {
            if (c.word.equals(w)) {
                return c;
            }
        }
        throw new InvalidSpecException("index convention", word, "must be one of nhwc, pytorch, onnx, onnx-column-major");
    }

    /** The index of input element (n, y, x, c) of a tensor of shape {@code input} under this convention. */
    public long index(Shape input, int n, int y, int x, int c) {
        long h = input.h();
        long w = input.w();
        long ch = input.c();
        switch (this) {
            case NHWC: return (y * w + x) * ch + c;
            case PYTORCH: return y * w + x;
            case ONNX: return ((n * ch + c) * h + y) * w + x;
            case ONNX_COLUMN_MAJOR: return ((n * ch + c) * w + x) * h + y;
            default: throw new IllegalStateException("convention " + this);
        }
    }
}
