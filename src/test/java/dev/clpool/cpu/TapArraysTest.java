package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Max backward's kept tap array ({@link TapArrays}): reused between calls, and never read before a
 * call has written every element of it, so a kept array full of stale taps changes no gradient.
 * Isolated: the kept array is the process's, and another class's backward would take it.
 */
@Isolated
class TapArraysTest {
    @Test
    void aKeptArrayIsLentAgainToOneCallAtATime() {
        TapArrays.clear();
        int[] a = TapArrays.take(1000);
        TapArrays.give(a);
        int[] again = TapArrays.take(a.length);
        assertSame(a, again, "the kept array is long enough");
        assertNotSame(a, TapArrays.take(1), "lent already: the next call gets its own");
        TapArrays.give(again);
        assertNotSame(a, TapArrays.take(a.length + 1), "too short");
    }

    /** Calls that overlap (the lanes of a 16-bit batch) each find a kept array next time, up to the slots. */
    @Test
    void arraysLentAtOnceAreAllKept() {
        TapArrays.clear();
        int[][] lent = new int[TapArrays.SLOTS + 1][];
        for (int i = 0; i < lent.length; i++) {
            lent[i] = TapArrays.take(100 + i);
        }
        for (int[] a : lent) {
            TapArrays.give(a);
        }
        java.util.Set<int[]> again = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (int i = 0; i < TapArrays.SLOTS; i++) {
            again.add(TapArrays.take(100));
        }
        for (int i = 1; i < lent.length; i++) {
            assertTrue(again.contains(lent[i]), "kept: the longer ones, array " + i);
        }
        assertFalse(again.contains(lent[0]), "the shortest was given up for a longer one");
    }

    @ParameterizedTest(name = "c={0}, vectors={1}, planes={2}")
    @CsvSource({"64,true,true", "64,false,true", "1,true,true", "1,false,true", "1,true,false", "3,false,true"})
    void staleTapsInTheKeptArrayChangeNothing(int c, boolean vectors, boolean planes) {
        SplittableRandom r = new SplittableRandom(31 + c);
        PoolSpec spec = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
        Shape s = Shape.of(2, 9, 11, c);
        float[] xs = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) r.nextGaussian();
        }
        PoolGeometry g = spec.geometry(s);
        float[] dys = new float[Math.toIntExact(g.output().elementCount())];
        for (int i = 0; i < dys.length; i++) {
            dys[i] = (float) r.nextGaussian();
        }
        Tensor x = Tensor.of(s, xs);
        Tensor dy = Tensor.of(g.output(), dys);
        Tensor want = Tensor.allocate(s);
        CpuBackward.run(g, x, dy, want, TestParallel.ONE_THREAD, planes, vectors);
        for (int stale : new int[] {0, 4, 8, -1, Integer.MAX_VALUE}) {
            // Every tap names one window element; 0 and 8 name the wrong ones, the others none.
            int[] kept = new int[dys.length + 17];
            Arrays.fill(kept, stale);
            TapArrays.clear(); // whatever is kept goes, so that the stale array is the one kept
            TapArrays.give(kept);
            Tensor got = Tensor.allocate(s);
            CpuBackward.run(g, x, dy, got, TestParallel.ONE_THREAD, planes, vectors);
            assertArrayEquals(VecArgmaxTest.bits(want), VecArgmaxTest.bits(got), "kept taps of " + stale);
        }
    }
}
