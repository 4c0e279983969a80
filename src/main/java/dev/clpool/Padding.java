package dev.clpool;

import java.util.Arrays;
import java.util.Locale;

/**
 * Padding of a pooling window: explicit amounts before and after each spatial axis, or a rule that
 * derives them from the input size ({@code valid}, {@code same}, {@code same-lower}; see
 * SEMANTICS.md).
 *
 * <p>Explicit padding is either one amount for every side of every axis ({@link #of(int)}, which
 * fits a spec of any spatial rank) or given per axis for one rank: {@link #of(int, int)} and
 * {@link #of(int, int, int, int)} in 2-D, {@link #perAxis(int[], int[])} in any rank. The 2-D
 * accessors {@link #top()}, {@link #bottom()}, {@link #left()} and {@link #right()} read a padding
 * of rank 2 (or one that fits every rank); {@link #begin(int, int)} and {@link #end(int, int)} read
 * any.
 */
public final class Padding {

    /** How the amounts are found. */
    public enum Kind { EXPLICIT, VALID, SAME, SAME_LOWER }

    public static final Padding VALID = new Padding(Kind.VALID, 0, new int[] {0}, new int[] {0});
    /** ONNX SAME_UPPER / TensorFlow SAME: the odd extra pixel goes at the end. */
    public static final Padding SAME = new Padding(Kind.SAME, 0, new int[] {0}, new int[] {0});
    /** ONNX SAME_LOWER: the odd extra pixel goes at the beginning. */
    public static final Padding SAME_LOWER = new Padding(Kind.SAME_LOWER, 0, new int[] {0}, new int[] {0});

    private final Kind kind;
    /** The spatial rank the amounts are for; 0 when one amount fits every axis (and for the words). */
    private final int rank;
    private final int[] begin;
    private final int[] end;

    private Padding(Kind kind, int rank, int[] begin, int[] end) {
        this.kind = kind;
        this.rank = rank;
        this.begin = begin;
        this.end = end;
    }

    /** Explicit amounts (top, bottom, left, right) of a 2-D spec, each &ge; 0 (the spec checks them against the window). */
    public static Padding of(int top, int bottom, int left, int right) {
        return perAxis(new int[] {top, left}, new int[] {bottom, right});
    }

    /** The same amount on every side of every axis: fits a spec of any spatial rank. */
    public static Padding of(int all) {
        if (all < 0) {
            throw new InvalidSpecException("padding", all, "each side must be >= 0");
        }
        return all == 0 ? VALID : new Padding(Kind.EXPLICIT, 0, new int[] {all}, new int[] {all});
    }

    /** {@code ph} above and below, {@code pw} left and right (2-D). */
    public static Padding of(int ph, int pw) {
        return of(ph, ph, pw, pw);
    }

    /**
     * Explicit amounts before and after each spatial axis, outermost first: {@code begin.length}
     * (1, 2 or 3) is the spec's spatial rank.
     */
    public static Padding perAxis(int[] begin, int[] end) {
        if (begin.length != end.length || begin.length < 1 || begin.length > 3) {
            throw new InvalidSpecException("padding", Arrays.toString(begin) + " " + Arrays.toString(end),
                    "needs a begin and an end amount for each of 1, 2 or 3 axes");
        }
        boolean zero = true;
        for (int i = 0; i < begin.length; i++) {
            if (begin[i] < 0 || end[i] < 0) {
                throw new InvalidSpecException("padding", text(begin, end), "each side must be >= 0");
            }
            zero &= begin[i] == 0 && end[i] == 0;
        }
        return zero ? VALID : new Padding(Kind.EXPLICIT, begin.length, begin.clone(), end.clone());
    }

    /**
     * Parses the CLI's 2-D forms: {@code P}, {@code PH,PW}, {@code T,B,L,R}, {@code valid},
     * {@code same}, {@code same-lower}.
     */
    public static Padding parse(String text) {
        return parse(text, 2);
    }

