package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.testing.NaiveUnpool;
import org.junit.jupiter.api.Test;

/**
 * The unpooling geometry: default and given output sizes with their refusals, and the decoding of
 * every index convention in ranks 1-3 and both layouts, by hand and against NaiveUnpool.
 */
class UnpoolGeometryTest {

    private static int[] of(int... v) {
        return v;
    }

    @Test
    void defaultSize_isInMinusOneTimesStridePlusWindowMinusPadding() {
        assertEquals(4, UnpoolGeometry.defaultSize(2, 2, 2, 0, 0));
        assertEquals(11, UnpoolGeometry.defaultSize(5, 3, 2, 0, 0));
        assertEquals(9, UnpoolGeometry.defaultSize(5, 3, 2, 1, 1));
        assertEquals(1, UnpoolGeometry.defaultSize(1, 1, 1, 0, 0));
    }

    @Test
    void of_computesDefaultOutputPerAxis_inEveryRankAndLayout() {
        TensorShape v3 = TensorShape.channelsFirst(2, 3, 2, 3, 4);
        UnpoolGeometry g = UnpoolGeometry.of(v3, of(2, 2, 2), of(2, 1, 3), of(0, 0, 1), of(0, 1, 0), null, IndexConvention.ONNX);
        assertEquals(TensorShape.channelsFirst(2, 3, 4, 3, 10), g.output());
        TensorShape v1 = TensorShape.channelsLast(1, new int[] {5}, 2);
        assertEquals(TensorShape.channelsLast(1, new int[] {10}, 2),
                UnpoolGeometry.of(v1, of(2), of(2), of(0), of(0), null, IndexConvention.NHWC).output());
    }

    @Test
    void givenOutputSize_mayExceedTheDefaultByLessThanTheStride() {
        TensorShape v = TensorShape.channelsLast(1, new int[] {2, 2}, 1);
        int[] k = of(2, 2);
        int[] s = of(2, 2);
        int[] p = of(0, 0);
        assertEquals(TensorShape.channelsLast(1, new int[] {5, 4}, 1),
                UnpoolGeometry.of(v, k, s, p, p, of(5, 4), IndexConvention.PYTORCH).output());
        InvalidSpecException big = assertThrows(InvalidSpecException.class,
                () -> UnpoolGeometry.of(v, k, s, p, p, of(6, 4), IndexConvention.PYTORCH));
        assertEquals("output size", big.field());
        assertTrue(big.getMessage().contains("[4, 5]"), big.getMessage());
        assertThrows(InvalidSpecException.class, () -> UnpoolGeometry.of(v, k, s, p, p, of(4, 3), IndexConvention.PYTORCH));
    }

    /** Each row: what is wrong, and the refusal. */
    @Test
    void invalidRequests_areRefusedNamingTheField() {
        TensorShape v = TensorShape.channelsLast(1, new int[] {3, 3}, 2);
        int[] one = of(1, 1);
        int[] zero = of(0, 0);
        // window 0: no pooling had it
        assertEquals("window", assertThrows(InvalidSpecException.class,
                () -> UnpoolGeometry.of(v, of(0, 2), one, zero, zero, null, IndexConvention.NHWC)).field());
        // stride 0
        assertEquals("stride", assertThrows(InvalidSpecException.class,
                () -> UnpoolGeometry.of(v, one, of(1, 0), zero, zero, null, IndexConvention.NHWC)).field());
        // negative padding
        assertEquals("padding", assertThrows(InvalidSpecException.class,
                () -> UnpoolGeometry.of(v, one, one, of(-1, 0), zero, null, IndexConvention.NHWC)).field());
        // padding that leaves nothing: (1-1)*1 + 1 - 1 - 0 = 0
        TensorShape tiny = TensorShape.channelsLast(1, new int[] {1, 1}, 1);
        assertEquals("output size", assertThrows(InvalidSpecException.class,
                () -> UnpoolGeometry.of(tiny, one, one, of(1, 0), zero, null, IndexConvention.NHWC)).field());
        // one window for a 2-D tensor
        assertThrows(IllegalArgumentException.class, () -> UnpoolGeometry.of(v, of(2), one, zero, zero, null, IndexConvention.NHWC));
        // an output that changes C
        assertThrows(IllegalArgumentException.class, () -> new UnpoolGeometry(v, TensorShape.channelsLast(1, new int[] {3, 3}, 3),
                IndexConvention.NHWC));
    }

    @Test
    void target_decodesInTheOutputShape_2dChannelsLast() {
        // values (1, 2, 2, 2) unpooled 2x2 s2 to (1, 5, 5, 2): an odd-sized output, as PyTorch's rule wants.
        UnpoolGeometry g = UnpoolGeometry.of(TensorShape.channelsLast(1, new int[] {2, 2}, 2), of(2, 2), of(2, 2),
                of(0, 0), of(0, 0), of(5, 5), IndexConvention.PYTORCH);
        // pytorch: y*W + x in the 5x5 plane, channel kept: (y=1, x=3, c=1) -> ((1*5 + 3)*2 + 1)
        assertEquals((1 * 5 + 3) * 2 + 1, g.target(0, 1, 1 * 5 + 3));
        assertEquals(-1, g.target(0, 1, 25));
        assertEquals(-1, g.target(0, 1, -1));
        UnpoolGeometry nhwc = new UnpoolGeometry(g.values(), g.output(), IndexConvention.NHWC);
        // nhwc: (y*W + x)*C + c' may name another channel
        assertEquals((2 * 5 + 4) * 2 + 0, nhwc.target(0, 1, (2 * 5 + 4) * 2 + 0));
        assertEquals(-1, nhwc.target(0, 0, 50));
    }

