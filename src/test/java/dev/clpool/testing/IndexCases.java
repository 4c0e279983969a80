package dev.clpool.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Tensor;
import dev.clpool.backend.PoolingBackend;
import java.util.ArrayList;
import java.util.List;

/**
 * Seeded max-with-indices cases shared by the CPU sweep and the device sweep: every geometry of
 * {@link RandomCases} (padding rules, dilation, ceil mode, strides beyond the window, odd channel
 * counts, batches, ties on a coarse grid, signed zeros, NaN and infinities) as a max pooling, with
 * the index convention taking turns so that each convention meets every kind of geometry.
 */
public final class IndexCases {

    /** One case: a name that reproduces it, the input, a MAX spec and the convention. */
    public record Case(String name, Tensor input, PoolSpec spec, IndexConvention convention) {
        @Override
        public String toString() {
            return name;
        }
    }

    private IndexCases() {
    }

    /**
     * Max pooling with indices of {@code x} on {@code backend} against {@code reference}, in every
     * index convention: values bit for bit, indices equal.
     */
    public static void assertEveryConventionMatches(PoolingBackend backend, PoolingBackend reference, PoolGeometry g,
                                                    Tensor x, String what) {
        for (IndexConvention conv : IndexConvention.values()) {
            Tensor a = Tensor.allocate(g.output());
            Tensor b = Tensor.allocate(g.output());
            Indices ia = Indices.allocate(g.output(), conv);
            Indices ib = Indices.allocate(g.output(), conv);
            backend.maxWithIndices(g, x, a, ia);
            reference.maxWithIndices(g, x, b, ib);
            Tolerance.assertBitIdentical(a.toArray(), b.toArray(), what + " values " + conv);
            assertArrayEquals(ib.toArray(), ia.toArray(), what + " indices " + conv);
        }
    }

    public static List<Case> generate(long seed, int count) {
        List<Case> out = new ArrayList<>();
        IndexConvention[] conventions = IndexConvention.values();
        for (RandomCases.Case c : RandomCases.generate(seed, count)) {
            PoolSpec s = c.spec();
            PoolSpec max = PoolSpec.builder(PoolMode.MAX).window(s.windowH(), s.windowW())
                    .stride(s.strideH(), s.strideW()).dilation(s.dilationH(), s.dilationW())
                    .padding(s.padding()).ceilMode(s.ceilMode()).build();
            IndexConvention conv = conventions[out.size() % conventions.length];
            String id = c.name().substring(0, c.name().indexOf(' ')); // seed...#attempt, as in RandomCases
            out.add(new Case(id + " " + max + " on " + c.input().shape() + " indices " + conv.word(), c.input(), max, conv));
        }
        return out;
    }
}
