package dev.clpool;

/**
 * A pooling request that cannot run: names the field, the value and why.
 * The CLI turns it into exit code 2 with its message as the one line on stderr.
 */
public class InvalidSpecException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String field;
    private final String value;

    public InvalidSpecException(String field, Object value, String problem) {
        super(field + " " + value + ": " + problem);
        this.field = field;
        this.value = String.valueOf(value);
    }

    /** The spec field at fault, for example {@code window}, {@code padding} or {@code p}. */
    public String field() {
        return field;
    }

    /** The offending value as text. */
    public String value() {
        return value;
    }
}
