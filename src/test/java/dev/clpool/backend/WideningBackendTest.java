package dev.clpool.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.BackendChoice;
import dev.clpool.DType;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The float32 temporaries that {@link WideningBackend} keeps between calls: a temporary reused for
 * a smaller tensor, then a larger one again, and calls on several threads at once, must each give
 * exactly the float32 result of the widened input rounded once (max and avg, forward and backward).
 */
class WideningBackendTest {
    private static final PoolSpec MAX = PoolSpec.parse("max k=3x3 s=2x2 pad=1,1,1,1");
    private static final PoolSpec AVG = PoolSpec.parse("avg k=3x3 s=1x1 pad=1,1,1,1");

    private static Tensor half(Shape s, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble(-4, 4));
        }
        return Tensor.of(s, DType.FLOAT16, v);
    }

    /** The engine's result for a float16 input against the float32 result on the widened input, rounded once. */
    private static void check(PoolingEngine engine, Shape s, long seed) {
        Tensor x = half(s, seed);
        Tensor x32 = x.convert(DType.FLOAT32);
        for (PoolSpec spec : List.of(MAX, AVG)) {
            Tensor got = engine.pool(x, spec);
            Tensor want = engine.pool(x32, spec).convert(DType.FLOAT16);
            assertEquals(want.shorts(), got.shorts(), () -> spec + " on " + s);
            Tensor dx = engine.backward(x, got, spec);
            Tensor want32 = engine.backward(x32, got.convert(DType.FLOAT32), spec).convert(DType.FLOAT16);
            assertEquals(want32.shorts(), dx.shorts(), () -> "backward of " + spec + " on " + s);
            Tensor g = engine.global(PoolMode.AVG, x);
            assertEquals(engine.global(PoolMode.AVG, x32).convert(DType.FLOAT16).shorts(), g.shorts(), () -> "global on " + s);
        }
    }

    @Test
    void temporaries_reusedForSmallerAndLargerTensors() {
        try (PoolingEngine engine = PoolingEngine.builder().backend(BackendChoice.CPU).cpuThreads(2).build()) {
            check(engine, Shape.of(2, 64, 48, 16), 1);
            check(engine, Shape.of(1, 9, 7, 5), 2);
            check(engine, Shape.of(3, 64, 64, 16), 3);
            check(engine, Shape.of(1, 9, 7, 5), 4);
        }
    }

    @Test
    void temporaries_sharedByConcurrentCalls() throws Exception {
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try (PoolingEngine engine = PoolingEngine.builder().backend(BackendChoice.CPU).cpuThreads(2).build()) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                Shape s = t % 2 == 0 ? Shape.of(2, 40, 40, 8) : Shape.of(1, 13, 11, 24);
                long seed = 100 + t;
                done.add(callers.submit(() -> check(engine, s, seed)));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            callers.shutdown();
        }
    }
}
