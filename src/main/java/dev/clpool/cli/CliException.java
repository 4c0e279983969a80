package dev.clpool.cli;

/** A failure the CLI reports as one line with a specific exit code. */
final class CliException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int exitCode;

    CliException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    /** Bad usage or bad input: exit code 2. */
    static CliException badInput(String message) {
        return new CliException(ExitCodes.BAD_INPUT, message);
    }

    int exitCode() {
        return exitCode;
    }
}
