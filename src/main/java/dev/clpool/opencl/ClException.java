package dev.clpool.opencl;

/** An OpenCL call failed: carries the call and the error code with its name. */
public class ClException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int code;

    public ClException(String call, int code) {
        this(call, code, call + " failed: " + Cl.errorName(code));
    }

    protected ClException(String call, int code, String message) {
        super(message);
        this.call = call;
        this.code = code;
    }

    /** The OpenCL function that failed, for example {@code clCreateBuffer}. */
    public String call() {
        return call;
    }

    /** The OpenCL error code (negative). */
    public int code() {
        return code;
    }

    /** Throws unless {@code code} is {@code CL_SUCCESS}. */
    public static void check(String call, int code) {
        if (code != Cl.CL_SUCCESS) {
            throw new ClException(call, code);
        }
    }
}
