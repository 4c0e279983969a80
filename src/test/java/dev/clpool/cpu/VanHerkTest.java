package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.testing.NaiveReference;
import dev.clpool.testing.Tolerance;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * The prefix–suffix (van Herk / Gil–Werman) max path against the naive reference, bit for bit:
 * run directly on random geometries the cost model would not give it (strides, dilations,
 * padding, ceil mode, rows split into bands and columns into blocks), on values full of signed
 * zeros and NaNs with distinct payloads, and through the backend on the shapes the model does
 * give it.
 */
class VanHerkTest {
    private static CpuBackend cpu;

    @BeforeAll
    static void open() {
        cpu = new CpuBackend(2);
    }

    @AfterAll
    static void close() {
        cpu.close();
    }

    @RepeatedTest(60)
    void vanHerk_randomGeometry_matchesNaiveReferenceBitForBit(RepetitionInfo info) {
        SplittableRandom r = new SplittableRandom(9100 + info.getCurrentRepetition());
        PoolSpec spec = randomSpec(r, PoolMode.MAX);
        Shape s = randomShape(r, spec);
        boolean nan = r.nextBoolean();
        Tensor x = CpuFastPathTest.zerosAndNans(s, info.getCurrentRepetition(), nan);
        check(spec, s, x, spec + " on " + s + (nan ? " with NaNs" : ""));
    }

    @Test
    void vanHerk_zeroWindowsOfBothSigns_keepTheFirstZero() {
        // Rows of -0 then +0, so the first zero of every window is -0; Math.max alone gives +0.
        Shape s = Shape.of(1, 20, 20, 8);
        Tensor x = Tensor.allocate(s);
        for (int y = 0; y < s.h(); y++) {
            for (int xx = 0; xx < s.w(); xx++) {
                for (int ch = 0; ch < s.c(); ch++) {
                    x.set(0, y, xx, ch, (y + xx + ch) % 3 == 0 ? -0.0f : (xx % 2 == 0 ? 0.0f : -1f));
                }
            }
        }
        check(PoolSpec.max(5, 5).stride(1).padding(Padding.of(2)).build(), s, x, "signed zeros");
    }

    @Test
    void costModel_choosesVanHerkForLargeStrideOneWindows_andNotForTheTunedSmallOnes() {
        assertTrue(MaxVanHerk.pays(spp(13).geometry(Shape.of(8, 40, 40, 256))));
        assertTrue(MaxVanHerk.pays(spp(9).geometry(Shape.of(1, 20, 20, 512))));
        assertFalse(MaxVanHerk.pays(PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build()
                .geometry(Shape.of(2, 112, 112, 64))));
        assertFalse(MaxVanHerk.pays(PoolSpec.max(2, 2).stride(2).build().geometry(Shape.of(2, 112, 112, 64))));
        assertFalse(MaxVanHerk.pays(spp(13).geometry(Shape.of(1, 40, 40, 3))));
    }

    @Test
    void backend_sppWindows_manyBandsAndBlocks_matchNaiveReference() {
        for (int k : new int[] {5, 13}) {
            // 600 columns of 64 channels: two column blocks, and the band budget splits the rows.
            Shape s = Shape.of(2, 19, 600, 64);
            PoolSpec spec = spp(k);
            assertTrue(MaxVanHerk.pays(spec.geometry(s)), "model picks van Herk for " + k);
            Tensor x = CpuFastPathTest.zerosAndNans(s, k, true);
            Tensor y = Tensor.allocate(spec.outputShape(s));
            cpu.pool(spec.geometry(s), x, y);
            // The reference on 8 of the 64 channels, every 9th (each lane position mod 8 once; channels do
            // not mix): all 64 took 20 s on this machine.
            Shape some = Shape.of(s.n(), s.h(), s.w(), 8);
            Tolerance.assertExact(everyNinthChannel(y.toArray(), s.c()),
                    NaiveReference.pool(everyNinthChannel(x.toArray(), s.c()), some, spec), "spp " + k);
        }
    }

    /** Channels 0, 9, ..., 63 of each pixel of {@code c}-channel data. */
    private static float[] everyNinthChannel(float[] v, int c) {
        float[] some = new float[v.length / c * 8];
        for (int i = 0; i < some.length; i++) {
            some[i] = v[i / 8 * c + i % 8 * 9];
        }
        return some;
    }

    /** Windows up to 7 taps, strides and dilations up to 3, any padding, either rounding mode. */
    static PoolSpec randomSpec(SplittableRandom r, PoolMode mode) {
        int kh = 1 + r.nextInt(7);
        int kw = 1 + r.nextInt(7);
        int dh = 1 + r.nextInt(3);
        int dw = 1 + r.nextInt(3);
        int eh = (kh - 1) * dh + 1;
        int ew = (kw - 1) * dw + 1;
        return PoolSpec.builder(mode).window(kh, kw).stride(1 + r.nextInt(3), 1 + r.nextInt(3)).dilation(dh, dw)
                .padding(Padding.of(r.nextInt(eh), r.nextInt(eh), r.nextInt(ew), r.nextInt(ew)))
                .ceilMode(r.nextBoolean()).countIncludePad(r.nextBoolean()).build();
    }

    /** An input at least one effective window tall and wide, up to 20 channels. */
    static Shape randomShape(SplittableRandom r, PoolSpec spec) {
        int eh = (spec.windowH() - 1) * spec.dilationH() + 1;
        int ew = (spec.windowW() - 1) * spec.dilationW() + 1;
        return Shape.of(1 + r.nextInt(2), eh + r.nextInt(12), ew + r.nextInt(12), 1 + r.nextInt(20));
    }

    private static PoolSpec spp(int k) {
        return PoolSpec.max(k, k).stride(1).padding(Padding.of(k / 2)).build();
    }

    private static void check(PoolSpec spec, Shape s, Tensor x, String what) {
        PoolGeometry g = spec.geometry(s);
        Tensor y = Tensor.allocate(g.output());
        MaxVanHerk v = new MaxVanHerk(g);
        int rows = g.output().n() * g.output().h();
        // In two ranges, the first ending inside a batch item, as the backend's chunks may.
        int cut = rows / 2 + 1;
        v.run(x.floats(), y.floats(), 0, Math.min(cut, rows), Scratch.get());
        v.run(x.floats(), y.floats(), Math.min(cut, rows), rows, Scratch.get());
        Tolerance.assertExact(y.toArray(), NaiveReference.pool(x.toArray(), s, spec), what);
    }
}
