package dev.clpool.testing;

import dev.clpool.Shape;
import dev.clpool.Tensor;

/** The classic hand-checkable inputs: 0, 1, 2, ... in NHWC order. */
public final class Ramps {
    private Ramps() {
    }

    /** A 1×h×w×1 tensor holding 0 .. h*w-1 row by row. */
    public static Tensor ramp(int h, int w) {
        float[] v = new float[h * w];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        return Tensor.of(Shape.of(1, h, w, 1), v);
    }
}
