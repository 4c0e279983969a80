package dev.clpool.opencl;

import dev.clpool.PlanarGeometry;
import dev.clpool.Axis;
import dev.clpool.DType;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import java.util.Locale;

/**
 * The {@code -D} options that specialise a kernel: the small, finite set of pooling parameters
 * (mode, window, stride, dilation, padding, vector width, accumulator). Tensor sizes are runtime
 * arguments, so a new size never triggers a compile. Each op file's header lists its macros.
 */
final class KernelOptions {
    private KernelOptions() {
    }

    /** Channels per work item: the widest of 8, 4, 2, 1 that divides C. */
    static int vectorWidth(int channels) {
        for (int v = 8; v > 1; v /= 2) {
            if (channels % v == 0) {
                return v;
            }
        }
        return 1;
    }

    /** Channels per step for the tuned kernels: the widest of 16, 8, 4, 2, 1 that divides C. */
    static int wideVectorWidth(int channels) {
        return channels % 16 == 0 ? 16 : vectorWidth(channels);
    }

    static String pool(PoolGeometry g, int vec, boolean accDouble) {
        return pool(g, vec, accDouble, false, 1);
    }

    /**
     * The pool kernel's options for a layout: {@code channelLoop} (one work item loops over C,
     * {@code opx} output pixels per work item) or channel lanes (one work item per VEC channels).
     */
    static String pool(PoolGeometry g, int vec, boolean accDouble, boolean channelLoop, int opx) {
        boolean interior = interior(g, channelLoop);
        return poolParameters(g, vec, accDouble) + " -D CLOOP=" + (channelLoop ? 1 : 0) + " -D OPX=" + opx
                + " -D INTERIOR=" + (interior ? 1 : 0);
    }

    /** Channels from which max on CPU devices runs tap by tap ({@link #maxRuns}). */
    static final int TAP_MAJOR_CHANNELS = 128;

    /**
     * How {@code pool2d_nhwc.cl}'s interior path reads max windows on CPU devices (the channel
     * loop): from {@link #TAP_MAJOR_CHANNELS} channels in float32 tap by tap ({@code TAP_MAJOR},
     * each tap's C channels one run, folded into the output); else, with vectors of 16 and 64
     * channels, four vectors of each tap at a time ({@code CHUNK=4}, the whole pixel; measured
     * slower at 512); else as before (no
     * option, so the program is the one built before). Every form folds the taps of a channel in
     * the same order: the same bits. {@code -Dclpool.opencl.maxTapMajor} and
     * {@code -Dclpool.opencl.maxChunks} ({@link ForcedChoice}) force either for measurements and
     * tests. Float16 and bfloat16 never go tap by tap (the partial maxima would pass through the
     * output's storage); they run {@code pool2d_stored.cl} ({@link #maxStored}), four vectors a
     * tap wherever C is a multiple of 64 (kernel CPU against a vector at a time: level at 128
     * channels, −20% at 256, −8% at 512), or, where that is forced off, the float form as
     * before: chunks at 64 channels.
     */
    static String maxRuns(PoolGeometry g, int vec, DType dtype, boolean channelLoop) {
        return maxRuns(g, vec, dtype, channelLoop, maxStored(g, dtype, channelLoop));
    }

    /** ... with {@link #maxStored}'s choice made ({@link PoolRoutine} makes it once a dispatch). */
    static String maxRuns(PoolGeometry g, int vec, DType dtype, boolean channelLoop, boolean stored) {
        if (g.mode() != PoolMode.MAX || !channelLoop || !interior(g, channelLoop)) {
            return "";
        }
        int c = g.input().c();
        if (ForcedChoice.chosen("clpool.opencl.maxTapMajor", dtype == DType.FLOAT32, () -> c >= TAP_MAJOR_CHANNELS)) {
            return " -D TAP_MAJOR=1";
        }
        String form = stored ? STORED_MAX : "";
        if (ForcedChoice.chosen("clpool.opencl.maxChunks", vec == 16 && c % (4 * vec) == 0, () -> stored || c < TAP_MAJOR_CHANNELS)) {
            return form + " -D CHUNK=4";
        }
        return form;
    }

