package dev.clpool;

import java.util.Locale;

/** What a pooling window computes. */
public enum PoolMode {
    /** Maximum of the window's input elements; NaN propagates; padding never wins. */
    MAX,
    /** Sum of the window's input elements divided by the divisor (see {@link PoolSpec#countIncludePad()}). */
    AVG,
    /** Power average {@code (sum |x|^p)^(1/p)}; padding contributes 0. */
    LP;

    /** {@code max}, {@code avg} or {@code lp}: the CLI's word. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static PoolMode parse(String word) {
        for (PoolMode m : values()) {
            if (m.word().equals(word)) {
                return m;
            }
        }
        throw new InvalidSpecException("mode", word, "must be one of max, avg, lp");
    }
}
