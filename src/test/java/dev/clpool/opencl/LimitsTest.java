package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.backend.BackendLimitException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The planning the routines do before any device work: chunks, row bands, pixel ranges and refusals. */
class LimitsTest {

    @Test
    void chunkItems_isTheLeastOverEveryBuffer_andTheOffsetLimit() {
        Limits l = new Limits(1000, Integer.MAX_VALUE);
        // values 100 bytes per item, indices 200: the indices decide
        assertEquals(5, l.chunkItems(50, 400 / 4, 200));
        assertEquals(2, l.chunkItems(50, 400, 100, 200));
        // 32-bit offsets: 60 elements per item, at most 130 elements per buffer
        assertEquals(2, new Limits(1L << 30, 130).chunkItems(60, 240));
        assertEquals(0, l.chunkItems(1, 1001));
    }

    @Test
    void requireChunkItems_refusesAnItemLargerThanAnAllocation_asALimitNotADeviceError() {
        Limits l = new Limits(1000, Integer.MAX_VALUE);
        BackendLimitException e = assertThrows(BackendLimitException.class, () -> l.requireChunkItems(10, 400, 1200));
        assertTrue(e.getMessage().contains("1200 bytes") && e.getMessage().contains("largest allocation (1000 bytes)"), e.getMessage());
        BackendLimitException o = assertThrows(BackendLimitException.class,
                () -> new Limits(1L << 30, 30).requireChunkItems(40, 160));
        assertTrue(o.getMessage().contains("40 elements") && o.getMessage().contains("32-bit offsets"), o.getMessage());
        assertEquals(3, l.requireChunkItems(10, 300));
    }

    @Test
    void rowBands_coverEveryOutputRow_orRefuseWhenOneRowDoesNotFit() {
        PoolSpec spec = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
        PoolGeometry g = spec.geometry(Shape.of(2, 20, 8, 4));
        long inRow = 8 * 4 * Float.BYTES;
        List<RowBands.Band> bands = new Limits(5 * inRow, Integer.MAX_VALUE).rowBands(g, Float.BYTES, Float.BYTES);
        assertEquals(0, bands.get(0).outFrom());
        assertEquals(g.output().h(), bands.get(bands.size() - 1).outTo());
        for (RowBands.Band b : bands) {
            assertTrue(b.inRows() <= 5, b.toString());
        }
        // one output row reads 3 input rows: 2 rows per allocation cannot hold it
        BackendLimitException e = assertThrows(BackendLimitException.class,
                () -> new Limits(2 * inRow, Integer.MAX_VALUE).rowBands(g, Float.BYTES, Float.BYTES));
        assertTrue(e.getMessage().contains("row band"), e.getMessage());
    }

    @Test
    void pixelsPerRange_andResidentTensors_respectBothLimits() {
        Limits l = new Limits(4 * 16 * 10, 16 * 7);
        assertEquals(7, l.pixelsPerRange(100, 16, Float.BYTES)); // the offsets allow 7 pixels, an allocation 10
        assertEquals(3, l.pixelsPerRange(3, 16, Float.BYTES));
        assertThrows(BackendLimitException.class, () -> new Limits(60, 1000).pixelsPerRange(100, 16, Float.BYTES));
        l.checkResident(Shape.of(1, 1, 7, 16), Float.BYTES);
        assertThrows(BackendLimitException.class, () -> l.checkResident(Shape.of(1, 1, 8, 16), Float.BYTES));
        // int64 indices: twice the bytes of values
        assertThrows(BackendLimitException.class, () -> l.checkResident(Shape.of(1, 1, 6, 16), Long.BYTES));
    }
}
