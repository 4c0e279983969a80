package dev.clpool.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.DType;
import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.Layout;
import dev.clpool.Padding;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.PooledWithIndices;
import dev.clpool.PoolingEngine;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Runs one {@link NdReference} case through a {@link PoolingEngine}'s N-D API in one layout and
 * checks it against the reference: max, adaptive max, global max, indices and unpooling exact
 * (unpooling only moves values), everything else within SEMANTICS.md's tolerance. Used by the CPU
 * test and by the device test, which also compares the bindings' results.
 */
public final class NdReferenceRun {

    private NdReferenceRun() {
    }

    /** One output of a run: float results or indices. */
    public record Output(TensorShape shape, float[] values, long[] indices) {
    }

    /**
     * Runs {@code c} on {@code engine} with its inputs in {@code layout}, checks every output against
     * the reference and returns them by name ({@code y}, {@code indices}, {@code grad_input}, {@code x}).
     */
    public static Map<String, Output> check(NdReference ref, NdReference.Case c, Layout layout, PoolingEngine engine,
                                            String where) {
        Map<String, Output> got = run(ref, c, layout, engine);
        String what = c.name() + " " + layout.word() + " on " + where;
        for (Map.Entry<String, Output> e : got.entrySet()) {
            NpyArray want = ref.array(c, e.getKey(), layout);
            Output o = e.getValue();
            assertArrayEquals(want.dims(), o.shape().dims(), what + ": " + e.getKey() + " shape");
            assertEquals(layout, o.shape().layout(), what + ": " + e.getKey() + " layout");
            if (o.indices() != null) {
                assertArrayEquals(want.longs(), o.indices(), what + ": indices (" + c.indexConvention() + ")");
            } else if (exact(c)) {
                Tolerance.assertExact(o.values(), want.values(), what + ": " + e.getKey());
            } else {
                Tolerance.assertClose(o.values(), want.values(), ref.tolerance(), what + ": " + e.getKey());
            }
        }
        return got;
    }

    /** Max in every form, and unpooling, must be exact; the rest is within tolerance. */
    static boolean exact(NdReference.Case c) {
        return c.op().equals("unpool") || (!c.op().equals("backward") && "max".equals(c.mode()));
    }

    /** Runs {@code c} with its inputs in {@code layout}; the outputs by the manifest's names. */
    public static Map<String, Output> run(NdReference ref, NdReference.Case c, Layout layout, PoolingEngine engine) {
        Map<String, Output> out = new LinkedHashMap<>();
        switch (c.op()) {
            case "pool" -> out.put("y", floats(engine.pool(input(ref, c, "x", layout), spec(c))));
            case "pool_with_indices" -> {
                PooledWithIndices r = engine.poolWithIndices(input(ref, c, "x", layout), spec(c), convention(c));
                out.put("y", floats(r.values()));
                assertEquals(convention(c), r.indices().convention(), c.name() + ": convention");
                out.put("indices", new Output(r.indices().tensorShape(), null, r.indices().toArray()));
            }
            case "backward" -> out.put("grad_input", floats(engine.backward(input(ref, c, "x", layout),
                    input(ref, c, "grad_output", layout), spec(c))));
            case "adaptive" -> out.put("y", floats(engine.adaptive(mode(c), input(ref, c, "x", layout), c.outputSize())));
            case "global" -> {
                Tensor x = input(ref, c, "x", layout);
                out.put("y", floats(mode(c) == PoolMode.LP ? engine.globalLp(x, c.p()) : engine.global(mode(c), x)));
            }
            case "unpool" -> {
                Tensor values = input(ref, c, "values", layout);
                Indices indices = Indices.allocate(values.tensorShape(), convention(c));
                indices.longs().put(ref.array(c, "indices", layout).longs());
                Tensor x = c.outputSize() == null ? engine.unpool(values, indices, spec(c))
                        : engine.unpool(values, indices, spec(c), c.outputSize());
                out.put("x", floats(x));
            }
            default -> throw new IllegalArgumentException(c.name() + ": unknown op " + c.op());
        }
        return out;
    }

    /** Input {@code array} of {@code c} in {@code layout}, as a float32 tensor. */
    public static Tensor input(NdReference ref, NdReference.Case c, String array, Layout layout) {
        NpyArray a = ref.array(c, array, layout);
        return Tensor.of(TensorShape.fromDims(a.dims(), layout), DType.FLOAT32, a.floats());
    }

    /** The case's spec, every setting per axis (so its rank is the case's). */
    public static PoolSpec spec(NdReference.Case c) {
        PoolSpec.Builder b = PoolSpec.builder(mode(c)).window(c.window());
        if (c.stride() != null) {
            b.stride(c.stride());
        }
        if (c.dilation() != null) {
            b.dilation(c.dilation());
        }
        if (c.padding() != null) {
            b.padding(Padding.parse(c.padding(), c.rank()));
        } else if (c.padBegin() != null) {
            b.padding(Padding.perAxis(c.padBegin(), c.padEnd()));
        }
        if (c.p() != null) {
            b.p(c.p());
        }
        return b.ceilMode(c.ceilMode()).countIncludePad(c.countIncludePad()).build();
    }

    static PoolMode mode(NdReference.Case c) {
        return c.mode() == null ? PoolMode.MAX : PoolMode.parse(c.mode());
    }

    static IndexConvention convention(NdReference.Case c) {
        return IndexConvention.parse(c.indexConvention());
    }

    private static Output floats(Tensor t) {
        return new Output(t.tensorShape(), t.toArray(), null);
    }
}
