package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.cpu.CpuBackend;
import dev.clpool.cpu.CpuPaths;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.Tolerance;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Row bands with a halo ({@link RowBands}), on the CPU path alone: pooling every band of every
 * batch item as its own small tensor and stitching the outputs gives the whole tensor's result bit
 * for bit (max, avg with and without count_include_pad, lp; padding, same / same-lower, ceil mode,
 * dilation, strides larger than the window), for every band height from the smallest allowed to
 * the whole item; bands tile the output, respect both limits, are as tall as allowed, and need few
 * kernel builds.
 */
class RowBandsTest {
    private static final CpuBackend CPU = new CpuBackend(1);

    @AfterAll
    static void close() {
        CPU.close();
    }

    /** The CPU result of {@code g} on {@code x}, computed band by band through slices, as the device path does. */
    private static Tensor inBands(PoolGeometry g, Tensor x, List<RowBands.Band> bands) {
        Tensor out = Tensor.allocate(g.output());
        int bytes = x.dtype().byteSize();
        for (int n = 0; n < g.input().n(); n++) {
            for (RowBands.Band b : bands) {
                Tensor in = Tensor.wrap(b.geometry().input(), RowBands.rows(x.buffer(), g.input(), bytes, n, b.inFrom(), b.inTo())
                        .order(ByteOrder.nativeOrder()));
                Tensor part = Tensor.wrap(b.geometry().output(), RowBands.rows(out.buffer(), g.output(), bytes, n,
                        b.outFrom(), b.outTo()).order(ByteOrder.nativeOrder()));
                CPU.pool(b.geometry(), in, part);
            }
        }
        return out;
    }

    /** Splits with the given limits, checks the bands' shape, and compares the stitched result with the whole one. */
    private static void check(PoolGeometry g, Tensor x, Tensor whole, long maxIn, long maxOut, String what) {
        List<RowBands.Band> bands = RowBands.split(g, maxIn, maxOut);
        String where = what + " maxIn=" + maxIn + " maxOut=" + maxOut + " " + bands;
        int next = 0;
        for (int i = 0; i < bands.size(); i++) {
            RowBands.Band b = bands.get(i);
            assertEquals(next, b.outFrom(), where + ": bands must tile the output rows");
            next = b.outTo();
            assertTrue(b.outRows() >= 1 && b.outRows() <= maxOut, where + ": output rows of " + b);
            assertTrue(b.inRows() >= 1 && b.inRows() <= maxIn, where + ": input rows of " + b);
            assertEquals(b.outRows(), b.geometry().output().h(), where);
            assertEquals(g.cols(), b.geometry().cols(), where + ": columns are the item's");
            if (i < bands.size() - 1) {
                RowBands.Band taller = RowBands.band(g, b.outFrom(), b.outTo() + 1);
                assertTrue(taller.inRows() > maxIn || taller.outRows() > maxOut, where + ": " + b + " could be taller");
            }
        }
        assertEquals(g.output().h(), next, where + ": bands must reach the last output row");
        Tolerance.assertBitIdentical(inBands(g, x, bands).toArray(), whole.toArray(), where);
    }

    /**
     * Band heights from the smallest allowed (one output row's window) to the whole item, with and
     * without an output-row limit.
     */
    private static int sweep(PoolGeometry g, Tensor x, String what) {
        Tensor whole = Tensor.allocate(g.output());
        CPU.pool(g, x, whole);
        int least = RowBands.inputRowsOfOneOutputRow(g.rows());
        int h = g.input().h();
        int runs = 0;
        for (long maxIn : new TreeSet<>(List.of(least, least + 1, least + 2, (least + h) / 2, h))) {
            if (maxIn <= h) {
                check(g, x, whole, maxIn, Long.MAX_VALUE, what);
                runs++;
            }
        }
        for (long maxOut = 1; maxOut <= Math.min(3, g.output().h()); maxOut++) {
            check(g, x, whole, Long.MAX_VALUE, maxOut, what);
            check(g, x, whole, least, maxOut, what);
            runs += 2;
        }
        return runs;
    }

    @Test
    void randomCases_stitchBitForBit() {
        int runs = 0;
        for (RandomCases.Case c : RandomCases.generate(20240611L, 300)) {
            runs += sweep(c.spec().geometry(c.input().shape()), c.input(), c.name());
        }
        assertTrue(runs > 1000, "only " + runs + " band splits ran");
    }

