package dev.clpool.cli;

import dev.clpool.Padding;

/**
 * The per-axis flags of SEMANTICS.md's command line ({@code --window}, {@code --stride},
 * {@code --dilation}, {@code --output-size}, {@code --pad}): one number for every spatial axis or
 * exactly one per axis, outermost first. A wrong count is bad input naming the flag.
 */
final class AxisValues {
    private AxisValues() {
    }

    /**
     * {@code text} ({@code A}, {@code A,B} or {@code A,B,C}; {@code x} also separates) as 1 to 3
     * integers, checked for syntax only.
     */
    static int[] parse(String flag, String text) {
        String[] parts = text.trim().split("[x,]", -1);
        if (parts.length > 3) {
            throw CliException.badInput(flag + " " + text + ": expected the " + what(flag)
                    + " as 1 to 3 numbers (one per spatial axis), got " + parts.length);
        }
        int[] v = new int[parts.length];
        for (int i = 0; i < v.length; i++) {
            try {
                v[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw CliException.badInput(flag + " " + text + ": expected the " + what(flag) + " as integers, '"
                        + parts[i].trim() + "' is not one");
            }
        }
        return v;
    }

    /**
     * {@code text} for an input of spatial rank {@code k}: one number (every axis) or exactly
     * {@code k}; the array has 1 or {@code k} elements.
     */
    static int[] forRank(String flag, String text, int k) {
        int[] v = parse(flag, text);
        if (v.length != 1 && v.length != k) {
            throw CliException.badInput(flag + " " + text + ": expected 1 or " + k + " numbers for a " + k
                    + "-D input (the " + what(flag) + " of every axis, or one per axis, outermost first), got " + v.length);
        }
        return v;
    }

    /** {@code --output-size} as {@code output size}: what the flag sets, for messages. */
    static String what(String flag) {
        return flag.replaceFirst("^--", "").replace('-', ' ');
    }

    /** {@link #forRank} expanded to exactly {@code k} numbers. */
    static int[] expanded(String flag, String text, int k) {
        int[] v = forRank(flag, text, k);
        if (v.length == k) {
            return v;
        }
        int[] out = new int[k];
        java.util.Arrays.fill(out, v[0]);
        return out;
    }

    /**
     * {@code --pad} for spatial rank {@code k}: a word, or 1, {@code k} or {@code 2k} numbers
     * ({@link Padding#parse(String, int)}).
     */
    static Padding padding(String text, int k) {
        String t = text.trim();
        if (!t.isEmpty() && Character.isLetter(t.charAt(0))) {
            return Padding.parse(t, k);
        }
        int n = t.split(",", -1).length;
        if (n != 1 && n != k && n != 2 * k) {
            String counts = k == 1 ? "1 or 2" : "1, " + k + " or " + 2 * k;
            throw CliException.badInput("--pad " + text + ": expected " + counts + " numbers for a " + k
                    + "-D input (every side; both sides of each axis; begin,end of each axis), or valid, same,"
                    + " same-lower, got " + n);
        }
        Padding p = Padding.parse(t, k);
        if (p.kind() == Padding.Kind.EXPLICIT && p.rank() == 0 && k != 2) {
            // One amount for every rank, which PoolSpec's text writes in the 2-D form (pad=1,1,1,1); per
            // axis it is written, and parsed back, as a k-D padding.
            int[] all = new int[k];
            java.util.Arrays.fill(all, p.begin(0, k));
            return Padding.perAxis(all, all.clone());
        }
        return p;
    }
}
