package dev.clpool.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.clpool.DType;
import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.Layout;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import dev.clpool.UnpoolGeometry;
import dev.clpool.backend.PoolingBackend;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded unpooling cases shared by the CPU tests and the device tests: spatial rank 1-3, both
 * layouts, every index convention and storage type, default and given output sizes, values of
 * random bits (NaNs with payloads, signed zeros, infinities: they must be copied, not computed),
 * and indices drawn from few targets, so that many values name one element (the last must win);
 * ONNX cases with N &gt; 1 sometimes point into other batch items.
 *
 * <p>Tensors are built with a 4-D {@link Shape} of the right element count: backends read them as
 * the {@link UnpoolGeometry} says.
 */
public final class UnpoolCases {
    private UnpoolCases() {
    }

    /** One case: a name that reproduces it, the geometry, the storage type, the values' bits and the indices. */
    public record Case(String name, UnpoolGeometry g, DType dtype, int[] values, long[] indices) {
        @Override
        public String toString() {
            return name;
        }

        public Tensor valuesTensor() {
            return tensor(dtype, values);
        }

        public Indices indicesArray() {
            return UnpoolCases.indices(g.convention(), indices);
        }

        /** An output tensor of the right size, every element set to a sentinel pattern. */
        public Tensor output() {
            int[] fill = new int[Math.toIntExact(g.output().elementCount())];
            java.util.Arrays.fill(fill, 0x5a5a5a5a);
            return tensor(dtype, fill);
        }

        /** What {@link NaiveUnpool} gives. */
        public int[] expected() {
            return NaiveUnpool.unpool(g.values(), g.output(), g.convention(), values, indices);
        }
    }

    /** A tensor of {@code dtype} holding {@code bits} (the low 16 bits each for 16-bit types). */
    public static Tensor tensor(DType dtype, int[] bits) {
        ByteBuffer b = ByteBuffer.allocateDirect(bits.length * dtype.byteSize()).order(ByteOrder.nativeOrder());
        for (int i = 0; i < bits.length; i++) {
            if (dtype == DType.FLOAT32) {
                b.putInt(i * 4, bits[i]);
            } else {
                b.putShort(i * 2, (short) bits[i]);
            }
        }
        return Tensor.wrap(Shape.of(1, 1, 1, bits.length), dtype, b);
    }

    /** The element bits of {@code t} (16-bit types zero-extended). */
    public static int[] bits(Tensor t) {
        ByteBuffer b = t.buffer();
        int size = t.dtype().byteSize();
        int[] out = new int[(int) (t.byteSize() / size)];
        for (int i = 0; i < out.length; i++) {
            out[i] = size == 4 ? b.getInt(i * 4) : b.getShort(i * 2) & 0xffff;
        }
        return out;
    }

    public static Indices indices(IndexConvention conv, long[] values) {
        Indices ix = Indices.allocate(Shape.of(1, 1, 1, values.length), conv);
        ix.longs().put(values);
        return ix;
    }

    /** Unpools {@code c} on {@code backend} and checks the output's bits against {@link NaiveUnpool}. */
    public static void assertMatchesNaive(PoolingBackend backend, Case c) {
        Tensor out = c.output();
        backend.unpool(c.valuesTensor(), c.indicesArray(), c.g(), out);
        assertArrayEquals(c.expected(), bits(out), c.name());
    }

