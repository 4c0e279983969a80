package dev.clpool;

/**
 * An operation's input data that it cannot accept (not its parameters: those are
 * {@link InvalidSpecException}); for example an unpooling index that names no element of the
 * output. The message names the first offending element and its value; nothing was written.
 * The CLI turns it into exit code 2 with its message as the one line on stderr.
 */
public class InvalidInputException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public InvalidInputException(String message) {
        super(message);
    }
}
