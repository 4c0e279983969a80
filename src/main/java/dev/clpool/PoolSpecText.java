package dev.clpool;

import java.util.Locale;

/** {@link PoolSpec#parse(String)}: the spec's text form, {@code max k=3x3 s=2x2 pad=1,1,1,1 ...}. */
final class PoolSpecText {

    private PoolSpecText() {
    }

    static PoolSpec parse(String text) {
        String[] tokens = text.trim().split("\\s+");
        PoolSpec.Builder b = PoolSpec.builder(PoolMode.parse(tokens[0].toLowerCase(Locale.ROOT)));
        String pad = null;
        int forcedRank = 0;
        for (int i = 1; i < tokens.length; i++) {
            String t = tokens[i];
            int eq = t.indexOf('=');
            String key = eq < 0 ? t : t.substring(0, eq);
            String val = eq < 0 ? null : t.substring(eq + 1);
            switch (key) {
                case "k": b.window(axes("window", val)); b.windowRank = ranked(val); break;
                case "s": b.stride(axes("stride", val)); b.strideRank = ranked(val); break;
                case "d": b.dilation(axes("dilation", val)); b.dilationRank = ranked(val); break;
                case "pad": pad = require("padding", val); break;
                case "rank": forcedRank = axes("rank", val)[0]; break;
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
                default: throw new InvalidSpecException("setting", t, "unknown (expected k=, s=, d=, pad=, ceil, include-pad, p=, rank=)");
            }
        }
        if (b.window == null) {
            throw new InvalidSpecException("window", "(missing)", "k=KHxKW is required");
        }
        int rank = forcedRank != 0 ? forcedRank : Math.max(b.windowRank, Math.max(b.strideRank, b.dilationRank));
        if (forcedRank != 0) {
            b.windowRank = forcedRank;
            b.window = PoolSpec.expand(b.window, forcedRank);
        }
        if (pad != null) {
            b.padding(Padding.parse(pad, rank == 0 ? 2 : rank));
        }
        return b.build();
    }

    /** The rank a parsed per-axis setting has: 0 for one number (every axis). */
    private static int ranked(String val) {
        int n = val.split("[x,]", -1).length;
        return n == 1 ? 0 : n;
    }

    /** {@code A}, {@code AxB} or {@code AxBxC} (also comma-separated) as ints. */
    private static int[] axes(String field, String val) {
        String[] parts = require(field, val).split("[x,]", -1);
        if (parts.length <= 3) {
            try {
                int[] v = new int[parts.length];
                for (int i = 0; i < v.length; i++) {
                    v[i] = Integer.parseInt(parts[i].trim());
                }
                return v;
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new InvalidSpecException(field, val, "expected N, H,W or D,H,W with integers");
    }

    /** A setting that is a bare word ({@code ceil}): {@code ceil=0} must not turn ceil mode on. */
    private static boolean word(String token, String val) {
        if (val != null) {
            throw new InvalidSpecException("setting", token, "takes no value (write the word alone to turn it on)");
        }
        return true;
    }

    static String require(String key, String val) {
        if (val == null || val.isEmpty()) {
            throw new InvalidSpecException(key, "(empty)", "needs a value");
        }
        return val;
    }
}