    public static List<Case> generate(long seed, int count) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Case> out = new ArrayList<>();
        IndexConvention[] conventions = IndexConvention.values();
        DType[] types = DType.values();
        for (int i = 0; i < count; i++) {
            int rank = 1 + i % 3;
            Layout layout = (i / 3) % 2 == 0 ? Layout.CHANNELS_LAST : Layout.CHANNELS_FIRST;
            IndexConvention conv = conventions[(i / 6) % conventions.length];
            DType dtype = types[r.nextInt(types.length)];
            int n = 1 + r.nextInt(3);
            int c = 1 + r.nextInt(rank == 3 ? 4 : 9);
            int[] spatial = new int[rank];
            int[] k = new int[rank];
            int[] s = new int[rank];
            int[] pb = new int[rank];
            int[] pe = new int[rank];
            int[] size = r.nextBoolean() ? new int[rank] : null;
            for (int a = 0; a < rank; a++) {
                spatial[a] = 1 + r.nextInt(rank == 3 ? 4 : rank == 2 ? 7 : 19);
                k[a] = 1 + r.nextInt(3);
                s[a] = 1 + r.nextInt(3);
                pb[a] = r.nextInt(k[a]);
                pe[a] = r.nextInt(k[a]);
                long d = (long) (spatial[a] - 1) * s[a] + k[a] - pb[a] - pe[a];
                if (d < 1) {
                    pb[a] = 0;
                    pe[a] = 0;
                    d = (long) (spatial[a] - 1) * s[a] + k[a];
                }
                if (size != null) {
                    size[a] = (int) d + r.nextInt(s[a]);
                }
            }
            TensorShape vs = TensorShape.of(n, c, spatial, layout);
            UnpoolGeometry g = UnpoolGeometry.of(vs, k, s, pb, pe, size, conv);
            String name = "#" + i + " seed " + seed + " " + vs.describe() + " " + vs + " -> " + g.output() + " "
                    + conv.word() + " " + dtype.word();
            out.add(new Case(name, g, dtype, randomBits(r, dtype, vs.elementCount()), validIndices(r, g, i % 4 == 3)));
        }
        return out;
    }

    private static int[] randomBits(SplittableRandom r, DType dtype, long count) {
        int[] special32 = {0x7fc00001, 0xffc12345, 0x80000000, 0, 0x7f800000, 0xff800000, 0x7f800001};
        int[] special16 = {0x7e01, 0xfe55, 0x8000, 0, 0x7c00, 0xfc00, 0x7fc1};
        int[] v = new int[(int) count];
        for (int i = 0; i < v.length; i++) {
            boolean special = r.nextInt(8) == 0;
            if (dtype == DType.FLOAT32) {
                v[i] = special ? special32[r.nextInt(special32.length)] : r.nextInt();
            } else {
                v[i] = special ? special16[r.nextInt(special16.length)] : r.nextInt(1 << 16);
            }
            if (v[i] == 0x5a5a5a5a || v[i] == 0x5a5a) {
                v[i] = 1;
            }
        }
        return v;
    }

    /**
     * Indices that name valid elements: each value picks among a few targets of its own batch item
     * (its own plane for pytorch), so duplicates are common; {@code crossItems} lets ONNX indices
     * point into any batch item.
     */
    private static long[] validIndices(SplittableRandom r, UnpoolGeometry g, boolean crossItems) {
        TensorShape vs = g.values();
        TensorShape os = g.output();
        IndexConvention conv = g.convention();
        long[] ix = new long[(int) vs.elementCount()];
        int few = 1 + r.nextInt(4);
        long[] qs = new long[few];
        int[] cs = new int[few];
        for (int j = 0; j < few; j++) {
            qs[j] = r.nextLong(os.spatialSize());
            cs[j] = r.nextInt(os.c());
        }
        for (int n = 0; n < vs.n(); n++) {
            for (int c = 0; c < vs.c(); c++) {
                for (long q = 0; q < vs.spatialSize(); q++) {
                    boolean spread = r.nextInt(3) == 0;
                    int j = r.nextInt(few);
                    long tq = spread ? r.nextLong(os.spatialSize()) : qs[j];
                    int tc = conv == IndexConvention.PYTORCH ? c : spread ? r.nextInt(os.c()) : cs[j];
                    int tn = crossItems && (conv == IndexConvention.ONNX || conv == IndexConvention.ONNX_COLUMN_MAJOR)
                            ? r.nextInt(os.n()) : n;
                    ix[(int) NaiveUnpool.offset(vs, n, c, q)] = NaiveUnpool.index(os, conv, tn, tc, tq);
                }
            }
        }
        return ix;
    }
}
