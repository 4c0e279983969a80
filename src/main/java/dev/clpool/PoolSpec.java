package dev.clpool;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * An immutable, validated pooling specification for spatial rank 1, 2 or 3: mode, window,
 * stride, dilation, padding, ceil mode, {@code count_include_pad} and the LP exponent.
 * Shape-independent checks happen in the constructor; {@link #axes(TensorShape)} (and, in 2-D,
 * {@link #geometry(Shape)}) applies the spec to an input and is the one place output sizes are
 * computed (SEMANTICS.md).
 *
 * <p>Each setting is one number for every spatial axis ({@code window(3)}: 3 in 1-D, 3&times;3 in
 * 2-D, 3&times;3&times;3 in 3-D) or one number per axis, outermost first ({@code window(3, 3)},
 * {@code window(2, 3, 3)}); settings given per axis must agree on the rank, which is then the
 * {@link #rank()} of the spec, and a spec of rank 1, 2 or 3 runs on inputs of that spatial rank only.
 *
 * <pre>{@code
 * PoolSpec spec = PoolSpec.builder(PoolMode.MAX).window(3).stride(2).padding(Padding.of(1)).build();
 * PoolSpec same = PoolSpec.parse("max k=3x3 s=2x2 pad=1,1,1,1");   // equal to spec
 * PoolSpec cube = PoolSpec.builder(PoolMode.AVG).window(2, 2, 2).build();   // 3-D only
 * }</pre>
 */
public final class PoolSpec {

    private static final String[] AXIS_NAMES = {"depth", "height", "width"};

    private final PoolMode mode;
    /** 0 when every setting fits every rank (then each array has one element), else 1 to 3. */
    private final int rank;
    private final int[] k;
    private final int[] s;
    private final int[] d;
    private final Padding padding;
    private final boolean ceilMode;
    private final boolean countIncludePad;
    private final double p;

    private PoolSpec(Builder b) {
        this.mode = Objects.requireNonNull(b.mode, "mode");
        this.padding = Objects.requireNonNull(b.padding, "padding");
        if (b.window == null) {
            throw new InvalidSpecException("window", "(missing)", "is required");
        }
        int r = 0;
        String rankSource = null;
        String[] names = {"window", "stride", "dilation", "padding"};
        int[] ranks = {b.windowRank, b.stride == null ? 0 : b.strideRank, b.dilationRank, padding.rank()};
        for (int i = 0; i < names.length; i++) {
            if (ranks[i] != 0) {
                if (r != 0 && r != ranks[i]) {
                    throw new InvalidSpecException(names[i], i == 3 ? padding.toString() : text(i == 1 ? b.stride : b.dilation),
                            "has " + ranks[i] + " axes but the " + rankSource + " has " + r);
                }
                r = ranks[i];
                rankSource = names[i];
            }
        }
        this.rank = r;
        int len = Math.max(r, 1);
        this.k = positive("window", expand(b.window, len), r);
        this.s = b.stride == null ? k.clone() : positive("stride", expand(b.stride, len), r);
        this.d = positive("dilation", expand(b.dilation, len), r);
        for (int i = 0; i < len; i++) {
            long reach = (long) (k[i] - 1) * d[i] + 1;
            if (reach > Integer.MAX_VALUE) {
                // Axis.effectiveWindow would saturate and accept windows larger than the input.
                throw new InvalidSpecException("dilation", text(d), "the effective window (window-1)*dilation+1 = "
                        + reach + " exceeds 2^31-1");
            }
        }
        this.ceilMode = b.ceilMode;
        this.countIncludePad = b.countIncludePad;
        if (!(b.p > 0) || Double.isInfinite(b.p)) {
            throw new InvalidSpecException("p", b.p, "must be a finite number > 0");
        }
        this.p = b.p;
        if (padding.kind() == Padding.Kind.EXPLICIT) {
            int[] e = new int[len];
            boolean tooLarge = false;
            for (int i = 0; i < len; i++) {
                e[i] = Axis.effectiveWindow(k[i], d[i]);
                tooLarge |= padding.begin(i, len) >= e[i] || padding.end(i, len) >= e[i];
            }
            if (tooLarge) {
                throw new InvalidSpecException("padding", padding, "each side must be smaller than the effective window "
                        + (r == 0 ? e[0] + "x" + e[0] : text(e)) + " (a window must not lie wholly in the padding)");
            }
        }
    }

    static int[] expand(int[] v, int len) {
        if (v.length == len) {
            return v.clone();
        }
        int[] out = new int[len];
        Arrays.fill(out, v[0]);
        return out;
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

    /** Shorthand for {@code builder(MAX).window(window)}: one number per spatial axis, outermost first. */
    public static Builder max(int... window) {
        return builder(PoolMode.MAX).window(window);
    }

    /** Shorthand for {@code builder(AVG).window(window)}: one number per spatial axis, outermost first. */
    public static Builder avg(int... window) {
        return builder(PoolMode.AVG).window(window);
    }

    public PoolMode mode() {
        return mode;
    }

    /** The spatial rank the spec was given for (1 to 3), or 0 when every setting fits every rank. */
    public int rank() {
        return rank;
    }

    /** Whether the spec runs on inputs of spatial rank {@code r}. */
    public boolean fitsRank(int r) {
        return (rank == 0 || rank == r) && (padding.rank() == 0 || padding.rank() == r);
    }

    /** The window per axis for an input of spatial rank {@code r}, outermost first. */
    public int[] window(int r) {
        return forRank(k, r);
    }

    /** The stride per axis for an input of spatial rank {@code r}, outermost first. */
    public int[] stride(int r) {
        return forRank(s, r);
    }

    /** The dilation per axis for an input of spatial rank {@code r}, outermost first. */
    public int[] dilation(int r) {
        return forRank(d, r);
    }

    private int[] forRank(int[] v, int r) {
        requireRank(r);
        return expand(v, r);
    }

    private void requireRank(int r) {
        if (!fitsRank(r)) {
            throw new InvalidSpecException("spec", this, "is " + (rank != 0 ? rank : padding.rank())
                    + "-D; the input has spatial rank " + r);
        }
    }

    public int windowH() {
        return window(2)[0];
    }

    public int windowW() {
        return window(2)[1];
    }

    public int strideH() {
        return stride(2)[0];
    }

    public int strideW() {
        return stride(2)[1];
    }

    public int dilationH() {
        return dilation(2)[0];
    }

    public int dilationW() {
        return dilation(2)[1];
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
        return check(TensorShape.of(input));
    }

    /** Why this spec cannot run on {@code input} (any rank and layout), or empty if it can. */
    public Optional<String> check(TensorShape input) {
        try {
            axes(input);
            return Optional.empty();
        } catch (InvalidSpecException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** The output shape for {@code input}; throws {@link InvalidSpecException} if it cannot run. */
    public Shape outputShape(Shape input) {
        return geometry(input).output();
    }

    /** The output shape for {@code input} of any rank and layout; throws {@link InvalidSpecException} if it cannot run. */
    public TensorShape outputShape(TensorShape input) {
        Axis[] axes = axes(input);
        int[] out = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            out[i] = axes[i].out();
        }
        return input.withSpatial(out);
    }

    /** This spec applied to a 2-D input: resolved padding and sizes, every window checked. */
    public PoolGeometry geometry(Shape input) {
        Axis[] a = axes(TensorShape.of(input));
        Shape out = new Shape(input.n(), a[0].out(), a[1].out(), input.c());
        return new PoolGeometry(this, input, out, a[0], a[1]);
    }

    /**
     * This spec applied to {@code input} of any rank and layout: one resolved {@link Axis} per
     * spatial axis, outermost first, every window checked.
     *
     * @throws InvalidSpecException the spec is for another rank, or cannot run on the input
     */
    public Axis[] axes(TensorShape input) {
        int r = input.rank();
        requireRank(r);
        int[] kr = window(r);
        int[] sr = stride(r);
        int[] dr = dilation(r);
        Axis[] axes = new Axis[r];
        for (int i = 0; i < r; i++) {
            String name = AXIS_NAMES[3 - r + i];
            int pr = padding.rank() == 0 ? r : padding.rank();
            axes[i] = Axis.resolve(name, input.spatial(i), kr[i], sr[i], dr[i], padding, padding.begin(i, pr), padding.end(i, pr), ceilMode);
        }
        return axes;
    }

    /**
     * Parses the form {@link #toString()} writes: the mode, then space-separated settings
     * {@code k=KHxKW s=SHxSW d=DHxDW pad=T,B,L,R|valid|same|same-lower ceil include-pad p=P}
     * (3-D: {@code k=KDxKHxKW}, {@code pad} with six numbers; 1-D: {@code k=K ... rank=1}). A single
     * number means every axis ({@code k=3}). Everything but the mode and {@code k} is optional.
     */
    public static PoolSpec parse(String text) {
        return PoolSpecText.parse(text);
    }

    /** {@code A} or {@code AxB} (also {@code A,B}) as two ints: the CLI's and parse()'s pair form. */
    public static int[] pair(String field, String val) {
        String[] parts = PoolSpecText.require(field, val).split("[x,]", -1);
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

    static String text(int[] v) {
        StringBuilder b = new StringBuilder();
        for (int x : v) {
            b.append(b.length() == 0 ? "" : "x").append(x);
        }
        return b.toString();
    }

    /** The per-axis arrays as a spec of rank {@code canonicalRank()} holds them. */
    private int canonicalRank() {
        return rank == 0 ? 2 : rank;
    }

    @Override
    public String toString() {
        int r = canonicalRank();
        StringBuilder b = new StringBuilder(mode.word());
        b.append(" k=").append(text(expand(k, r)));
        b.append(" s=").append(text(expand(s, r)));
        int[] dr = expand(d, r);
        if (Arrays.stream(dr).anyMatch(x -> x != 1)) {
            b.append(" d=").append(text(dr));
        }
        if (padding != Padding.VALID) {
            b.append(" pad=").append(padding.toString(r));
        }
        if (ceilMode) {
            b.append(" ceil");
        }
        if (countIncludePad) {
            b.append(" include-pad");
        }
        if (mode == PoolMode.LP) {
            b.append(" p=").append(p);
        }
        if (rank == 1) {
            b.append(" rank=1");
        }
        return b.toString();
    }

    /**
     * Specs are equal when they compute the same thing: {@code p} counts for LP only, and settings
     * given as one number for every axis equal the same numbers given per axis in 2-D.
     */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof PoolSpec q)) {
            return false;
        }
        int r = canonicalRank();
        return q.mode == mode && q.canonicalRank() == r && Arrays.equals(expand(q.k, r), expand(k, r))
                && Arrays.equals(expand(q.s, r), expand(s, r)) && Arrays.equals(expand(q.d, r), expand(d, r))
                && q.padding.toString(r).equals(padding.toString(r)) && q.ceilMode == ceilMode && q.countIncludePad == countIncludePad
                && (mode != PoolMode.LP || Double.compare(q.p, p) == 0);
    }

    @Override
    public int hashCode() {
        int r = canonicalRank();
        return Objects.hash(mode, Arrays.hashCode(expand(k, r)), Arrays.hashCode(expand(s, r)),
                Arrays.hashCode(expand(d, r)), padding.toString(r), ceilMode, countIncludePad, mode == PoolMode.LP ? p : 0.0);
    }

    /** {@code v}, each at least 1; a value for every rank is named as in 2-D ({@code 0x0}). */
    private static int[] positive(String field, int[] v, int rank) {
        for (int x : v) {
            if (x < 1) {
                throw new InvalidSpecException(field, text(rank == 0 ? expand(v, 2) : v), "must be >= 1 on each axis");
            }
        }
        return v;
    }

    /** Builds a {@link PoolSpec}; stride defaults to the window, dilation to 1, padding to valid. */
    public static final class Builder {
        private final PoolMode mode;
        int[] window;
        int windowRank;
        private int[] stride;
        int strideRank;
        private int[] dilation = {1};
        int dilationRank;
        private Padding padding = Padding.VALID;
        private boolean ceilMode;
        private boolean countIncludePad;
        private double p = 2.0;

        private Builder(PoolMode mode) {
            this.mode = mode;
        }

        /** The same window on every spatial axis. */
        public Builder window(int k) {
            this.window = new int[] {k};
            this.windowRank = 0;
            return this;
        }

        public Builder window(int kh, int kw) {
            return window(new int[] {kh, kw});
        }

        /** The window per spatial axis, outermost first (1 to 3 numbers). */
        public Builder window(int... k) {
            this.window = perAxis("window", k);
            this.windowRank = k.length;
            return this;
        }

        /** The same stride on every axis; by default the stride equals the window. */
        public Builder stride(int s) {
            checkStride(s);
            this.stride = new int[] {s};
            this.strideRank = 0;
            return this;
        }

        /** Stride per axis; by default the stride equals the window. */
        public Builder stride(int sh, int sw) {
            return stride(new int[] {sh, sw});
        }

        /** Stride per spatial axis, outermost first; by default the stride equals the window. */
        public Builder stride(int... s) {
            int[] v = perAxis("stride", s);
            for (int x : v) {
                if (x < 1) {
                    throw new InvalidSpecException("stride", text(v), "must be >= 1 on each axis");
                }
            }
            this.stride = v;
            this.strideRank = v.length;
            return this;
        }

        private static void checkStride(int s) {
            if (s < 1) {
                throw new InvalidSpecException("stride", s + "x" + s, "must be >= 1 on each axis");
            }
        }

        /** The same dilation on every axis. */
        public Builder dilation(int d) {
            this.dilation = new int[] {d};
            this.dilationRank = 0;
            return this;
        }

        public Builder dilation(int dh, int dw) {
            return dilation(new int[] {dh, dw});
        }

        /** Dilation per spatial axis, outermost first. */
        public Builder dilation(int... d) {
            this.dilation = perAxis("dilation", d);
            this.dilationRank = d.length;
            return this;
        }

        private static int[] perAxis(String field, int[] v) {
            if (v == null || v.length < 1 || v.length > 3) {
                throw new InvalidSpecException(field, v == null ? "(null)" : text(v), "needs 1, 2 or 3 numbers (one per spatial axis)");
            }
            return v.clone();
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
