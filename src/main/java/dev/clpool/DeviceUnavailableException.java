package dev.clpool;

/**
 * No usable OpenCL device for the request, with a reason a person can act on.
 * The CLI maps it to exit code 3.
 */
public class DeviceUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why no device could be used. */
    public enum Reason {
        /** The OpenCL loader library (libOpenCL.so) could not be loaded. */
        NO_LIBRARY,
        /** The loader found no platform (no ICD installed or none loads). */
        NO_PLATFORM,
        /** Platforms exist but no device (or not the requested one) is available. */
        NO_DEVICE,
        /** The Java binding itself failed to initialise (for example no natives for this OS). */
        BINDING_FAILED,
        /** A kernel failed to build for the device. */
        BUILD_FAILED,
        /** The device failed while running (out of resources, device lost, ...). */
        DEVICE_ERROR
    }

    private final Reason reason;

    public DeviceUnavailableException(Reason reason, String message) {
        this(reason, message, null);
    }

    public DeviceUnavailableException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
