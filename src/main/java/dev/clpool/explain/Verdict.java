package dev.clpool.explain;

import java.util.Locale;

/** How a framework would treat a clpool request. */
public enum Verdict {
    /** The framework call shown computes what clpool computes (up to float rounding for avg and lp). */
    SAME("same result"),
    /** The framework accepts an equivalent call but computes something else; the reasons say what. */
    DIFFERENT("different result"),
    /** The framework cannot express the request; the reasons say why. */
    REFUSED("refused"),
    /** The geometry matches, but a corner case of the framework's rule is not settled: check it. */
    CHECK("check");

    private final String phrase;

    Verdict(String phrase) {
        this.phrase = phrase;
    }

    /** {@code same result}, {@code different result}, {@code refused} or {@code check}. */
    public String phrase() {
        return phrase;
    }

    /** {@code same}, {@code different}, {@code refused} or {@code check}: the JSON word. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }
}
