package dev.clpool;

/** Which Java OpenCL binding talks to the driver. Both give identical results. */
public enum BindingChoice {
    /** JOCL if it loads, else LWJGL. */
    AUTO,
    /** org.jocl:jocl. */
    JOCL,
    /** org.lwjgl:lwjgl-opencl. */
    LWJGL
}
