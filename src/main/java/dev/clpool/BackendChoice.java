package dev.clpool;

/** Which backend an engine uses. */
public enum BackendChoice {
    /** The first suitable OpenCL device, else the CPU path (the reason is logged once). */
    AUTO,
    /** The multithreaded CPU path. */
    CPU,
    /** An OpenCL device or nothing: never falls back ({@link DeviceUnavailableException}). */
    OPENCL
}
