package dev.clpool.jmh;

import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;

/** Seeded benchmark inputs, and the NCHW layout onnxruntime's CPU pooling works in. */
final class Data {
    private Data() {
    }

    /** Values uniform in [-8, 8), NHWC. */
    static Tensor nhwc(Shape s, long seed) {
        Tensor t = Tensor.allocate(s);
        FloatBuffer f = t.floats();
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < f.capacity(); i++) {
            f.put(i, (float) (r.nextDouble() * 16 - 8));
        }
        return t;
    }

    /** A direct native-order buffer of {@code n} floats. */
    static FloatBuffer direct(long n) {
        return ByteBuffer.allocateDirect(Math.toIntExact(n * Float.BYTES)).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    /** The same elements in NCHW order. */
    static FloatBuffer toNchw(Tensor t) {
        Shape s = t.shape();
        FloatBuffer src = t.floats();
        FloatBuffer dst = direct(s.elementCount());
        int hw = s.h() * s.w();
        for (int n = 0; n < s.n(); n++) {
            for (int p = 0; p < hw; p++) {
                for (int c = 0; c < s.c(); c++) {
                    dst.put((n * s.c() + c) * hw + p, src.get((n * hw + p) * s.c() + c));
                }
            }
        }
        return dst;
    }

    /** NCHW elements back in NHWC order, as a heap array. */
    static float[] nchwToNhwc(FloatBuffer src, Shape nhwc) {
        int hw = nhwc.h() * nhwc.w();
        float[] out = new float[Math.toIntExact(nhwc.elementCount())];
        for (int n = 0; n < nhwc.n(); n++) {
            for (int p = 0; p < hw; p++) {
                for (int c = 0; c < nhwc.c(); c++) {
                    out[(n * hw + p) * nhwc.c() + c] = src.get((n * nhwc.c() + c) * hw + p);
                }
            }
        }
        return out;
    }

    static long[] nchwDims(Shape s) {
        return new long[] {s.n(), s.c(), s.h(), s.w()};
    }
}
