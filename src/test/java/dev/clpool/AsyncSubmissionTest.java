package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.testing.Fuzz;
import dev.clpool.testing.MixedOps;
import dev.clpool.testing.MixedOps.Op;
import dev.clpool.testing.Ramps;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Asynchronous submission on the CPU path: same results, submission order, close() lets it finish. */
class AsyncSubmissionTest {

    private static PoolingEngine cpu() {
        return PoolingEngine.builder().backend(BackendChoice.CPU).build();
    }

    @Test
    void asyncOps_matchSerial_inOrder_andCloseWaitsForThem() {
        List<Op> ops = MixedOps.anySpecs(Fuzz.caseSeed("async/cpu", 0), 120);
        List<int[]> want;
        try (PoolingEngine serial = cpu()) {
            want = MixedOps.serial(serial, ops);
        }
        MixedOps.assertAsyncMatchesAndCloseWaits(cpu(), ops, want, "cpu engine");
    }

    @Test
    void invalidSpec_isRefusedAtSubmission_notInTheFuture() {
        try (PoolingEngine e = cpu()) {
            Tensor x = Tensor.allocate(Shape.of(1, 2, 2, 1));
            PoolSpec tooBig = PoolSpec.max(5, 5).build();
            assertThrows(InvalidSpecException.class, () -> e.poolAsync(x, tooBig));
            assertThrows(InvalidSpecException.class, () -> e.poolAsync(x, PoolSpec.max(2, 2, 2).build()));
        }
    }

    @Test
    void submit_runsAnyWork_andCarriesItsException() throws Exception {
        try (PoolingEngine e = cpu()) {
            Tensor x = Ramps.ramp(4, 4);
            CompletableFuture<Tensor> chained = e.submit(en -> {
                try (DeviceTensor d = en.upload(x); DeviceTensor p = en.pool(d, PoolSpec.max(2, 2).build())) {
                    return p.download();
                }
            });
            assertArrayEquals(new float[] {5, 7, 13, 15}, chained.get(1, TimeUnit.MINUTES).toArray());
            CompletableFuture<Tensor> failing = e.submit(en -> en.adaptiveAvg(x, 0, 1));
            CompletionException thrown = assertThrows(CompletionException.class, failing::join);
            assertInstanceOf(InvalidSpecException.class, thrown.getCause());
            // The queue goes on after a failed operation.
            assertEquals(1, e.globalAsync(PoolMode.MAX, x).join().shape().c());
        }
    }

    @Test
    void downloadAsync_givesTheContents() {
        try (PoolingEngine e = cpu(); DeviceTensor d = e.upload(Ramps.ramp(2, 2))) {
            assertArrayEquals(new float[] {0, 1, 2, 3}, d.downloadAsync().join().toArray());
        }
    }

    @Test
    void closeFromASubmittedOperation_doesNotDeadlock() throws Exception {
        PoolingEngine e = cpu();
        Tensor x = Ramps.ramp(2, 2);
        CompletableFuture<Boolean> closing = e.submit(en -> {
            en.close();
            return true;
        });
        assertTrue(closing.get(1, TimeUnit.MINUTES));
        assertThrows(IllegalStateException.class, () -> e.poolAsync(x, PoolSpec.max(1, 1).build()));
    }
}
