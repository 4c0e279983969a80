package dev.clpool;

import java.util.Locale;

/**
 * Padding of a pooling window: explicit (top, bottom, left, right), or a rule that derives it
 * from the input size ({@code valid}, {@code same}, {@code same-lower}; see SEMANTICS.md).
 */
public final class Padding {

    /** How the amounts are found. */
    public enum Kind { EXPLICIT, VALID, SAME, SAME_LOWER }

    public static final Padding VALID = new Padding(Kind.VALID, 0, 0, 0, 0);
    /** ONNX SAME_UPPER / TensorFlow SAME: the odd extra pixel goes at the end. */
    public static final Padding SAME = new Padding(Kind.SAME, 0, 0, 0, 0);
    /** ONNX SAME_LOWER: the odd extra pixel goes at the beginning. */
    public static final Padding SAME_LOWER = new Padding(Kind.SAME_LOWER, 0, 0, 0, 0);

    private final Kind kind;
    private final int top;
    private final int bottom;
    private final int left;
    private final int right;

    private Padding(Kind kind, int top, int bottom, int left, int right) {
        this.kind = kind;
        this.top = top;
        this.bottom = bottom;
        this.left = left;
        this.right = right;
    }

    /** Explicit amounts, each &ge; 0 (the spec checks them against the window). */
    public static Padding of(int top, int bottom, int left, int right) {
        int[] v = {top, bottom, left, right};
        for (int x : v) {
            if (x < 0) {
                throw new InvalidSpecException("padding", top + "," + bottom + "," + left + "," + right,
                        "each side must be >= 0");
            }
        }
        if (top == 0 && bottom == 0 && left == 0 && right == 0) {
            return VALID;
        }
        return new Padding(Kind.EXPLICIT, top, bottom, left, right);
    }

    /** The same amount on all four sides. */
    public static Padding of(int all) {
        return of(all, all, all, all);
    }

    /** {@code ph} above and below, {@code pw} left and right. */
    public static Padding of(int ph, int pw) {
        return of(ph, ph, pw, pw);
    }

    /**
     * Parses the CLI's forms: {@code P}, {@code PH,PW}, {@code T,B,L,R}, {@code valid}, {@code same},
     * {@code same-lower}.
     */
    public static Padding parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        switch (t) {
            case "valid": return VALID;
            case "same": return SAME;
            case "same-lower": return SAME_LOWER;
            default: break;
        }
        String[] parts = t.split(",", -1);
        int[] v = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                v[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new InvalidSpecException("padding", text,
                        "expected P, PH,PW, T,B,L,R, valid, same or same-lower");
            }
        }
        switch (v.length) {
            case 1: return of(v[0]);
            case 2: return of(v[0], v[1]);
            case 4: return of(v[0], v[1], v[2], v[3]);
            default:
                throw new InvalidSpecException("padding", text,
                        "expected 1, 2 or 4 numbers (P, PH,PW or T,B,L,R)");
        }
    }

    public Kind kind() {
        return kind;
    }

    /** Explicit amounts (all 0 unless {@link Kind#EXPLICIT}). */
    public int top() {
        return top;
    }

    public int bottom() {
        return bottom;
    }

    public int left() {
        return left;
    }

    public int right() {
        return right;
    }

    /** Round-trips through {@link #parse(String)}. */
    @Override
    public String toString() {
        switch (kind) {
            case VALID: return "valid";
            case SAME: return "same";
            case SAME_LOWER: return "same-lower";
            default: return top + "," + bottom + "," + left + "," + right;
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Padding p && p.kind == kind && p.top == top && p.bottom == bottom
                && p.left == left && p.right == right;
    }

    @Override
    public int hashCode() {
        return ((kind.hashCode() * 31 + top) * 31 + bottom) * 31 * 31 + left * 31 + right;
    }
}
