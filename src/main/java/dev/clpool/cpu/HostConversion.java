package dev.clpool.cpu;

import dev.clpool.DType;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * Bulk conversion of host tensors between float32 and a 16-bit storage type, each element rounded
 * once to the destination's type, bit for bit as {@link Tensor#convertInto}: in Vector API lanes
 * where the JVM has them ({@link VecStorageConversion}, about 0.2 ns an element), else in scalar
 * blocks ({@link StorageConversion}). {@link CpuBackend#convert} runs it over its threads; a
 * backend without host threads of its own (the OpenCL backend, whose 3-D passes of 16-bit tensors
 * work in float32 between passes) runs it on the calling thread.
 */
public final class HostConversion {
    private HostConversion() {
    }

    /** Copies {@code src} into {@code dst} (the same number of elements), rounded once, on the calling thread. */
    public static void convert(Tensor src, Tensor dst) {
        run(src, dst, VectorSupport.ENABLED, (count, body) -> body.run(0, count));
    }

    /** How a conversion's elements are split over threads: {@code body} over {@code [0, count)}. */
    @FunctionalInterface
    interface Split {
        void run(int count, CpuBackend.RangeBody body);
    }

    /** {@link #convert} with {@code vectors} false for the scalar blocks, the ranges split by {@code split}. */
    static void run(Tensor src, Tensor dst, boolean vectors, Split split) {
        int count = Math.toIntExact(src.byteSize() / src.dtype().byteSize());
        if (count != dst.byteSize() / dst.dtype().byteSize()) {
            throw new IllegalArgumentException("cannot convert " + src + " into " + dst + ": sizes differ");
        }
        if (src.dtype() == dst.dtype() || (src.dtype() != DType.FLOAT32 && dst.dtype() != DType.FLOAT32)) {
            src.convertInto(dst);
        } else if (vectors) {
            ByteBuffer from = src.buffer();
            ByteBuffer to = dst.buffer();
            if (src.dtype() == DType.FLOAT32) {
                split.run(count, (a, b) -> VecStorageConversion.narrow(dst.dtype(), from, to, a, b));
            } else {
                split.run(count, (a, b) -> VecStorageConversion.widen(src.dtype(), from, to, a, b));
            }
        } else if (src.dtype() == DType.FLOAT32) {
            FloatBuffer from = src.floats();
            ShortBuffer to = dst.shorts();
            split.run(count, (a, b) -> StorageConversion.narrow(dst.dtype(), from, to, a, b));
        } else {
            ShortBuffer from = src.shorts();
            FloatBuffer to = dst.floats();
            split.run(count, (a, b) -> StorageConversion.widen(src.dtype(), from, to, a, b));
        }
    }
}
