package dev.clpool.cli;

import java.io.PrintWriter;

/** What both of {@code bench}'s outputs print alike: progress lines (text mode) and backends skipped. */
abstract class ProgressOutput {
    final PrintWriter out;
    final PrintWriter err;
    /** JSON mode: rows are not printed as they come. */
    final boolean quiet;

    ProgressOutput(PrintWriter out, PrintWriter err, boolean quiet) {
        this.out = out;
        this.err = err;
        this.quiet = quiet;
    }

    /** A backend (or one figure) is about to be measured: a {@code # ...} line in text mode. */
    public void started(String what) {
        if (!quiet) {
            out.println("# " + what);
            out.flush();
        }
    }

    /** A backend asked for cannot run here: one line on stderr, in either mode. */
    public void skipped(String backend, String reason) {
        err.println("clpool: " + backend + " not measured: " + ExitCodes.oneLine(reason));
        err.flush();
    }
}