    /** A grid over what decides band edges: windows, strides, dilation, top/bottom padding, ceil mode, divisors. */
    @Test
    void windowStrideDilationPaddingGrid_stitchesBitForBit() {
        SplittableRandom r = new SplittableRandom(3);
        int cases = 0;
        for (int h : new int[] {1, 6, 19}) {
            Tensor x = RandomCases.values(r, Shape.of(2, h, 5, 3), true);
            for (int k : new int[] {1, 2, 3, 5}) {
                for (int s : new int[] {1, 2, 7}) {
                    for (int d : new int[] {1, 2, 3}) {
                        int e = (k - 1) * d + 1;
                        for (Padding pad : paddings(e)) {
                            for (boolean ceil : new boolean[] {false, true}) {
                                for (PoolSpec spec : specs(k, s, d, pad, ceil)) {
                                    if (spec.check(x.shape()).isEmpty()) {
                                        sweep(spec.geometry(x.shape()), x, spec + " on " + x.shape());
                                        cases++;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        System.out.println("row bands: " + cases + " grid cases");
        assertTrue(cases > 500, "only " + cases + " valid cases");
    }

    /**
     * Large average windows, which the CPU path sums as prefix and suffix sums over blocks of rows:
     * a band's blocks must be anchored at the item's rows (its {@code rowOrigin}), not at the band's
     * first row, or its averages round differently from the whole item's.
     */
    @Test
    void largeAverageWindows_prefixSuffixPath_stitchBitForBit() {
        SplittableRandom r = new SplittableRandom(12);
        Tensor x = RandomCases.values(r, Shape.of(1, 31, 9, 16), true);
        int cases = 0;
        for (boolean includePad : new boolean[] {false, true}) {
            for (PoolSpec spec : List.of(
                    PoolSpec.avg(13, 13).stride(1).padding(Padding.of(6)).countIncludePad(includePad).build(),
                    PoolSpec.avg(9, 5).stride(1).dilation(2, 1).padding(Padding.of(5, 3, 2, 2)).countIncludePad(includePad)
                            .build(),
                    PoolSpec.avg(11, 11).stride(2).padding(Padding.of(4)).ceilMode(true).countIncludePad(includePad).build())) {
                PoolGeometry g = spec.geometry(x.shape());
                assertTrue(CpuPaths.avgPrefixSuffix(g), spec + ": the CPU path must take prefix-suffix sums here");
                cases += sweep(g, x, spec + " on " + x.shape());
            }
        }
        assertTrue(cases >= 60, "only " + cases + " band splits ran");
    }

    private static List<Padding> paddings(int e) {
        List<Padding> out = new ArrayList<>(List.of(Padding.VALID, Padding.SAME, Padding.SAME_LOWER));
        for (int top = 0; top < e; top += Math.max(1, (e - 1) / 2)) {
            out.add(Padding.of(top, e - 1 - top, 1, 0));
        }
        return out;
    }

    private static List<PoolSpec> specs(int k, int s, int d, Padding pad, boolean ceil) {
        List<PoolSpec> out = new ArrayList<>();
        for (PoolMode mode : PoolMode.values()) {
            for (boolean includePad : mode == PoolMode.AVG ? new boolean[] {false, true} : new boolean[] {false}) {
                out.add(PoolSpec.builder(mode).window(k, 2).stride(s, 1).dilation(d, 1).padding(pad).ceilMode(ceil)
                        .countIncludePad(includePad).p(3).build());
            }
        }
        return out;
    }

    @Test
    void bandsOfALargePlane_needAtMostTwoKernelBuilds() {
        // 3x3 s1 p1 over 1000 rows in bands of at most 64 input rows: the first band starts in the
        // top padding, every other one (the last included) has the same kernel options.
        PoolGeometry g = PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).countIncludePad(true).build()
                .geometry(Shape.of(1, 1000, 40, 8));
        List<RowBands.Band> bands = RowBands.split(g, 64, Long.MAX_VALUE);
        assertEquals(17, bands.size(), bands.toString()); // 63 output rows in the first band, 62 after
        Set<String> builds = new HashSet<>();
        for (RowBands.Band b : bands) {
            builds.add(KernelOptions.pool(b.geometry(), 8, false));
        }
        assertEquals(2, builds.size(), builds.toString());
    }

    @Test
    void ceilModeTail_isInTheLastBand_withTheItemsBottomPadding() {
        // 7 rows, k=2 s=2 ceil: the 4th window starts at row 6 and overhangs the input.
        PoolGeometry g = PoolSpec.max(2, 2).stride(2).ceilMode(true).build().geometry(Shape.of(1, 7, 4, 1));
        assertEquals(4, g.output().h());
        List<RowBands.Band> bands = RowBands.split(g, 2, Long.MAX_VALUE);
        assertEquals(4, bands.size());
        RowBands.Band last = bands.get(3);
        assertEquals(6, last.inFrom());
        assertEquals(7, last.inTo());
        assertEquals(1, last.geometry().output().h());
    }

    @Test
    void aBandSmallerThanOneOutputRowsWindow_isRefused() {
        PoolGeometry g = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build().geometry(Shape.of(1, 9, 9, 2));
        assertEquals(3, RowBands.inputRowsOfOneOutputRow(g.rows()));
        assertEquals(5, RowBands.split(g, 3, Long.MAX_VALUE).size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RowBands.split(g, 2, Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("reads 3 input rows"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RowBands.split(g, 9, 0));
    }

    @Test
    void oneOutputRowsWindow_clippedByTheInput_isTheLeastBand() {
        // H=10, e=5, pads 4: windows at -4 (1 row) and 6 (rows 6..9, 4 rows): no window reads 5 rows.
        PoolGeometry g = PoolSpec.max(5, 1).stride(10, 1).padding(Padding.of(4, 4, 0, 0)).build()
                .geometry(Shape.of(1, 10, 3, 1));
        assertEquals(2, g.output().h());
        assertEquals(4, RowBands.inputRowsOfOneOutputRow(g.rows()));
        try {
            RowBands.split(g, 4, Long.MAX_VALUE);
        } catch (IllegalArgumentException e) {
            fail("4 rows suffice: " + e.getMessage());
        }
    }
}