    /** The option of {@code pool2d_stored.cl}'s program ({@link #maxStored}). */
    static final String STORED_MAX = " -D STORED_MAX=1";

    /** The property that forces {@link #maxStored}'s choice ({@link ForcedChoice}). */
    static final String MAX_STORED = "clpool.opencl.maxStored";

    /**
     * Whether max windows over float16 or bfloat16 run {@code pool2d_stored.cl} (kernel
     * {@code pool2d_stored}): on the 16-bit patterns as signed shorts, the float path only for
     * border windows and windows with a NaN or a +0 maximum beside a −0, which gives today's bits
     * (docs/opencl-internals.md). CPU devices only, where the interior path is unrolled: shaped
     * for PoCL, whose conversions cost more than the compares (a GPU converts half in hardware
     * and would pay a divergent branch per work item for what this saves), so GPUs' channel
     * lanes keep {@code pool2d}. {@code -Dclpool.opencl.maxStored} forces it off (or on, where
     * supported) for measurements and tests.
     */
    static boolean maxStored(PoolGeometry g, DType dtype, boolean channelLoop) {
        boolean supported = g.mode() == PoolMode.MAX && dtype != DType.FLOAT32 && interior(g, channelLoop);
        return ForcedChoice.chosen(MAX_STORED, supported, () -> true);
    }

    /**
     * The most channels {@link #avgRuns} reads four vectors a tap at: DenseNet's 128 (kernel CPU
     * time −17 to −26% on PoCL) and Inception's 256 (−10%) gain, the guided filter's 3×3 box at
     * 512 measured 0–7% slower.
     */
    static final int AVG_CHUNK_MAX_CHANNELS = 256;

    /** The property that forces {@link #avgRuns}' choice ({@link ForcedChoice}). */
    static final String AVG_CHUNKS = "clpool.opencl.avgChunks";

    /**
     * How {@code pool2d_nhwc.cl}'s interior path reads average windows on CPU devices (the
     * channel loop): with vectors of 16 and 64 to {@link #AVG_CHUNK_MAX_CHANNELS} channels in
     * multiples of 64, four vectors of each tap at a time ({@code CHUNK=4}: a tap read as one
     * 256-byte run, not one vector interleaved with the other taps' streams); else as before (no
     * option, the program built before). Each channel's double sum adds its taps in scan order
     * either way: the same bits.
     * {@code -Dclpool.opencl.avgChunks} ({@link ForcedChoice}) forces it either way.
     */
    static String avgRuns(PoolGeometry g, int vec, boolean channelLoop) {
        if (g.mode() != PoolMode.AVG || !channelLoop || !interior(g, channelLoop)) {
            return "";
        }
        boolean supported = vec == 16 && g.input().c() % (4 * vec) == 0;
        return ForcedChoice.chosen(AVG_CHUNKS, supported, () -> g.input().c() <= AVG_CHUNK_MAX_CHANNELS) ? " -D CHUNK=4" : "";
    }

    private static boolean interior(PoolGeometry g, boolean channelLoop) {
        return channelLoop && (long) g.rows().window() * g.cols().window() <= MAX_UNROLLED_TAPS;
    }

    /**
     * The options of {@code pool_separable.cl} (either pass: the host appends {@code -D PASS}):
     * the pool kernel's parameters and its layout, {@code channelLoop} or channel lanes.
     */
    static String separable(PoolGeometry g, int vec, boolean accDouble, boolean channelLoop) {
        return poolParameters(g, vec, accDouble) + " -D CLOOP=" + (channelLoop ? 1 : 0);
    }

