package dev.clpool.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.cpu.CpuBackend;
import dev.clpool.testing.MixedOps;
import dev.clpool.testing.RandomCases;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The batch split across devices, with CPU backends standing in for devices. */
class SplitBackendTest {

    /**
     * The split's clock in {@link #shares_followMeasuredSpeed}: each thread's own count of
     * nanoseconds, which only {@link Slowed} parts run on that thread advance. Load cannot move it.
     */
    private static final ThreadLocal<long[]> THREAD_NANOS = ThreadLocal.withInitial(() -> new long[1]);

    /**
     * A backend that takes {@code nsPerItem} longer per batch item, and can be told to fail: it
     * advances {@link #THREAD_NANOS} by that much and spins that long on the wall clock.
     */
    private static final class Slowed extends CpuDelegate {
        final long nsPerItem;
        volatile boolean fail;
        final AtomicBoolean finished = new AtomicBoolean();

        Slowed(long nsPerItem) {
            this.nsPerItem = nsPerItem;
        }

        @Override
        public void pool(PoolGeometry g, Tensor in, Tensor out) {
            long until = System.nanoTime() + nsPerItem * in.shape().n();
            THREAD_NANOS.get()[0] += nsPerItem * in.shape().n();
            super.pool(g, in, out);
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            if (fail) {
                throw new IllegalStateException("injected failure");
            }
            finished.set(true);
        }
    }

    /** A CPU backend on one thread, as a stand-in device. */
    private static class CpuDelegate implements PoolingBackend {
        private final CpuBackend cpu = new CpuBackend(1);

        @Override
        public String kind() {
            return "cpu";
        }

        @Override
        public String description() {
            return "stand-in";
        }

        @Override
        public void pool(PoolGeometry g, Tensor in, Tensor out) {
            cpu.pool(g, in, out);
        }

        @Override
        public void global(PoolMode mode, Tensor in, Tensor out) {
            cpu.global(mode, in, out);
        }

        @Override
        public void adaptive(AdaptiveGeometry g, Tensor in, Tensor out) {
            cpu.adaptive(g, in, out);
        }

        @Override
        public void backward(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn) {
            cpu.backward(g, in, gradOut, gradIn);
        }

        @Override
        public void close() {
            cpu.close();
        }
    }

    @Test
    void oneDevice_isThatDevice() {
        PoolingBackend only = new CpuDelegate();
        assertSame(only, SplitBackend.of(List.of(only)));
        only.close();
    }

    @Test
    void splitResults_areTheWholeResults_bitForBit() {
        try (CpuBackend whole = new CpuBackend(1);
             PoolingBackend split = SplitBackend.of(List.of(new CpuDelegate(), new CpuDelegate(), new CpuDelegate()))) {
            SplittableRandom r = new SplittableRandom(7);
            for (RandomCases.Case c : RandomCases.generate(20261128L, 60)) {
                Shape s = c.input().shape();
                Tensor x = RandomCases.values(r, Shape.of(1 + r.nextInt(7), s.h(), s.w(), s.c()), r.nextBoolean());
                PoolGeometry g = c.spec().geometry(x.shape());
                Tensor want = Tensor.allocate(g.output());
                Tensor got = Tensor.allocate(g.output());
                whole.pool(g, x, want);
                split.pool(g, x, got);
                assertArrayEquals(MixedOps.bits(want), MixedOps.bits(got), c.name() + " on " + x.shape());

                Tensor gw = Tensor.allocate(Shape.of(x.shape().n(), 1, 1, s.c()));
                Tensor gg = Tensor.allocate(gw.shape());
                whole.global(PoolMode.AVG, x, gw);
                split.global(PoolMode.AVG, x, gg);
                assertArrayEquals(MixedOps.bits(gw), MixedOps.bits(gg), "global avg on " + x.shape());

                AdaptiveGeometry ag = AdaptiveGeometry.of(PoolMode.MAX, x.shape(), 2, 3);
                Tensor aw = Tensor.allocate(ag.output());
                Tensor ad = Tensor.allocate(ag.output());
                whole.adaptive(ag, x, aw);
                split.adaptive(ag, x, ad);
                assertArrayEquals(MixedOps.bits(aw), MixedOps.bits(ad), "adaptive max on " + x.shape());

                if (c.spec().mode() != PoolMode.LP) {
                    Tensor gradOut = RandomCases.values(r, g.output(), false);
                    Tensor bw = Tensor.allocate(x.shape());
                    Tensor bs = Tensor.allocate(x.shape());
                    whole.backward(g, x, gradOut, bw);
                    split.backward(g, x, gradOut, bs);
                    assertArrayEquals(MixedOps.bits(bw), MixedOps.bits(bs), "backward " + c.name());
                }
            }
        }
    }

    @Test
    void shares_followMeasuredSpeed() {
        Slowed fast = new Slowed(20_000);
        Slowed slow = new Slowed(80_000);
        SplitBackend split = (SplitBackend) SplitBackend.of(List.of(slow, fast), () -> THREAD_NANOS.get()[0]);
        try {
            assertArrayEquals(new double[] {0.5, 0.5}, split.shares(), 1e-12);
            Tensor x = Tensor.allocate(Shape.of(40, 4, 4, 2));
            PoolGeometry g = dev.clpool.PoolSpec.max(2, 2).build().geometry(x.shape());
            Tensor out = Tensor.allocate(g.output());
            for (int i = 0; i < 12; i++) {
                split.pool(g, x, out);
            }
            // Four times the time per item, on the test's clock: a fifth of the batch for the slow one.
            assertArrayEquals(new double[] {0.2, 0.8}, split.shares(), 1e-9);
            assertArrayEquals(new int[] {8, 32}, split.counts(40));
        } finally {
            split.close();
        }
    }

    @Test
    void aFailingPart_isThrown_afterTheOtherPartsFinish() {
        Slowed failing = new Slowed(0);
        Slowed other = new Slowed(30_000_000); // 30 ms per item: still running when the first part fails
        failing.fail = true;
        try (PoolingBackend split = SplitBackend.of(List.of(failing, other))) {
            Tensor x = Tensor.allocate(Shape.of(4, 4, 4, 1));
            PoolGeometry g = dev.clpool.PoolSpec.max(2, 2).build().geometry(x.shape());
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> split.pool(g, x, Tensor.allocate(g.output())));
            assertEquals("injected failure", e.getMessage());
            assertTrue(other.finished.get(), "the other device's part was still running when the failure was thrown");
        }
    }
}