    @Test
    void target_onnxConventions_countTheWholeTensor_channelsFirst3d() {
        TensorShape v = TensorShape.channelsFirst(2, 3, 1, 2, 2);
        UnpoolGeometry g = UnpoolGeometry.of(v, of(2, 2, 2), of(2, 2, 2), of(0, 0, 0), of(0, 0, 0), null, IndexConvention.ONNX);
        TensorShape o = g.output(); // (2, 3, 2, 4, 4)
        assertEquals(TensorShape.channelsFirst(2, 3, 2, 4, 4), o);
        // item 1, channel 2, (z=1, y=3, x=0): onnx ((n*C + c)*D + z)*H + y)*W + x
        long i = (((1 * 3 + 2) * 2 + 1) * 4 + 3) * 4;
        assertEquals(i, g.target(0, 0, i)); // channels-first storage is onnx order itself
        UnpoolGeometry cm = new UnpoolGeometry(v, o, IndexConvention.ONNX_COLUMN_MAJOR);
        // column-major: (((n*C + c)*W + x)*H + y)*D + z
        long j = (((1 * 3 + 2) * 4 + 0) * 4 + 3) * 2 + 1;
        assertEquals(i, cm.target(0, 0, j));
        assertEquals(-1, cm.target(0, 0, o.elementCount()));
        assertTrue(new UnpoolGeometry(TensorShape.channelsFirst(1, 3, 1, 2, 2), TensorShape.channelsFirst(1, 3, 2, 4, 4),
                IndexConvention.ONNX).itemsIndependent());
        assertFalse(g.itemsIndependent());
    }

    @Test
    void target_agreesWithNaiveDecoding_everyRankLayoutConvention() {
        for (int rank = 1; rank <= 3; rank++) {
            int[] spatial = rank == 1 ? of(3) : rank == 2 ? of(2, 3) : of(2, 1, 3);
            for (Layout layout : Layout.values()) {
                TensorShape v = TensorShape.of(2, 3, spatial, layout);
                int[] k = new int[rank];
                int[] s = new int[rank];
                int[] p = new int[rank];
                java.util.Arrays.fill(k, 2);
                java.util.Arrays.fill(s, 2);
                for (IndexConvention conv : IndexConvention.values()) {
                    UnpoolGeometry g = UnpoolGeometry.of(v, k, s, p, p, null, conv);
                    TensorShape o = g.output();
                    for (int n = 0; n < o.n(); n++) {
                        for (int c = 0; c < o.c(); c++) {
                            for (long q = 0; q < o.spatialSize(); q++) {
                                long index = NaiveUnpool.index(o, conv, n, c, q);
                                int from = conv == IndexConvention.ONNX || conv == IndexConvention.ONNX_COLUMN_MAJOR ? 0 : n;
                                int ch = conv == IndexConvention.PYTORCH ? c : 0;
                                assertEquals(NaiveUnpool.offset(o, n, c, q), g.target(from, ch, index),
                                        rank + "-D " + layout + " " + conv + " n=" + n + " c=" + c + " q=" + q);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void channelsLastPosition_andStorageOffset_areInverse() {
        UnpoolGeometry g = UnpoolGeometry.of(TensorShape.channelsFirst(2, 3, 2, 5), of(1, 1), of(1, 1), of(0, 0), of(0, 0),
                null, IndexConvention.ONNX);
        boolean[] seen = new boolean[60];
        for (long s = 0; s < 60; s++) {
            long p = g.channelsLastPosition(s);
            assertEquals(s, g.storageOffset(p));
            seen[(int) p] = true;
        }
        for (boolean b : seen) {
            assertTrue(b);
        }
        // (n=1, c=2, q=7): storage (1*3 + 2)*10 + 7, channels-last (1*10 + 7)*3 + 2
        assertEquals((1 * 10 + 7) * 3 + 2, g.channelsLastPosition((1 * 3 + 2) * 10 + 7));
    }

    @Test
    void badIndex_namesIndexPositionCoordinatesAndRange() {
        UnpoolGeometry g = UnpoolGeometry.of(TensorShape.channelsLast(1, new int[] {2, 2}, 2), of(2, 2), of(2, 2),
                of(0, 0), of(0, 0), null, IndexConvention.PYTORCH);
        String m = g.badIndex(5, 99).getMessage();
        assertTrue(m.contains("index 99"), m);
        assertTrue(m.contains("position 5"), m);
        assertTrue(m.contains("n=0, c=1, at 1,0"), m);
        assertTrue(m.contains("[0, 16)"), m);
        assertArrayEquals(of(1, 4, 4, 2), g.output().dims());
    }
}
