package dev.clpool.explain;

import dev.clpool.Axis;
import java.util.ArrayList;
import java.util.List;

/** What one framework's rules found about a request; the strongest finding decides the verdict. */
final class Findings {
    final String name;
    final List<String> refused = new ArrayList<>();
    final List<String> different = new ArrayList<>();
    final List<String> check = new ArrayList<>();
    final List<String> notes = new ArrayList<>();

    Findings(String name) {
        this.name = name;
    }

    /**
     * Whether the framework's axes ({@code theirs}, one per spatial axis) give clpool's output sizes
     * and window starts; otherwise records why not.
     */
    boolean sameWindows(ResolvedRequest g, List<Axis> theirs) {
        boolean same = true;
        for (int i = 0; i < g.rank(); i++) {
            Axis ours = g.axis(i);
            if (theirs.get(i).out() != ours.out()) {
                different.add(name + " gives an output " + g.name(i) + " of " + theirs.get(i).out() + ", clpool "
                        + ours.out());
                same = false;
            } else if (theirs.get(i).padBegin() != ours.padBegin()) {
                different.add(name + "'s " + g.name(i) + " windows start at " + theirs.get(i).start(0)
                        + ", clpool's at " + ours.start(0));
                same = false;
            }
        }
        return same;
    }

    FrameworkVerdict verdict(Framework f, String call) {
        if (!refused.isEmpty()) {
            return new FrameworkVerdict(f, Verdict.REFUSED, null, refused, notes);
        }
        if (!different.isEmpty()) {
            return new FrameworkVerdict(f, Verdict.DIFFERENT, call, different, notes);
        }
        if (!check.isEmpty()) {
            return new FrameworkVerdict(f, Verdict.CHECK, call, check, notes);
        }
        return new FrameworkVerdict(f, Verdict.SAME, call, List.of(), notes);
    }
}