    /**
     * The largest window (KH * KW taps) whose interior path pool2d_nhwc.cl unrolls completely. The
     * unrolling is for small windows; a 1000x1000 one took 2.6 s to build on PoCL, and from about
     * 4000x4000 the build crashed the JVM (SIGSEGV): larger windows take the general path.
     */
    static final int MAX_UNROLLED_TAPS = 256;

    private static String poolParameters(PoolGeometry g, int vec, boolean accDouble) {
        checkIntPositions(g.rows(), "height");
        checkIntPositions(g.cols(), "width");
        StringBuilder s = new StringBuilder();
        s.append("-D MODE_").append(g.mode().name());
        define(s, "KH", g.rows().window());
        define(s, "KW", g.cols().window());
        define(s, "SH", g.rows().stride());
        define(s, "SW", g.cols().stride());
        define(s, "DH", g.rows().dilation());
        define(s, "DW", g.cols().dilation());
        define(s, "PAD_T", g.rows().padBegin());
        define(s, "PAD_B", g.rows().padEnd());
        define(s, "PAD_L", g.cols().padBegin());
        define(s, "PAD_R", g.cols().padEnd());
        define(s, "COUNT_INCLUDE_PAD", g.spec().countIncludePad() ? 1 : 0);
        define(s, "VEC", vec);
        define(s, "ACC_DOUBLE", accDouble ? 1 : 0);
        if (g.mode() == PoolMode.LP) {
            s.append(lpExponent(g.spec().p()));
        }
        return s.toString();
    }

    /**
     * The options of {@code pool_planar.cl}: its layout ({@code rowLoop}: one work item per output
     * row, {@code vec} outputs per vector step; else one work item per output, {@code vec} 1) and
     * the three axes depth, rows and columns ({@link PlanarGeometry#axes3()}: a lower rank's outer
     * axes are windows of one, which the kernel folds away, so every rank is one source).
     */
    static String planar(PlanarGeometry g, int vec, boolean accDouble, boolean rowLoop) {
        Axis[] a = g.axes3();
        String[] names = {"depth", "height", "width"};
        for (int i = 0; i < 3; i++) {
            checkIntPositions(a[i], names[i]);
        }
        StringBuilder s = new StringBuilder("-D MODE_").append(g.mode().name());
        String[] axis = {"D", "H", "W"};
        for (int i = 0; i < 3; i++) {
            define(s, "K" + axis[i], a[i].window());
            define(s, "S" + axis[i], a[i].stride());
            define(s, "D" + axis[i], a[i].dilation());
        }
        define(s, "PAD_F", a[0].padBegin());
        define(s, "PAD_K", a[0].padEnd());
        define(s, "PAD_T", a[1].padBegin());
        define(s, "PAD_B", a[1].padEnd());
        define(s, "PAD_L", a[2].padBegin());
        define(s, "PAD_R", a[2].padEnd());
        define(s, "COUNT_INCLUDE_PAD", g.countIncludePad() ? 1 : 0);
        define(s, "VEC", vec);
        define(s, "ACC_DOUBLE", accDouble ? 1 : 0);
        define(s, "ROWLOOP", rowLoop ? 1 : 0);
        if (g.mode() == PoolMode.LP) {
            s.append(lpExponent(g.p()));
        }
        if (planarRows(g, vec, accDouble, rowLoop)) {
            s.append(" -D CF_ROWS");
            define(s, "CF_BAND", PLANAR_BAND);
        } else if (planarFlat(g, vec, accDouble, rowLoop)) {
            s.append(" -D CF_FLAT");
        }
        return s.toString();
    }

    /** Doubles {@code pool_planar.cl}'s flat planes stage ({@code CF_STAGE}). */
    static final int PLANAR_STAGE = 2560;

