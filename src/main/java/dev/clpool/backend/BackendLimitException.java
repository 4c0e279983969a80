package dev.clpool.backend;

/**
 * A request larger than one backend can hold: a buffer beyond the device's largest allocation, or
 * more elements than the kernels' 32-bit offsets reach. Nothing failed and nothing was called on
 * the device: the backend refused the work before starting it, so another backend (the CPU path)
 * may still run it, and the device stays usable for the next request.
 *
 * <p>Thrown by backends; the engine turns it into a fallback for this one request (under
 * {@code auto}) or into {@link dev.clpool.DeviceUnavailableException} (under {@code opencl}).
 */
public class BackendLimitException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BackendLimitException(String message) {
        super(message);
    }
}
