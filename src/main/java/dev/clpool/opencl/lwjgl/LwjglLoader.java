package dev.clpool.opencl.lwjgl;

import org.lwjgl.opencl.CL;
import org.lwjgl.system.Configuration;
import org.lwjgl.system.Library;
import org.lwjgl.system.SharedLibrary;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads LWJGL's natives and the OpenCL library for {@link LwjglBinding}.
 *
 * <p>Loading: LWJGL's {@link CL} creates itself from its static initialiser, looking for the
 * unversioned {@code libOpenCL.so}, which Debian/Ubuntu ship only in {@code ocl-icd-opencl-dev};
 * a failure there poisons the class for the rest of the JVM. This binding instead keeps the
 * static initialiser from loading anything ({@code OPENCL_EXPLICIT_INIT}, restored at once) and
 * creates CL itself: on Linux with the first of {@code libOpenCL.so}, {@code libOpenCL.so.1}
 * (the runtime name every loader package ships) that LWJGL can load, elsewhere with LWJGL's
 * default. No LWJGL configuration is left changed: a library name the user chose
 * ({@code org.lwjgl.opencl.libname} or {@code Configuration.OPENCL_LIBRARY_NAME}) is used as is,
 * with no fallback; an OpenCL the application already created is reused; and if the application
 * set {@code OPENCL_EXPLICIT_INIT} but has not created CL yet, the binding fails to load rather
 * than take that decision from it.
 */
final class LwjglLoader {
    private static final Logger LOG = LoggerFactory.getLogger(LwjglLoader.class);

    /** LWJGL's default: on Debian/Ubuntu only the ocl-icd-opencl-dev package provides it. */
    static final String UNVERSIONED_LINUX_NAME = "libOpenCL.so";

    /** The runtime soname of the ICD loader (ocl-icd-libopencl1 and equivalents). */
    static final String VERSIONED_LINUX_NAME = "libOpenCL.so.1";

    private LwjglLoader() {
    }

    /** Creates LWJGL's OpenCL function provider unless the application already has. */
    static synchronized void loadOpenCl() {
        // LWJGL's own natives (liblwjgl.so) first, so that their absence is not mistaken below
        // for a missing OpenCL library.
        Library.initialize();
        Boolean explicitInit = Configuration.OPENCL_EXPLICIT_INIT.get();
        // Run CL's static initialiser without letting it load the library: a load failure there
        // could not be retried (NoClassDefFoundError) and would hide the fallback below.
        boolean created;
        Configuration.OPENCL_EXPLICIT_INIT.set(Boolean.TRUE);
        try {
            created = created();
        } finally {
            Configuration.OPENCL_EXPLICIT_INIT.set(explicitInit);
        }
        if (created) {
            LOG.debug("lwjgl: OpenCL already created by the application; reusing it");
            return;
        }
        if (Boolean.TRUE.equals(explicitInit)) {
            throw new IllegalStateException("Configuration.OPENCL_EXPLICIT_INIT is set but the application has not"
                    + " called CL.create() yet; create it before using the lwjgl binding, or unset the option");
        }
        String chosen = userLibraryName();
        if (chosen != null) {
            try {
                CL.create(chosen);
            } catch (UnsatisfiedLinkError e) {
                throw linkError("the OpenCL library configured in " + Configuration.OPENCL_LIBRARY_NAME.getProperty()
                        + " (" + chosen + ") could not be loaded", e);
            }
            LOG.debug("lwjgl: loaded the OpenCL library {} (user setting)", chosen);
            return;
        }
        if (org.lwjgl.system.Platform.get() != org.lwjgl.system.Platform.LINUX) {
            CL.create();
            LOG.debug("lwjgl: loaded the OpenCL library by LWJGL's default name");
            return;
        }
        // Find which name loads with LWJGL's own search (org.lwjgl.librarypath, the system, then
        // java.library.path). Only the last attempt prints LWJGL's "[LWJGL] Failed to load a
        // library" advice to stderr, so a working libOpenCL.so.1 fallback stays quiet.
        SharedLibrary found;
        try {
            found = Library.loadNative(CL.class, "org.lwjgl.opencl", (Configuration<String>) null, UNVERSIONED_LINUX_NAME,
                    VERSIONED_LINUX_NAME);
        } catch (UnsatisfiedLinkError e) {
            throw linkError("neither " + UNVERSIONED_LINUX_NAME + " nor " + VERSIONED_LINUX_NAME
                    + " (the OpenCL library) could be loaded", e);
        }
        String name = found.getName();
        String path = found.getPath();
        found.free();
        CL.create(name);
        LOG.debug("lwjgl: loaded the OpenCL library {} ({})", name, path);
    }

    private static UnsatisfiedLinkError linkError(String message, UnsatisfiedLinkError cause) {
        UnsatisfiedLinkError e = new UnsatisfiedLinkError(message);
        e.initCause(cause);
        return e;
    }

    /** Whether CL has a function provider; the first call runs CL's static initialiser. */
    private static boolean created() {
        try {
            CL.getFunctionProvider();
            return true;
        } catch (IllegalStateException e) { // "OpenCL library has not been loaded."
            return false;
        }
    }

    /** The library name the user configured for LWJGL, or null to use the defaults. */
    private static String userLibraryName() {
        String name = Configuration.OPENCL_LIBRARY_NAME.get();
        if (name == null) {
            // Configuration reads the property once; a later System.setProperty is honoured too.
            name = System.getProperty(Configuration.OPENCL_LIBRARY_NAME.getProperty());
        }
        return name == null || name.isBlank() ? null : name;
    }
}
