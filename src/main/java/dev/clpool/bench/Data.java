package dev.clpool.bench;

import dev.clpool.DType;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;

/**
 * The kinds of input data a workload runs on: the figures of one operation must not depend on
 * them beyond noise (issue 12), so the bench measures each.
 */
public enum Data {
    /** Seeded values uniform in [-4, 4). */
    RANDOM("random"),
    /** {@link #RANDOM} through a ReLU: about half the elements +0.0, as after a ReLU layer. */
    RELU("relu"),
    /** Every element +0.0 (whole channels of zeros are common after ReLU). */
    ZERO("zero"),
    /** Every element 1.0: every window is one tie. */
    CONSTANT("constant"),
    /** Values rising from -4 to 4 in memory order (non-decreasing along every axis): each window's maximum is its last tap. */
    SORTED("sorted");

    private final String word;

    Data(String word) {
        this.word = word;
    }

    public String word() {
        return word;
    }

    /** A new tensor of {@code shape} and {@code dtype} holding this kind of data, from {@code seed}. */
    public Tensor tensor(Shape shape, DType dtype, long seed) {
        return tensor(dev.clpool.TensorShape.of(shape), dtype, seed);
    }

    /** {@link #tensor(Shape, DType, long)} of any rank and layout. */
    public Tensor tensor(dev.clpool.TensorShape shape, DType dtype, long seed) {
        Tensor t = Tensor.allocate(shape);
        FloatBuffer f = t.floats();
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0, n = f.capacity(); i < n; i++) {
            f.put(i, switch (this) {
                case ZERO -> 0f;
                case CONSTANT -> 1f;
                case SORTED -> (float) (-4 + 8.0 * i / n);
                case RELU -> Math.max(0f, (float) (r.nextDouble() * 8 - 4));
                case RANDOM -> (float) (r.nextDouble() * 8 - 4);
            });
        }
        return dtype == DType.FLOAT32 ? t : t.convert(dtype);
    }
}
