package dev.clpool.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.BackendChoice;
import dev.clpool.DType;
import dev.clpool.IndexConvention;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.PooledWithIndices;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import dev.clpool.cpu.CpuBackend;
import dev.clpool.testing.StorageCases;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * {@link WideningBackend} runs 16-bit operations in chunks of batch items (about
 * {@link WideningBackend#CHUNK_BYTES} of float32 temporaries each, the last chunk shorter). Every
 * operation, in both layouts, must give exactly the float32 result of the widened tensors rounded
 * once, as the whole-tensor form did: the tensors here are five items of about a megabyte of
 * float32 each, so that each operation runs as two to five chunks.
 */
class WideningChunksTest {
    private static final int N = 5;
    private static final PoolSpec MAX = PoolSpec.parse("max k=3x3 s=2x2 pad=1,1,1,1");
    private static final PoolSpec AVG = PoolSpec.parse("avg k=3x3 s=1x1 pad=1,1,1,1 include-pad");
    private static final PoolSpec LP = PoolSpec.parse("lp k=2x2 s=2x2 p=2");
    private static final PoolSpec TILES = PoolSpec.parse("avg k=2x2 s=2x2");
    private static final PoolSpec MAX_TILES = PoolSpec.parse("max k=2x2 s=2x2");

    private static Tensor random(TensorShape s, DType dtype, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            v[i] = i % 7 == 0 ? 0f : (float) r.nextDouble(-4, 4); // zeros: ties and the signed-zero rule
        }
        return StorageCases.input(Tensor.of(s, v), dtype, r, true);
    }

    /** {@code op} on a 16-bit tensor against {@code op} on its float32 widening, rounded once. */
    private static void same(String what, Tensor x, Function<Tensor, Tensor> op) {
        Tensor got = op.apply(x);
        Tensor want = op.apply(x.convert(DType.FLOAT32)).convert(x.dtype());
        assertEquals(want.shorts(), got.shorts(), () -> what + " on " + x);
    }

    private static void everyOperation(PoolingEngine e, TensorShape s, DType dtype) {
        Tensor x = random(s, dtype, 7 + s.hashCode());
        for (PoolSpec spec : List.of(MAX, AVG, LP, TILES)) {
            same(spec.toString(), x, t -> e.pool(t, spec));
        }
        same("global avg", x, t -> e.global(PoolMode.AVG, t));
        same("global max", x, t -> e.global(PoolMode.MAX, t));
        same("adaptive avg", x, t -> e.adaptive(PoolMode.AVG, t, 7, 7));
        same("adaptive max", x, t -> e.adaptive(PoolMode.MAX, t, 7, 7));
        for (PoolSpec spec : List.of(MAX, AVG, TILES, MAX_TILES)) {
            Tensor dy = random(spec.outputShape(s), dtype, 11);
            Tensor dy32 = dy.convert(DType.FLOAT32);
            same("backward of " + spec, x, t -> e.backward(t, t.dtype() == dtype ? dy : dy32, spec));
        }
        for (IndexConvention c : IndexConvention.values()) {
            PooledWithIndices got = e.poolWithIndices(x, MAX, c);
            PooledWithIndices want = e.poolWithIndices(x.convert(DType.FLOAT32), MAX, c);
            assertEquals(want.values().convert(dtype).shorts(), got.values().shorts(), () -> "values, " + c + " on " + s);
            assertArrayEquals(want.indices().toArray(), got.indices().toArray(), () -> "indices, " + c + " on " + s);
        }
    }

    @Test
    void everyOperationInChunks_givesTheWholeTensorsBits() {
        try (PoolingEngine e = PoolingEngine.builder().backend(BackendChoice.CPU).cpuThreads(2).build()) {
            // The chunks do not depend on the storage type (StorageDeviceIT and the storage tests
            // cover bfloat16's conversions): float16 only, to keep the test short.
            everyOperation(e, TensorShape.channelsLast(N, new int[] {48, 48}, 96), DType.FLOAT16);
            everyOperation(e, TensorShape.channelsFirst(N, 96, 48, 48), DType.FLOAT16);
        }
    }

    /** The temporaries kept for the next call are a chunk's, not the whole tensor's float32 copy. */
    @Test
    void temporariesHoldAChunk_notTheWholeTensor() {
        try (WideningBackend b = new WideningBackend(new CpuBackend(2))) {
            Shape in = Shape.of(16, 64, 64, 32);
            Tensor x = random(TensorShape.of(in), DType.FLOAT16, 3);
            Tensor y = Tensor.allocate(MAX.outputShape(in), DType.FLOAT16);
            b.pool(MAX.geometry(in), x, y);
            long whole = (x.byteSize() + y.byteSize()) * 2;
            assertTrue(b.idleBytes() > 0 && b.idleBytes() <= WideningBackend.CHUNK_BYTES,
                    () -> b.idleBytes() + " bytes of temporaries kept; the whole tensors' float32 form is " + whole);
        }
    }
}