    /**
     * Parses the CLI's forms for spatial rank {@code rank} (SEMANTICS.md): one number for every side,
     * {@code rank} numbers (both sides of each axis), {@code 2*rank} numbers ({@code begin,end} of each
     * axis in turn), or {@code valid}, {@code same}, {@code same-lower}.
     */
    public static Padding parse(String text, int rank) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        switch (t) {
            case "valid": return VALID;
            case "same": return SAME;
            case "same-lower": return SAME_LOWER;
            default: break;
        }
        String forms = rank == 1 ? "P or B,E" : rank == 2 ? "P, PH,PW or T,B,L,R" : "P, PD,PH,PW or 6 numbers (begin,end per axis)";
        String[] parts = t.split(",", -1);
        int[] v = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                v[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new InvalidSpecException("padding", text, "expected " + forms + ", valid, same or same-lower");
            }
        }
        if (v.length == 1) {
            return of(v[0]);
        }
        int[] b = new int[rank];
        int[] e = new int[rank];
        if (v.length == rank) {
            System.arraycopy(v, 0, b, 0, rank);
            System.arraycopy(v, 0, e, 0, rank);
        } else if (v.length == 2 * rank) {
            for (int i = 0; i < rank; i++) {
                b[i] = v[2 * i];
                e[i] = v[2 * i + 1];
            }
        } else {
            throw new InvalidSpecException("padding", text, "expected " + forms + " for a " + rank + "-D input ("
                    + (rank == 1 ? "1 or 2" : "1, " + rank + " or " + 2 * rank) + " numbers)");
        }
        return perAxis(b, e);
    }

    public Kind kind() {
        return kind;
    }

    /** The spatial rank the explicit amounts are for, or 0 when they fit every rank (one amount, or a word). */
    public int rank() {
        return rank;
    }

    /** Explicit amount before {@code axis} (outermost first) of a spec of spatial rank {@code specRank}; 0 unless {@link Kind#EXPLICIT}. */
    public int begin(int axis, int specRank) {
        return amount(begin, axis, specRank);
    }

    /** Explicit amount after {@code axis}; see {@link #begin(int, int)}. */
    public int end(int axis, int specRank) {
        return amount(end, axis, specRank);
    }

    private int amount(int[] v, int axis, int specRank) {
        if (rank == 0) {
            return v[0];
        }
        if (specRank != rank) {
            throw new InvalidSpecException("padding", this, "is for " + rank + " axes, the spec has " + specRank);
        }
        return v[axis];
    }

    /** Explicit amounts (all 0 unless {@link Kind#EXPLICIT}) of a 2-D spec. */
    public int top() {
        return begin(0, 2);
    }

    public int bottom() {
        return end(0, 2);
    }

    public int left() {
        return begin(1, 2);
    }

    public int right() {
        return end(1, 2);
    }

    /**
     * Round-trips through {@link #parse(String, int)} for its rank: {@code begin,end} of each axis
     * ({@code T,B,L,R} in 2-D; an amount that fits every rank is written as a 2-D one).
     */
    @Override
    public String toString() {
        switch (kind) {
            case VALID: return "valid";
            case SAME: return "same";
            case SAME_LOWER: return "same-lower";
            default: return rank == 0 ? text(new int[] {begin[0], begin[0]}, new int[] {end[0], end[0]}) : text(begin, end);
        }
    }

    /**
     * {@link #toString()} for a spec of spatial rank {@code specRank}: an amount that fits every rank
     * is written for that many axes, so that {@link #parse(String, int)} reads it back.
     */
    String toString(int specRank) {
        if (kind != Kind.EXPLICIT || rank != 0) {
            return toString();
        }
        int[] v = new int[specRank];
        Arrays.fill(v, begin[0]);
        return text(v, v);
    }

    private static String text(int[] b, int[] e) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < b.length; i++) {
            s.append(i == 0 ? "" : ",").append(b[i]).append(',').append(e[i]);
        }
        return s.toString();
    }

    /** The amounts as a rank-{@code r} padding would hold them (an amount for every rank counts as rank 2). */
    private int[] canonical() {
        if (rank == 0) {
            return new int[] {begin[0], end[0], begin[0], end[0]};
        }
        int[] c = new int[2 * rank];
        for (int i = 0; i < rank; i++) {
            c[2 * i] = begin[i];
            c[2 * i + 1] = end[i];
        }
        return c;
    }

    /** Equal when they pad alike: one amount for every rank equals the same amounts given in 2-D. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Padding p && p.kind == kind && Arrays.equals(p.canonical(), canonical());
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + Arrays.hashCode(canonical());
    }
}
