package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/** The engine's reusable host memory: reuse, bounds, threads, the garbage collector, close. */
// Alone, not beside another test class (the unit tests run two classes at a time): it waits on the
// collector and sizes against the heap: other classes' allocations would move both.
@Isolated
class HostMemoryPoolTest {
    private static final Shape SHAPE = Shape.of(1, 64, 64, 16); // 256 KiB of float32

    @Test
    void closedBlock_isReusedByTheNextTensorOfItsSizeClass() {
        HostMemoryPool pool = new HostMemoryPool(1 << 20);
        Tensor a = pool.tensor(SHAPE, DType.FLOAT32);
        a.floats().put(0, 42f);
        a.close();
        assertEquals(HostMemorySizes.classBytes(a.byteSize()), pool.idleBytes());
        Tensor b = pool.tensor(Shape.of(1, 63, 64, 16), DType.FLOAT32); // same class, a little smaller
        assertEquals(1, pool.allocatedBlocks());
        assertEquals(42f, b.floats().get(0), "the block, not zeroed: outputs are overwritten anyway");
        assertEquals(0, pool.idleBytes());
        b.close();
    }

    @Test
    void zeroedTake_clearsAReusedBlock_andBlocksArePageAligned() {
        HostMemoryPool pool = new HostMemoryPool(1 << 20);
        Tensor a = pool.tensor(SHAPE, DType.FLOAT32);
        a.floats().put(5, 1f);
        a.close();
        Tensor z = Tensor.allocate(pool, TensorShape.of(SHAPE), DType.FLOAT32, true);
        assertEquals(1, pool.allocatedBlocks());
        FloatBuffer f = z.floats();
        for (int i = 0; i < f.limit(); i++) {
            assertEquals(0f, f.get(i));
        }
        assertEquals(0, z.buffer().alignmentOffset(0, HostMemorySizes.PAGE));
    }

    @Test
    void sizeClasses_wasteAtMostAQuarter() {
        for (long bytes = 1; bytes < (1L << 31) - (1 << 24); bytes = bytes * 3 / 2 + 7) {
            long c = HostMemorySizes.classBytes(bytes);
            assertTrue(c >= bytes && c % HostMemorySizes.PAGE == 0, bytes + " -> " + c);
            long pages = (bytes + HostMemorySizes.PAGE - 1) / HostMemorySizes.PAGE;
            assertTrue(c <= Math.max(pages * HostMemorySizes.PAGE * 5 / 4, HostMemorySizes.PAGE * 4L), bytes + " -> " + c);
        }
    }

