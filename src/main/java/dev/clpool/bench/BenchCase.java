package dev.clpool.bench;

import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import java.util.Locale;
import java.util.Objects;

/**
 * One case of the benchmark: windowed pooling with {@code spec}, or (spec null) global pooling
 * with {@code globalMode}, on an input of {@code shape}.
 */
public record BenchCase(Shape shape, PoolSpec spec, PoolMode globalMode) {

    public BenchCase {
        Objects.requireNonNull(shape, "shape");
        if ((spec == null) == (globalMode == null)) {
            throw new IllegalArgumentException("a bench case is either windowed (spec) or global (mode)");
        }
    }

    public static BenchCase pool(PoolSpec spec, Shape shape) {
        return new BenchCase(shape, spec, null);
    }

    public static BenchCase global(PoolMode mode, Shape shape) {
        return new BenchCase(shape, null, mode);
    }

    public boolean isGlobal() {
        return spec == null;
    }

    public PoolMode mode() {
        return isGlobal() ? globalMode : spec.mode();
    }

    /** {@code max}, {@code avg}, {@code lp}, {@code global-avg} or {@code global-max}. */
    public String op() {
        return (isGlobal() ? "global-" : "") + mode().word();
    }

    public Shape outputShape() {
        return isGlobal() ? Shape.of(shape.n(), 1, 1, shape.c()) : spec.outputShape(shape);
    }

    /** Input plus output bytes: what one run must move at least. */
    public long bytes() {
        return (shape.elementCount() + outputShape().elementCount()) * Float.BYTES;
    }

    /** Window (height, width); a global pool's window is the whole plane. */
    public int[] window() {
        return isGlobal() ? new int[] {shape.h(), shape.w()} : new int[] {spec.windowH(), spec.windowW()};
    }

    public int[] stride() {
        return isGlobal() ? new int[] {1, 1} : new int[] {spec.strideH(), spec.strideW()};
    }

    /** Padding applied (top, bottom, left, right), resolved for this shape. */
    public int[] pads() {
        if (isGlobal()) {
            return new int[] {0, 0, 0, 0};
        }
        PoolGeometry g = spec.geometry(shape);
        return new int[] {g.rows().padBegin(), g.rows().padEnd(), g.cols().padBegin(), g.cols().padEnd()};
    }

    /** For people: {@code max 3x3 s2 p1}, {@code global avg}. */
    public String label() {
        if (isGlobal()) {
            return "global " + mode().word();
        }
        int[] k = window();
        int[] s = stride();
        int[] p = pads();
        String pad = p[0] == p[1] && p[1] == p[2] && p[2] == p[3] ? (p[0] == 0 ? "" : " p" + p[0])
                : String.format(Locale.ROOT, " p%d,%d,%d,%d", p[0], p[1], p[2], p[3]);
        return mode().word() + " " + k[0] + "x" + k[1] + " s" + (s[0] == s[1] ? "" + s[0] : s[0] + "x" + s[1]) + pad;
    }
}
