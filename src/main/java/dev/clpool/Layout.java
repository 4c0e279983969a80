package dev.clpool;

import java.util.Locale;

/**
 * Where the channel axis of a tensor lies (SEMANTICS.md "Tensors"). Every operation accepts both
 * layouts natively and returns its outputs in the input's layout.
 */
public enum Layout {
    /** (N, [D,] [H,] W, C): C varies fastest; TensorFlow's default and clpool's. */
    CHANNELS_LAST("channels-last"),
    /** (N, C, [D,] [H,] W): PyTorch's contiguous tensors and every ONNX model. */
    CHANNELS_FIRST("channels-first");

    private final String word;

    Layout(String word) {
        this.word = word;
    }

    /** {@code channels-last} or {@code channels-first}: the CLI's word. */
    public String word() {
        return word;
    }

    /** The layout named by {@link #word()} (case-insensitive). */
    public static Layout parse(String word) {
        String w = word == null ? "" : word.trim().toLowerCase(Locale.ROOT);
        for (Layout l : values()) {
            if (l.word.equals(w)) {
                return l;
            }
        }
        throw new InvalidSpecException("layout", word, "must be channels-last or channels-first");
    }
}
