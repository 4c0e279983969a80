package dev.clpool.opencl;

/** A kernel program failed to build: carries the build options and the compiler's log. */
public class ClBuildException extends ClException {
    private static final long serialVersionUID = 1L;

    private final String options;
    private final String log;

    public ClBuildException(int code, String options, String log) {
        super("clBuildProgram", code, "kernel build failed (" + Cl.errorName(code) + ") with options ["
                + options + "]: " + firstLines(log));
        this.options = options;
        this.log = log;
    }

    public String options() {
        return options;
    }

    /** The full build log. */
    public String log() {
        return log;
    }

    private static String firstLines(String log) {
        String t = log == null ? "" : log.strip();
        return t.length() > 2000 ? t.substring(0, 2000) + " ..." : t;
    }
}
