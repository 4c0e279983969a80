package dev.clpool;

import java.util.Optional;

/**
 * How a {@link Tensor} stores its elements. Every computation runs in float32 (sums in double
 * where SEMANTICS.md asks for it) whatever the storage: 16-bit inputs are widened exactly, and each
 * output element is the float32 result rounded once, to nearest with ties to even, to the output's
 * storage type.
 */
public enum DType {
    /** IEEE 754 binary32; {@code .npy} dtype {@code <f4}. */
    FLOAT32(4, "float32", "<f4"),
    /** IEEE 754 binary16 (half): 1 sign, 5 exponent, 10 fraction bits; {@code .npy} dtype {@code <f2}. See {@link Float16}. */
    FLOAT16(2, "float16", "<f2"),
    /** bfloat16: the top 16 bits of a float32 (1 sign, 8 exponent, 7 fraction bits); no {@code .npy} dtype. See {@link BFloat16}. */
    BFLOAT16(2, "bfloat16", null);

    private final int byteSize;
    private final String word;
    private final String npyDescr;

    DType(int byteSize, String word, String npyDescr) {
        this.byteSize = byteSize;
        this.word = word;
        this.npyDescr = npyDescr;
    }

    /** Bytes per element: 4 or 2. */
    public int byteSize() {
        return byteSize;
    }

    /** {@code float32}, {@code float16} or {@code bfloat16}: the name in messages. */
    public String word() {
        return word;
    }

    /**
     * The NumPy {@code .npy} dtype, little-endian: {@code <f4}, {@code <f2}; empty for bfloat16,
     * which NumPy does not have.
     */
    public Optional<String> npyDescr() {
        return Optional.ofNullable(npyDescr);
    }

    /** {@code value} rounded once to this type (to nearest, ties to even), as a float; exact for FLOAT32. */
    public float round(float value) {
        return switch (this) {
            case FLOAT32 -> value;
            case FLOAT16 -> Float16.toFloat(Float16.fromFloat(value));
            case BFLOAT16 -> BFloat16.toFloat(BFloat16.fromFloat(value));
        };
    }

    @Override
    public String toString() {
        return word;
    }
}
