package dev.clpool.cli;

import dev.clpool.DeviceUnavailableException;
import dev.clpool.npy.NpyFormatException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/** The CLI's exit codes (SEMANTICS.md) and the one place exceptions become them. */
final class ExitCodes {
    static final int OK = 0;
    static final int UNEXPECTED = 1;
    static final int BAD_INPUT = 2;
    static final int NO_DEVICE = 3;
    /** probe --self-test: a device disagreed with the CPU path. */
    static final int SELF_TEST_FAILED = 4;

    private ExitCodes() {
    }

    /** Prints one line for {@code e} on {@code err} and returns its exit code. */
    static int report(Throwable e, PrintWriter err) {
        int code;
        String message;
        if (e instanceof CliException c) {
            code = c.exitCode();
            message = c.getMessage();
        } else if (e instanceof NpyFormatException) {
            code = BAD_INPUT;
            message = e.getMessage();
        } else if (e instanceof NoSuchFileException f) {
            code = BAD_INPUT;
            message = f.getFile() + ": no such file";
        } else if (e instanceof AccessDeniedException f) {
            code = BAD_INPUT;
            message = f.getFile() + ": permission denied";
        } else if (e instanceof IllegalArgumentException) {
            code = BAD_INPUT; // InvalidSpecException and shape/tensor limits
            message = e.getMessage();
        } else if (e instanceof DeviceUnavailableException) {
            code = NO_DEVICE;
            message = e.getMessage();
        } else {
            code = UNEXPECTED;
            message = "unexpected error: " + e;
        }
        err.println("clpool: " + oneLine(message));
        err.flush();
        return code;
    }

    static String oneLine(String s) {
        return s == null ? "(no message)" : s.strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