    /**
     * Whether {@code pool_planar.cl} runs a plane a work item ({@code CF_FLAT}): averages with
     * {@code count_include_pad} in the row loop with vectors of 8 and double sums, stride and
     * dilation 1 on rows and columns, padding that keeps the plane's size (so every divisor is
     * the window's taps), no depth window, rows of at least 8 and planes whose row sums fit the
     * kernel's stage with a window's rows of zeros (Inception's 3×3 s1 p1 over 35×35). Each input
     * element's row sum is formed once, not once per window row: vec_window's operations, the
     * same bits. {@code -Dclpool.opencl.planarFlat=never} forces the row loop.
     */
    static boolean planarFlat(PlanarGeometry g, int vec, boolean accDouble, boolean rowLoop) {
        Axis[] a = g.axes3();
        boolean fits = rowLoop && vec == 8 && accDouble && g.mode() == PoolMode.AVG && g.countIncludePad()
                && a[0].window() == 1 && a[0].stride() == 1 && a[0].padBegin() == 0 && a[0].padEnd() == 0
                && sameSize(a[1]) && sameSize(a[2]) && a[2].in() >= vec
                && ((long) a[1].in() + a[1].window() - 1) * a[2].in() + vec <= PLANAR_STAGE;
        return ForcedChoice.chosen(PLANAR_FLAT, fits, () -> true);
    }

    /** The property that forces {@link #planarFlat} off ({@code never}) for measurements and tests. */
    static final String PLANAR_FLAT = "clpool.opencl.planarFlat";

    /** Stride and dilation 1, a window of at most 8 and padding that keeps the axis's size. */
    private static boolean sameSize(Axis a) {
        return a.stride() == 1 && a.dilation() == 1 && a.window() <= 8 && a.padBegin() >= 0 && a.padEnd() >= 0
                && a.padBegin() + a.padEnd() == a.window() - 1 && a.out() == a.in();
    }

    /** Output rows per work item of {@code pool_planar.cl}'s staged rows ({@link #planarRows}). */
    static final int PLANAR_BAND = 16;

    /**
     * Whether {@code pool_planar.cl} runs its staged rows ({@code CF_ROWS}): L2 pooling (p = 2)
     * in the row loop with vectors of 8 and double sums, stride and dilation 1 on rows and
     * columns, windows of at most 8 rows and columns, no depth window. Each input row of a band of
     * {@link #PLANAR_BAND} output rows is squared once and summed across the window's columns,
     * and the output rows add those row sums (the double sums regrouped by rows: within the
     * tolerance). Avg measured no faster that way and keeps the row loop's vectors.
     */
    static boolean planarRows(PlanarGeometry g, int vec, boolean accDouble, boolean rowLoop) {
        Axis[] a = g.axes3();
        return rowLoop && vec == 8 && accDouble && g.mode() == PoolMode.LP && lpSquare(g.p()) && a[0].window() == 1
                && stride1(a[1]) && stride1(a[2])
                && a[2].out() == (long) a[2].in() + a[2].padBegin() + a[2].padEnd() - a[2].window() + 1;
    }

    /** Stride and dilation 1, a window of at most 8 and padding inside it. */
    private static boolean stride1(Axis a) {
        return a.stride() == 1 && a.dilation() == 1 && a.window() <= 8 && a.padBegin() < a.window()
                && a.padEnd() < a.window();
    }

    static String global(PoolMode mode, int vec, boolean accDouble) {
        return global(mode, vec, accDouble, 1);
    }

    /** Global pooling with {@code blocks} channel vectors per work item in the first pass. */
    static String global(PoolMode mode, int vec, boolean accDouble, int blocks) {
        return global(mode, vec, accDouble, blocks, false);
    }

    /** ... and {@code single}: one pixel run per plane, so the first pass writes the results. */
    static String global(PoolMode mode, int vec, boolean accDouble, int blocks, boolean single) {
        StringBuilder s = new StringBuilder("-D MODE_").append(mode.name());
        define(s, "VEC", vec);
        define(s, "ACC_DOUBLE", accDouble ? 1 : 0);
        define(s, "CB", blocks);
        define(s, "FINAL", single ? 1 : 0);
        return s.toString();
    }

