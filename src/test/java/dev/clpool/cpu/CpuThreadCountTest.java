package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.clpool.BackendChoice;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.PoolingEngine;
import dev.clpool.PooledWithIndices;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Small operations run in the calling thread and large ones on the pool: each operation on an
 * input large enough to be split over three threads, and on one small enough to stay in the
 * calling thread, gives the bits that one thread gives (every result is written by one task, so
 * the split must not change it).
 */
class CpuThreadCountTest {
    private static final PoolingEngine ONE = PoolingEngine.builder().backend(BackendChoice.CPU).cpuThreads(1).build();
    private static final PoolingEngine THREE = PoolingEngine.builder().backend(BackendChoice.CPU).cpuThreads(3).build();
    private static final Shape LARGE = Shape.of(2, 45, 38, 24);
    private static final Shape SMALL = Shape.of(1, 6, 5, 3);
    private static final PoolSpec MAX = PoolSpec.parse("max k=3x3 s=2x2 pad=1,1,1,1");
    private static final PoolSpec AVG = PoolSpec.parse("avg k=3x2 s=1x2 pad=1,0,1,0");

    @AfterAll
    static void close() {
        ONE.close();
        THREE.close();
    }

    private static Tensor random(Shape s, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextInt(4) == 0 ? 0f : (float) r.nextGaussian();
        }
        return Tensor.of(s, v);
    }

    private static void same(Function<PoolingEngine, float[]> op) {
        assertArrayEquals(op.apply(ONE), op.apply(THREE));
    }

    @Test
    void everyOperation_sameBitsOnOneAndThreeThreads() {
        for (Shape s : new Shape[] {LARGE, SMALL}) {
            Tensor x = random(s, s.elementCount());
            same(e -> e.adaptive(PoolMode.AVG, x, 5, 4).toArray());
            same(e -> e.adaptive(PoolMode.MAX, x, 4, 3).toArray());
            same(e -> e.pool(x, PoolSpec.parse("lp k=3x3 s=1x1 pad=1,1,1,1 p=3")).toArray());
            for (PoolSpec spec : new PoolSpec[] {MAX, AVG}) {
                Tensor dy = random(spec.outputShape(s), 7);
                same(e -> e.backward(x, dy, spec).toArray());
            }
            same(e -> {
                PooledWithIndices r = e.poolWithIndices(x, MAX);
                float[] v = r.values().toArray();
                long[] idx = r.indices().toArray();
                float[] both = new float[v.length + idx.length];
                System.arraycopy(v, 0, both, 0, v.length);
                for (int i = 0; i < idx.length; i++) {
                    both[v.length + i] = idx[i];
                }
                return both;
            });
        }
    }
}
