package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.clpool.testing.AdaptiveCases;
import dev.clpool.testing.BackwardCases;
import dev.clpool.testing.IndexCases;
import dev.clpool.testing.NaiveAdaptive;
import dev.clpool.testing.NaiveArgmax;
import dev.clpool.testing.NaiveBackward;
import dev.clpool.testing.NaiveReference;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.StorageCases;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * float16 and bfloat16 storage on the CPU path, over the random sweeps: every output equals the
 * float32 result on the widened input rounded once to the storage type (exactly; for the modes
 * whose NaN payload is open, NaN matches NaN), and agrees with
 * the float64 reference rounded to the storage type (max, indices exactly; the rest within one
 * step of the type, since the float32 result may sit on the other side of a rounding boundary).
 */
class StorageCpuTest {
    private static final PoolingEngine CPU = PoolingEngine.builder().backend(BackendChoice.CPU).build();

    @AfterAll
    static void close() {
        CPU.close();
    }

    private static Stream<Arguments> withTypes(List<?> cases) {
        return Arrays.stream(StorageCases.SIXTEEN_BIT).flatMap(t -> cases.stream().map(c -> Arguments.of(t, c)));
    }

    private static Tensor input(Tensor x, DType t, String name) {
        SplittableRandom r = new SplittableRandom(name.hashCode());
        return StorageCases.input(x, t, r, r.nextInt(3) == 0);
    }

    static Stream<Arguments> pool() {
        return withTypes(RandomCases.generate(20261128L, 150));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("pool")
    void pool_isFloat32ResultRoundedOnce(DType t, RandomCases.Case c) {
        Tensor x = input(c.input(), t, c.name());
        Tensor got = CPU.pool(x, c.spec());
        assertEquals(t, got.dtype());
        Tensor want = CPU.pool(x.convert(DType.FLOAT32), c.spec()).convert(t);
        if (c.spec().mode() == PoolMode.MAX) {
            StorageCases.assertSameBits(got, want, c.name());
        } else {
            StorageCases.assertSameValues(got, want, c.name());
        }
        double[] ref = NaiveReference.pool(x.toArray(), x.shape(), c.spec());
        checkAgainstReference(got, ref, c.spec().mode() == PoolMode.MAX, c.name());
    }

    static Stream<Arguments> global() {
        return withTypes(RandomCases.generate(20261129L, 20));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("global")
    void global_isFloat32ResultRoundedOnce(DType t, RandomCases.Case c) {
        Tensor x = input(c.input(), t, c.name());
        for (PoolMode mode : new PoolMode[] {PoolMode.MAX, PoolMode.AVG}) {
            Tensor got = CPU.global(mode, x);
            assertEquals(Shape.of(x.shape().n(), 1, 1, x.shape().c()), got.shape());
            Tensor want = CPU.global(mode, x.convert(DType.FLOAT32)).convert(t);
            if (mode == PoolMode.MAX) {
                StorageCases.assertSameBits(got, want, mode + " " + c.name());
            } else {
                StorageCases.assertSameValues(got, want, mode + " " + c.name());
            }
            checkAgainstReference(got, NaiveReference.global(x.toArray(), x.shape(), mode), mode == PoolMode.MAX,
                    mode + " " + c.name());
        }
    }

    static Stream<Arguments> adaptive() {
        return withTypes(AdaptiveCases.generate(20261130L, 20));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("adaptive")
    void adaptive_isFloat32ResultRoundedOnce(DType t, AdaptiveCases.Case c) {
        Tensor x = input(c.input(), t, c.name());
        Tensor got = CPU.adaptive(c.mode(), x, c.oh(), c.ow());
        Tensor want = CPU.adaptive(c.mode(), x.convert(DType.FLOAT32), c.oh(), c.ow()).convert(t);
        if (c.mode() == PoolMode.MAX) {
            StorageCases.assertSameBits(got, want, c.name());
        } else {
            StorageCases.assertSameValues(got, want, c.name());
        }
        checkAgainstReference(got, NaiveAdaptive.pool(x.toArray(), x.shape(), c.mode(), c.oh(), c.ow()),
                c.mode() == PoolMode.MAX, c.name());
    }

    static Stream<Arguments> indices() {
        return withTypes(IndexCases.generate(20261201L, 20));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("indices")
    void indices_matchFloat32AndReference(DType t, IndexCases.Case c) {
        Tensor x = input(c.input(), t, c.name());
        PooledWithIndices got = CPU.poolWithIndices(x, c.spec(), c.convention());
        PooledWithIndices wide = CPU.poolWithIndices(x.convert(DType.FLOAT32), c.spec(), c.convention());
        StorageCases.assertSameBits(got.values(), wide.values().convert(t), c.name());
        assertArrayEquals(wide.indices().toArray(), got.indices().toArray(), c.name());
        NaiveArgmax.Result ref = NaiveArgmax.pool(x.toArray(), x.shape(), c.spec(), c.convention());
        assertArrayEquals(ref.indices(), got.indices().toArray(), c.name());
        StorageCases.assertSameBits(got.values(), CPU.pool(x, c.spec()), "values equal pool's: " + c.name());
    }

    static Stream<Arguments> backward() {
        return withTypes(BackwardCases.generate(BackwardCases.SEED, 20));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("backward")
    void backward_isFloat32ResultRoundedOnce(DType t, BackwardCases.Case c) {
        Tensor x = input(c.input(), t, c.name());
        Tensor dy = c.gradOutput().convert(t);
        Tensor got = CPU.backward(x, dy, c.spec());
        assertEquals(t, got.dtype());
        StorageCases.assertSameValues(got,
                CPU.backward(x.convert(DType.FLOAT32), dy.convert(DType.FLOAT32), c.spec()).convert(t), c.name());
        checkAgainstReference(got, NaiveBackward.backward(x.toArray(), x.shape(), dy.toArray(), c.spec()), false,
                c.name());
    }

    /**
     * {@code got} against the float64 reference rounded to float and then to the storage type:
     * exact (NaN where it has NaN) when {@code exact}, else within one step of the type.
     */
    static void checkAgainstReference(Tensor got, double[] ref, boolean exact, String what) {
        DType t = got.dtype();
        float[] f = new float[ref.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) ref[i];
        }
        Tensor want = Tensor.of(got.shape(), t, f);
        short[] g = new short[f.length];
        short[] w = new short[f.length];
        got.shorts().get(g);
        want.shorts().get(w);
        for (int i = 0; i < g.length; i++) {
            boolean ok = exact
                    ? (Double.isNaN(ref[i]) ? Float.isNaN(StorageCases.toFloat(t, g[i])) : g[i] == w[i])
                    : StorageCases.withinOneStep(t, g[i], w[i]);
            if (!ok) {
                fail(what + ": element " + i + " is " + StorageCases.show(t, g[i]) + ", reference " + ref[i]
                        + " rounds to " + StorageCases.show(t, w[i]));
            }
        }
        assertTrue(g.length > 0);
    }
}
