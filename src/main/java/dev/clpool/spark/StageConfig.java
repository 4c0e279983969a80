package dev.clpool.spark;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.BackendChoice;
import dev.clpool.InvalidSpecException;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.io.Serializable;
import java.util.Locale;

/**
 * The values of a {@link Pooling} stage's params, as the executors need them: a plain serializable
 * record (a {@link PoolSpec} is rebuilt from it where it runs). {@link #operation()} is the one place
 * the stage's params become an engine operation, with the rules of the {@code pool} command's flags.
 */
record StageConfig(String mode, String window, String stride, String padding, String dilation,
                   boolean ceilMode, boolean countIncludePad, Double p, String outputSize,
                   boolean channelsFirst, String handleInvalid, BackendChoice backend, int batchSize)
        implements Serializable {

    /** {@code max}, {@code avg}, {@code lp}: windowed pooling, the {@code pool} command's modes. */
    static final String[] WINDOWED = {"max", "avg", "lp"};
    /** Global pooling to (N, 1, 1, C). */
    static final String[] GLOBAL = {"global_max", "global_avg"};
    /** Adaptive pooling to {@code outputSize}. */
    static final String[] ADAPTIVE = {"adaptive_max", "adaptive_avg"};

    /** One pooling operation on NHWC batches. */
    interface Operation {
        /** The NHWC output shape for {@code input}; throws {@link IllegalArgumentException} if it cannot run. */
        Shape outputShape(Shape input);

        /** Pools {@code in}: a new tensor of {@link #outputShape} of {@code in}'s shape. */
        Tensor run(PoolingEngine engine, Tensor in);
    }

    /**
     * The operation these values describe.
     *
     * @throws IllegalArgumentException (often {@link InvalidSpecException}) naming the param at fault
     */
    Operation operation() {
        if (mode.startsWith("global_")) {
            PoolMode m = PoolMode.parse(mode.substring("global_".length()));
            refuseWindowParams();
            return new Operation() {
                @Override
                public Shape outputShape(Shape in) {
                    return Shape.of(in.n(), 1, 1, in.c());
                }

                @Override
                public Tensor run(PoolingEngine engine, Tensor in) {
                    return engine.global(m, in);
                }
            };
        }
        if (mode.startsWith("adaptive_")) {
            PoolMode m = PoolMode.parse(mode.substring("adaptive_".length()));
            refuseWindowParams();
            if (outputSize == null) {
                throw new IllegalArgumentException("outputSize: required by mode " + mode + " (OH[,OW])");
            }
            int[] size = PoolSpec.pair("outputSize", outputSize);
            return new Operation() {
                @Override
                public Shape outputShape(Shape in) {
                    return AdaptiveGeometry.of(m, in, size[0], size[1]).output();
                }

                @Override
                public Tensor run(PoolingEngine engine, Tensor in) {
                    return engine.adaptive(m, in, size[0], size[1]);
                }
            };
        }
        PoolSpec spec = spec();
        return new Operation() {
            @Override
            public Shape outputShape(Shape in) {
                return spec.outputShape(in);
            }

            @Override
            public Tensor run(PoolingEngine engine, Tensor in) {
                return engine.pool(in, spec);
            }
        };
    }

    /** The windowed spec, checked as the {@code pool} command checks its flags. */
    PoolSpec spec() {
        PoolMode m = PoolMode.parse(mode);
        if (window == null) {
            throw new IllegalArgumentException("window: required by mode " + mode + " (KH[,KW])");
        }
        if (p != null && m != PoolMode.LP) {
            throw new InvalidSpecException("p", p, "applies to mode lp only");
        }
        if (countIncludePad && m != PoolMode.AVG) {
            throw new InvalidSpecException("countIncludePad", true, "applies to mode avg only");
        }
        // The library's one spec parser, over its text form: KH[,KW] and the padding words are the same.
        StringBuilder text = new StringBuilder(m.word()).append(" k=").append(token("window", window));
        setting(text, "s", "stride", stride);
        setting(text, "d", "dilation", dilation);
        setting(text, "pad", "padding", padding);
        setting(text, "p", "p", p == null ? null : Double.toString(p));
        text.append(ceilMode ? " ceil" : "").append(countIncludePad ? " include-pad" : "");
        return PoolSpec.parse(text.toString());
    }

    private static void setting(StringBuilder text, String key, String param, String value) {
        if (value != null) {
            text.append(' ').append(key).append('=').append(token(param, value));
        }
    }

    /** A param's text as one token of {@link PoolSpec#parse}: {@code "3, 2"} is {@code 3,2}. */
    private static String token(String param, String value) {
        String t = value.replaceAll("\\s+", "");
        if (t.isEmpty()) {
            throw new InvalidSpecException(param, "(empty)", "needs a value");
        }
        return t;
    }

    private void refuseWindowParams() {
        String set = window != null ? "window" : stride != null ? "stride" : dilation != null ? "dilation"
                : padding != null && !padding.equals("valid") ? "padding" : ceilMode ? "ceilMode"
                : countIncludePad ? "countIncludePad" : p != null ? "p" : null;
        if (set != null) {
            throw new IllegalArgumentException(set + ": applies to the windowed modes (max, avg, lp), not to " + mode);
        }
    }

    /** {@code auto}, {@code cpu}, {@code opencl} as a {@link BackendChoice}. */
    static BackendChoice backend(String word) {
        return BackendChoice.valueOf(word.toUpperCase(Locale.ROOT));
    }
}
