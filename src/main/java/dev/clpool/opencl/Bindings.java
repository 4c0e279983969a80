package dev.clpool.opencl;

import dev.clpool.BindingChoice;
import dev.clpool.DeviceUnavailableException;
import dev.clpool.DeviceUnavailableException.Reason;
import dev.clpool.opencl.jocl.JoclBinding;
import dev.clpool.opencl.lwjgl.LwjglBinding;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Loads the OpenCL bindings. Loading is a probe that never throws an {@link Error}: a missing
 * {@code libOpenCL.so} surfaces as {@link UnsatisfiedLinkError} and, on a second try, as
 * {@link NoClassDefFoundError} (a failed static initialiser cannot be retried), so each binding is
 * probed once per JVM and the outcome remembered. This memo (like the program cache) reflects
 * the JVM's own class-loading state and never changes once set.
 */
public final class Bindings {

    /** The outcome of loading one binding: the binding, or why it cannot be used. */
    public record Outcome(String name, ClBinding binding, Reason reason, String problem) {
        public boolean loaded() {
            return binding != null;
        }
    }

    private static final Map<String, Supplier<ClBinding>> FACTORIES = new LinkedHashMap<>();

    static {
        FACTORIES.put("jocl", JoclBinding::new);
        FACTORIES.put("lwjgl", LwjglBinding::new);
    }

    private static final Map<String, Outcome> OUTCOMES = new ConcurrentHashMap<>();

    private Bindings() {
    }

    /** The binding names in preference order ({@code auto} tries them in this order). */
    public static List<String> names() {
        return List.copyOf(FACTORIES.keySet());
    }

    /** Loads (once per JVM) the named binding; never throws. */
    public static Outcome probe(String name) {
        return OUTCOMES.computeIfAbsent(name, Bindings::load);
    }

    /**
     * The binding for {@code choice}: the named one, or for AUTO the first that loads.
     *
     * @throws DeviceUnavailableException naming every binding's reason when none loads
     */
    public static ClBinding require(BindingChoice choice) {
        List<String> candidates = choice == BindingChoice.AUTO ? names() : List.of(choice.name().toLowerCase());
        List<Outcome> failures = new ArrayList<>();
        for (String name : candidates) {
            Outcome o = probe(name);
            if (o.loaded()) {
                return o.binding();
            }
            failures.add(o);
        }
        Outcome first = failures.get(0);
        StringBuilder msg = new StringBuilder();
        for (Outcome o : failures) {
            msg.append(msg.length() == 0 ? "" : "; ").append(o.name()).append(": ").append(o.problem());
        }
        return throwUnavailable(first.reason(), msg.toString());
    }

    private static ClBinding throwUnavailable(Reason reason, String message) {
        throw new DeviceUnavailableException(reason, message);
    }

    private static Outcome load(String name) {
        Supplier<ClBinding> factory = FACTORIES.get(name);
        if (factory == null) {
            return new Outcome(name, null, Reason.BINDING_FAILED, "unknown binding (known: " + names() + ")");
        }
        Optional<String> missing = OpenClLibrary.definitelyMissing(libraryNames(name));
        if (missing.isPresent()) {
            return new Outcome(name, null, Reason.NO_LIBRARY, missing.get());
        }
        try {
            return new Outcome(name, factory.get(), null, null);
        } catch (LinkageError | RuntimeException e) {
            return failure(name, e);
        }
    }

    /**
     * The library file names a binding can load: JOCL only the unversioned name; LWJGL also the
     * runtime's {@code .so.1} (none to check when the user named the library for LWJGL).
     */
    private static List<String> libraryNames(String binding) {
        if (binding.equals("lwjgl")) {
            return System.getProperty("org.lwjgl.opencl.libname") != null ? List.of()
                    : List.of("libOpenCL.so", "libOpenCL.so.1");
        }
        return List.of("libOpenCL.so");
    }

    static Outcome failure(String name, Throwable e) {
        String text = describe(e);
        if (missingLibrary(e, text)) {
            return new Outcome(name, null, Reason.NO_LIBRARY, "libOpenCL.so could not be loaded (" + text
                    + "); install an OpenCL loader, e.g. `apt-get install ocl-icd-opencl-dev` on Debian/Ubuntu,"
                    + " plus a driver such as pocl-opencl-icd");
        }
        return new Outcome(name, null, Reason.BINDING_FAILED, "the " + name + " binding failed to initialise: " + text);
    }

    /**
     * Whether {@code e} says the OpenCL loader library itself could not be loaded: a
     * {@link LinkageError} in the chain whose text names that library. Seen (Linux):
     * JOCL "UnsatisfiedLinkError: Could not initialize native OpenCL library. Implementation library
     * could not be loaded"; LWJGL "UnsatisfiedLinkError: Failed to locate library: libOpenCL.so".
     * Merely mentioning OpenCL is not enough: the binding's own failures (missing JOCL or LWJGL
     * natives, an LWJGL "OpenCL library has not been loaded." IllegalStateException, a package
     * name such as org.lwjgl.opencl) are BINDING_FAILED.
     */
    private static boolean missingLibrary(Throwable e, String text) {
        boolean linkage = false;
        for (Throwable t = e; t != null && !linkage; t = t.getCause() == t ? null : t.getCause()) {
            linkage = t instanceof LinkageError;
        }
        String lower = text.toLowerCase(Locale.ROOT);
        return linkage && (lower.contains("libopencl") // libOpenCL.so, libOpenCL.so.1
                || lower.contains("opencl.dll")
                || lower.contains("opencl.framework") // macOS
                || lower.contains("opencl library"));
    }

    private static String describe(Throwable e) {
        StringBuilder s = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (s.length() > 0) {
                s.append(" <- ");
            }
            s.append(t.getClass().getSimpleName());
            if (t.getMessage() != null) {
                s.append(": ").append(t.getMessage().strip().replace('\n', ' '));
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return s.toString();
    }
}