    @Test
    void idleBytes_stayWithinTheBound() {
        long cls = HostMemorySizes.classBytes(SHAPE.elementCount() * Float.BYTES);
        HostMemoryPool pool = new HostMemoryPool(2 * cls);
        List<Tensor> ts = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ts.add(pool.tensor(SHAPE, DType.FLOAT32));
        }
        assertEquals(5 * cls, pool.lentBytes());
        ts.forEach(Tensor::close);
        assertEquals(2 * cls, pool.idleBytes());
        assertEquals(0, pool.lentBytes());
        HostMemoryPool none = new HostMemoryPool(0);
        none.tensor(SHAPE, DType.FLOAT32).close();
        assertEquals(0, none.idleBytes());
    }

    @Test
    void close_dropsIdleBlocks_andLaterReturns_butOpenTensorsStayValid() {
        HostMemoryPool pool = new HostMemoryPool(1 << 24);
        Tensor open = pool.tensor(SHAPE, DType.FLOAT32);
        pool.tensor(SHAPE, DType.FLOAT32).close();
        assertTrue(pool.idleBytes() > 0);
        pool.close();
        assertEquals(0, pool.idleBytes());
        open.floats().put(3, 7f);
        assertEquals(7f, open.floats().get(3));
        open.close();
        assertEquals(0, pool.idleBytes(), "returned after close: dropped");
    }

    @Test
    void engineClose_releasesItsPool_resultsStayUsable() {
        Tensor y;
        try (PoolingEngine e = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            Tensor x = Tensor.of(Shape.of(1, 2, 2, 1), 1, 2, 3, 4);
            e.pool(x, PoolSpec.max(1, 1).build()).close();
            y = e.pool(x, PoolSpec.max(2, 2).build());
        }
        assertEquals(4f, y.get(0, 0, 0, 0));
        y.close();
    }

    @Test
    void droppedTensor_isTakenOffTheLentCount_afterCollection() throws InterruptedException {
        HostMemoryPool pool = new HostMemoryPool(1 << 24);
        dropOne(pool);
        assertTrue(pool.lentBytes() > 0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (pool.lentBytes() > 0 && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(0, pool.lentBytes(), "the dropped tensor's block was not recovered");
    }

    private static void dropOne(HostMemoryPool pool) {
        pool.tensor(SHAPE, DType.FLOAT32).floats().put(0, 1f);
    }

    @Test
    void theDefaultBound_isAQuarterOfTheDirectMemory_withinOneAndFourGiB() {
        long bound = HostMemorySizes.defaultMaxBytes();
        assertTrue(bound >= 1L << 30 && bound <= 4L << 30, "bound " + bound);
        long quarter = Runtime.getRuntime().maxMemory() / 4; // no -XX:MaxDirectMemorySize in the test JVM
        assertEquals(Math.max(1L << 30, Math.min(4L << 30, quarter)), bound);
    }

    @Test
    void aViewKeepsTheBlock_soItIsNeverReusedUnderIt() throws InterruptedException {
        HostMemoryPool pool = new HostMemoryPool(1 << 24);
        FloatBuffer view = viewOfDropped(pool);
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(20);
        }
        Tensor other = pool.tensor(SHAPE, DType.FLOAT32);
        other.floats().put(0, -1f);
        assertEquals(123f, view.get(0), "a block was reused while a view of it lived");
        assertTrue(pool.lentBytes() > 0);
    }

    private static FloatBuffer viewOfDropped(HostMemoryPool pool) {
        FloatBuffer f = pool.tensor(SHAPE, DType.FLOAT32).floats();
        f.put(0, 123f);
        return f;
    }

    @Test
    void batchViews_closeWithTheirOwner_andDoNotReturnTheBlockThemselves() {
        HostMemoryPool pool = new HostMemoryPool(1 << 24);
        Tensor t = pool.tensor(Shape.of(4, 8, 8, 2), DType.FLOAT32);
        Tensor view = t.batch(1, 2);
        view.close();
        assertEquals(0, pool.idleBytes());
        assertFalse(t.isClosed());
        Tensor view2 = t.batch(0, 1);
        t.close();
        assertTrue(view2.isClosed());
        assertThrows(IllegalStateException.class, view2::buffer);
        t.close(); // idempotent: not returned twice
        assertEquals(HostMemorySizes.classBytes(t.byteSize()), pool.idleBytes());
    }

    @Test
    void concurrentTakeAndReturn_neverGiveOneBlockToTwoLiveTensors() throws Exception {
        HostMemoryPool pool = new HostMemoryPool(8 * HostMemorySizes.classBytes(SHAPE.elementCount() * Float.BYTES));
        int threads = 8;
        ExecutorService ex = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                byte id = (byte) (t + 1);
                fs.add(ex.submit(() -> {
                    for (int round = 0; round < 200; round++) {
                        Shape s = round % 2 == 0 ? SHAPE : Shape.of(1, 60, 64, 16);
                        Tensor a = pool.tensor(s, DType.FLOAT32);
                        ByteBuffer b = a.buffer();
                        for (int i = 0; i < b.limit(); i += 512) {
                            b.put(i, id);
                        }
                        Thread.yield();
                        for (int i = 0; i < b.limit(); i += 512) {
                            if (b.get(i) != id) {
                                throw new AssertionError("block shared: thread " + id + " saw " + b.get(i));
                            }
                        }
                        a.close();
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            ex.shutdownNow();
        }
        assertEquals(0, pool.lentBytes());
        assertTrue(pool.idleBytes() <= 8 * HostMemorySizes.classBytes(SHAPE.elementCount() * Float.BYTES));
        assertTrue(pool.allocatedBlocks() <= 2 * threads, "blocks were reused: " + pool.allocatedBlocks());
    }

    @Test
    void closedPooledIndices_areRefused_andTheirBlockReused() {
        HostMemoryPool pool = new HostMemoryPool(1 << 24);
        Indices i = Indices.allocate(pool, TensorShape.of(SHAPE), IndexConvention.NHWC);
        i.close();
        assertThrows(IllegalStateException.class, i::toArray);
        Indices j = Indices.allocate(pool, TensorShape.of(SHAPE), IndexConvention.PYTORCH);
        assertNotSame(i, j);
        assertEquals(1, pool.allocatedBlocks());
    }
}
