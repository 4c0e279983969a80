package dev.clpool;

/**
 * The shape of an NHWC tensor: batch, height, width, channels, each at least 1.
 *
 * <p>Element (n, y, x, c) lives at {@link #offset(int, int, int, int)} = {@code ((n*H + y)*W + x)*C + c}.
 * Sizes are ints, counts and offsets are longs: a tensor may hold more than 2<sup>31</sup> elements.
 */
public record Shape(int n, int h, int w, int c) {

    public Shape {
        requirePositive("N", n);
        requirePositive("H", h);
        requirePositive("W", w);
        requirePositive("C", c);
        try {
            Math.multiplyExact(Math.multiplyExact(Math.multiplyExact((long) n, h), w), (long) c);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("shape " + n + "x" + h + "x" + w + "x" + c + " has more than 2^63 elements");
        }
    }

    public static Shape of(int n, int h, int w, int c) {
        return new Shape(n, h, w, c);
    }

    /** Number of elements, N·H·W·C. */
    public long elementCount() {
        return (long) n * h * w * c;
    }

    /** Number of elements in one batch item, H·W·C. */
    public long itemSize() {
        return (long) h * w * c;
    }

    /** Flat index of element (n, y, x, c). */
    public long offset(int n, int y, int x, int c) {
        return ((((long) n * h + y) * w + x) * this.c) + c;
    }

    /** {@code N,H,W,C}, the form the CLI reads and writes. */
    @Override
    public String toString() {
        return n + "," + h + "," + w + "," + c;
    }

    private static void requirePositive(String axis, int v) {
        if (v < 1) {
            throw new IllegalArgumentException("shape axis " + axis + " must be >= 1, got " + v);
        }
    }
}
