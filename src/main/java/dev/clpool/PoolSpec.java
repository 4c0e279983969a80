package dev.clpool;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * An immutable, validated 2-D pooling specification: mode, window, stride, dilation, padding,
 * ceil mode, {@code count_include_pad} and the LP exponent. Shape-independent checks happen in
 * the constructor; {@link #geometry(Shape)} applies the spec to an input shape and is the one
 * place output sizes are computed (SEMANTICS.md).
 *
 * <pre>{@code
 * PoolSpec spec = PoolSpec.builder(PoolMode.MAX).window(3).stride(2).padding(Padding.of(1)).build();
 * PoolSpec same = PoolSpec.parse("max k=3x3 s=2x2 pad=1,1,1,1");   // equal to spec
 * }</pre>
 */
public final class PoolSpec {

    private final PoolMode mode;
    private final int kh;
    private final int kw;
    private final int sh;
    private final int sw;
    private final int dh;
    private final int dw;
    private final Padding padding;
    private final boolean ceilMode;
    private final boolean countIncludePad;
    private final double p;

    private PoolSpec(Builder b) {
        this.mode = Objects.requireNonNull(b.mode, "mode");
        this.kh = positive("window", b.kh, b.kw, b.kh);
        this.kw = positive("window", b.kh, b.kw, b.kw);
        this.sh = b.sh == 0 ? kh : positive("stride", b.sh, b.sw, b.sh);
        this.sw = b.sw == 0 ? kw : positive("stride", b.sh, b.sw, b.sw);
        this.dh = positive("dilation", b.dh, b.dw, b.dh);
        this.dw = positive("dilation", b.dh, b.dw, b.dw);
        long reachH = (long) (kh - 1) * dh + 1;
        long reachW = (long) (kw - 1) * dw + 1;
        if (reachH > Integer.MAX_VALUE || reachW > Integer.MAX_VALUE) {
            // Axis.effectiveWindow would saturate and accept windows larger than the input.
            throw new InvalidSpecException("dilation", dh + "x" + dw, "the effective window (window-1)*dilation+1 = "
                    + reachH + "x" + reachW + " exceeds 2^31-1");
        }
        this.padding = Objects.requireNonNull(b.padding, "padding");
        this.ceilMode = b.ceilMode;
        this.countIncludePad = b.countIncludePad;
        if (!(b.p > 0) || Double.isInfinite(b.p)) {
            throw new InvalidSpecException("p", b.p, "must be a finite number > 0");
        }
        this.p = b.p;
        if (padding.kind() == Padding.Kind.EXPLICIT) {
            int eh = Axis.effectiveWindow(kh, dh);
            int ew = Axis.effectiveWindow(kw, dw);
            if (padding.top() >= eh || padding.bottom() >= eh || padding.left() >= ew || padding.right() >= ew) {
                throw new InvalidSpecException("padding", padding,
                        "each side must be smaller than the effective window " + eh + "x" + ew
                                + " (a window must not lie wholly in the padding)");
            }
        }
    }

    public static Builder builder(PoolMode mode) {
        return new Builder(mode);
    }

    /** Shorthand for {@code builder(MAX).window(kh, kw)}. */
    public static Builder max(int kh, int kw) {
        return builder(PoolMode.MAX).window(kh, kw);
    }

    /** Shorthand for {@code builder(AVG).window(kh, kw)}. */
    public static Builder avg(int kh, int kw) {
        return builder(PoolMode.AVG).window(kh, kw);
    }

    public PoolMode mode() {
        return mode;
    }

    public int windowH() {
        return kh;
    }

    public int windowW() {
        return kw;
    }

    public int strideH() {
        return sh;
    }

    public int strideW() {
        return sw;
    }

    public int dilationH() {
        return dh;
    }

    public int dilationW() {
        return dw;
    }

    public Padding padding() {
        return padding;
    }

    public boolean ceilMode() {
        return ceilMode;
    }

    public boolean countIncludePad() {
        return countIncludePad;
    }

    /** The LP exponent (used by {@link PoolMode#LP} only). */
    public double p() {
        return p;
    }

    /** Why this spec cannot run on {@code input}, or empty if it can. Has no side effects. */
    public Optional<String> check(Shape input) {
        try {
            geometry(input);
            return Optional.empty();
        } catch (InvalidSpecException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** The output shape for {@code input}; throws {@link InvalidSpecException} if it cannot run. */
    public Shape outputShape(Shape input) {
        return geometry(input).output();
    }

    /** This spec applied to {@code input}: resolved padding and sizes, every window checked. */
    public PoolGeometry geometry(Shape input) {
        Axis rows = axis("height", input.h(), kh, sh, dh, padding.top(), padding.bottom());
        Axis cols = axis("width", input.w(), kw, sw, dw, padding.left(), padding.right());
        Shape out = new Shape(input.n(), rows.out(), cols.out(), input.c());
        return new PoolGeometry(this, input, out, rows, cols);
    }

    private Axis axis(String name, int in, int k, int s, int d, int explicitBegin, int explicitEnd) {
        int e = Axis.effectiveWindow(k, d);
        long begin;
        long end;
        long out;
        switch (padding.kind()) {
            case SAME:
            case SAME_LOWER: {
                out = Axis.sameOut(in, s);
                long total = Axis.samePadTotal(in, out, e, s);
                long half = total / 2;
                begin = padding.kind() == Padding.Kind.SAME ? half : total - half;
                end = total - begin;
                break;
            }
            default: {
                begin = explicitBegin;
                end = explicitEnd;
                long span = in + begin + end - e;
                if (span < 0) {
                    throw new InvalidSpecException("window", k + " (effective " + e + ")",
                            "larger than the padded " + name + " " + (in + begin + end)
                                    + ": the output would be empty");
                }
                out = Axis.explicitOut(in, e, s, begin, end, ceilMode);
                break;
            }
        }
        if (out < 1 || out > Integer.MAX_VALUE) {
            throw new InvalidSpecException("window", k, "gives an output " + name + " of " + out);
        }
        if (in + begin + end > Integer.MAX_VALUE) {
            // Positions and extents on an axis are ints (Axis, the kernels): keep them exact.
            throw new InvalidSpecException("padding", padding, "the padded " + name + " " + (in + begin + end)
                    + " exceeds 2^31-1");
        }
        Axis axis = new Axis(in, (int) out, k, s, d, (int) begin, (int) end);
        for (int o = 0; o < axis.out(); o++) {
            if (axis.count(o) == 0) {
                throw new InvalidSpecException("padding", padding,
                        "output " + name + " position " + o + " has a window that covers no input element");
            }
        }
        return axis;
    }

    /**
     * Parses the form {@link #toString()} writes: the mode, then space-separated settings
     * {@code k=KHxKW s=SHxSW d=DHxDW pad=T,B,L,R|valid|same|same-lower ceil include-pad p=P}.
     * A single number means both axes ({@code k=3}). Everything but the mode and {@code k} is optional.
     */
    public static PoolSpec parse(String text) {
        String[] tokens = text.trim().split("\\s+");
        Builder b = builder(PoolMode.parse(tokens[0].toLowerCase(Locale.ROOT)));
        boolean window = false;
        for (int i = 1; i < tokens.length; i++) {
            String t = tokens[i];
            int eq = t.indexOf('=');
            String key = eq < 0 ? t : t.substring(0, eq);
            String val = eq < 0 ? null : t.substring(eq + 1);
            switch (key) {
                case "k": { int[] v = pair("window", val); b.window(v[0], v[1]); window = true; break; }
                case "s": { int[] v = pair("stride", val); b.stride(v[0], v[1]); break; }
                case "d": { int[] v = pair("dilation", val); b.dilation(v[0], v[1]); break; }
                case "pad": b.padding(Padding.parse(require("padding", val))); break;
                case "ceil": b.ceilMode(word(t, val)); break;
                case "include-pad": b.countIncludePad(word(t, val)); break;
                case "p": {
                    try {
                        b.p(Double.parseDouble(require("p", val)));
                    } catch (NumberFormatException e) {
                        throw new InvalidSpecException("p", val, "not a number");
                    }
                    break;
                }
                default: throw new InvalidSpecException("setting", t, "unknown (expected k=, s=, d=, pad=, ceil, include-pad, p=)");
            }
        }
        if (!window) {
            throw new InvalidSpecException("window", "(missing)", "k=KHxKW is required");
        }
        return b.build();
    }

    /** A setting that is a bare word ({@code ceil}): {@code ceil=0} must not turn ceil mode on. */
    private static boolean word(String token, String val) {
        if (val != null) {
            throw new InvalidSpecException("setting", token, "takes no value (write the word alone to turn it on)");
        }
        return true;
    }

    private static String require(String key, String val) {
        if (val == null || val.isEmpty()) {
            throw new InvalidSpecException(key, "(empty)", "needs a value");
        }
        return val;
    }

    /** {@code A} or {@code AxB} (also {@code A,B}) as two ints: the CLI's and parse()'s pair form. */
    public static int[] pair(String field, String val) {
        String[] parts = require(field, val).split("[x,]", -1);
        try {
            if (parts.length == 1) {
                int v = Integer.parseInt(parts[0].trim());
                return new int[] {v, v};
            }
            if (parts.length == 2) {
                return new int[] {Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim())};
            }
        } catch (NumberFormatException e) {
            // fall through to the error below
        }
        throw new InvalidSpecException(field, val, "expected N or H,W with integers");
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(mode.word());
        s.append(" k=").append(kh).append('x').append(kw);
        s.append(" s=").append(sh).append('x').append(sw);
        if (dh != 1 || dw != 1) {
            s.append(" d=").append(dh).append('x').append(dw);
        }
        if (padding != Padding.VALID) {
            s.append(" pad=").append(padding);
        }
        if (ceilMode) {
            s.append(" ceil");
        }
        if (countIncludePad) {
            s.append(" include-pad");
        }
        if (mode == PoolMode.LP) {
            s.append(" p=").append(p);
        }
        return s.toString();
    }

    /** Specs are equal when they compute the same thing: {@code p} counts for LP only. */
    @Override
    public boolean equals(Object o) {
        return o instanceof PoolSpec q && q.mode == mode && q.kh == kh && q.kw == kw && q.sh == sh
                && q.sw == sw && q.dh == dh && q.dw == dw && q.padding.equals(padding)
                && q.ceilMode == ceilMode && q.countIncludePad == countIncludePad
                && (mode != PoolMode.LP || Double.compare(q.p, p) == 0);
    }

    @Override
    public int hashCode() {
        return Objects.hash(mode, kh, kw, sh, sw, dh, dw, padding, ceilMode, countIncludePad,
                mode == PoolMode.LP ? p : 0.0);
    }

    private static int positive(String field, int h, int w, int v) {
        if (v < 1) {
            throw new InvalidSpecException(field, h + "x" + w, "must be >= 1 on each axis");
        }
        return v;
    }

    /** Builds a {@link PoolSpec}; stride defaults to the window, dilation to 1, padding to valid. */
    public static final class Builder {
        private final PoolMode mode;
        private int kh;
        private int kw;
        private int sh;
        private int sw;
        private int dh = 1;
        private int dw = 1;
        private Padding padding = Padding.VALID;
        private boolean ceilMode;
        private boolean countIncludePad;
        private double p = 2.0;

        private Builder(PoolMode mode) {
            this.mode = mode;
        }

        public Builder window(int k) {
            return window(k, k);
        }

        public Builder window(int kh, int kw) {
            this.kh = kh;
            this.kw = kw;
            return this;
        }

        public Builder stride(int s) {
            return stride(s, s);
        }

        /** Stride per axis; by default the stride equals the window. */
        public Builder stride(int sh, int sw) {
            if (sh < 1 || sw < 1) {
                throw new InvalidSpecException("stride", sh + "x" + sw, "must be >= 1 on each axis");
            }
            this.sh = sh;
            this.sw = sw;
            return this;
        }

        public Builder dilation(int d) {
            return dilation(d, d);
        }

        public Builder dilation(int dh, int dw) {
            this.dh = dh;
            this.dw = dw;
            return this;
        }

        public Builder padding(Padding padding) {
            this.padding = padding;
            return this;
        }

        public Builder ceilMode(boolean ceilMode) {
            this.ceilMode = ceilMode;
            return this;
        }

        public Builder countIncludePad(boolean countIncludePad) {
            this.countIncludePad = countIncludePad;
            return this;
        }

        public Builder p(double p) {
            this.p = p;
            return this;
        }

        public PoolSpec build() {
            return new PoolSpec(this);
        }
    }
}
