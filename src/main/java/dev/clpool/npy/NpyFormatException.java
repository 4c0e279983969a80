package dev.clpool.npy;

import java.io.IOException;
import java.util.Objects;

/**
 * A {@code .npy} file that clpool cannot read: not a {@code .npy} file, a format it does not
 * support, or a damaged one.
 *
 * <p>The message is one line, {@code <file name>: <problem>}, for example
 * {@code input.npy: dtype <f8 not supported, expected <f4 or <f2}, ready to show to a person as it is.
 * Control characters in the file name or in echoed header text are escaped, so the message never
 * spans lines.
 */
public final class NpyFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    private final String fileName;
    private final String problem;

    NpyFormatException(String fileName, String problem) {
        super(oneLine(fileName, 200) + ": " + oneLine(problem, 400));
        this.fileName = Objects.requireNonNull(fileName, "fileName");
        this.problem = Objects.requireNonNull(problem, "problem");
    }

    /** The file's name (without its directory), as given to the reader. */
    public String fileName() {
        return fileName;
    }

    /** What is wrong with the file, without the file name. */
    public String problem() {
        return problem;
    }

    /**
     * {@code text} with control characters (including Unicode line and paragraph separators)
     * escaped, cut to {@code max} characters: safe to put into a one-line message.
     */
    static String oneLine(String text, int max) {
        StringBuilder sb = new StringBuilder(Math.min(text.length(), max) + 8);
        for (int i = 0; i < text.length(); i++) {
            if (sb.length() >= max) {
                sb.append("...");
                break;
            }
            char ch = text.charAt(i);
            if (ch < 0x20 || (ch >= 0x7f && ch < 0xa0) || ch == '\u2028' || ch == '\u2029') {
                switch (ch) {
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    default -> sb.append(String.format(ch > 0xff ? "\\u%04x" : "\\x%02x", (int) ch));
                }
            } else {
                sb.append(ch);
            }
        }
        return sb.toString();
    }
}