    /**
     * Global average on CPU devices one plane a work item ({@code global_nhwc.cl}'s
     * {@code global_avg_rows}): {@code rows} pixels a pass, private double sums of up to
     * {@code acc} channel vectors.
     */
    static String globalRows(int vec, int rows, int acc) {
        StringBuilder s = new StringBuilder("-D MODE_AVG");
        define(s, "VEC", vec);
        define(s, "ACC_DOUBLE", 1);
        define(s, "CB", 1);
        define(s, "FINAL", 1);
        define(s, "ROWS", rows);
        define(s, "ROW_ACC", acc);
        return s.toString();
    }

    /** Global pooling of channels-first planes ({@code global_planar.cl}), {@code vec} elements per step. */
    static String globalPlanar(PoolMode mode, int vec, boolean accDouble) {
        StringBuilder s = new StringBuilder("-D MODE_").append(mode.name());
        define(s, "VEC", vec);
        define(s, "ACC_DOUBLE", accDouble ? 1 : 0);
        define(s, "ROWLOOP", 1);
        return s.toString();
    }

    /** The option of float16 storage (the device session adds {@code HALF_PORTABLE} to it on request). */
    static final String HALF_STORAGE = " -D STORAGE=1";

    /**
     * {@code -D STORAGE=n}, common.cl's storage of the tensors: 0 float32, 1 half, 2 bfloat16.
     * Appended to an op's options at each dispatch (the tensors' dtype, not the pooling
     * parameters, decides it).
     */
    static String storage(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> " -D STORAGE=0";
            case FLOAT16 -> HALF_STORAGE;
            case BFLOAT16 -> " -D STORAGE=2";
        };
    }

    /**
     * The pool kernel computes window positions in 32-bit ints (for example {@code y0 + EH} and
     * {@code H + PAD_B}); refuses, before any device work, an axis whose padded size plus the
     * effective window would not fit, so that the engine can run it on the CPU path instead.
     */
    static void checkIntPositions(Axis a, String name) {
        long reach = (long) a.in() + a.padBegin() + a.padEnd() + a.effectiveWindow();
        if (reach > Integer.MAX_VALUE) {
            throw new ClException("clEnqueueNDRangeKernel", -63 /* CL_INVALID_GLOBAL_WORK_SIZE */,
                    "the " + name + " axis (size " + a.in() + ", padding " + a.padBegin() + "+" + a.padEnd()
                            + ", effective window " + a.effectiveWindow() + ") exceeds the 32-bit positions of the kernels");
        }
    }

    /**
     * {@code -D LP_P=...}: a float literal that reads back as the same double value; with
     * {@code LP_DIRECT} where p ≤ 4 (a float's |x|^p is then within double's normal range, so a
     * double sum of the powers needs no scaling: the CPU path's {@code LpWindows} rule) and
     * {@code LP_SQUARE} where p is 2 (x·x and sqrt instead of pow).
     */
    private static String lpExponent(double p) {
        return " -D LP_P=" + String.format(Locale.ROOT, "%.17g", p) + (p <= 4 ? " -D LP_DIRECT" : "")
                + (lpSquare(p) ? " -D LP_SQUARE" : "");
    }

    /** Whether LP with exponent {@code p} gets {@code LP_SQUARE} (x·x and sqrt instead of pow). */
    static boolean lpSquare(double p) {
        return p == 2;
    }

    /**
     * Whether {@code pool2d_nhwc.cl} pools LP with exponent p in channel vectors: p = 2 with double
     * sums ({@code LP_SQUARE}: x·x and sqrt, lane by lane), which then takes the interior path as
     * avg does; every other LP runs one channel per step.
     */
    static boolean lpVector(double p, boolean accDouble) {
        return lpSquare(p) && accDouble;
    }

    private static void define(StringBuilder s, String name, int value) {
        s.append(" -D ").append(name).append('=').append(value);
    }
}
