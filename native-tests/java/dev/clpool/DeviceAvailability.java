package dev.clpool;

import static org.junit.jupiter.api.Assertions.fail;

import dev.clpool.opencl.Bindings;
import dev.clpool.opencl.OpenClDevices;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;

/**
 * Whether the device tests can run here. On a machine without OpenCL they are skipped with the
 * reason printed; on CI ({@code CI=true}) a missing device or binding is a failure, never a skip.
 */
public final class DeviceAvailability {
    private DeviceAvailability() {
    }

    public static boolean onCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** Returns normally if an OpenCL device is usable through some binding; else skips or fails. */
    public static void requireDevice() {
        try {
            OpenClDevices.choose(Bindings.require(BindingChoice.AUTO), -1);
        } catch (DeviceUnavailableException e) {
            unavailable("no usable OpenCL device (" + e.reason() + "): " + e.getMessage());
        }
    }

    /**
     * The bindings to run device tests through: every binding clpool has. One that cannot load is
     * skipped with its reason here, and fails the run on CI.
     */
    public static List<BindingChoice> bindings() {
        List<BindingChoice> out = new ArrayList<>();
        for (String name : Bindings.names()) {
            out.add(BindingChoice.valueOf(name.toUpperCase(Locale.ROOT)));
        }
        return out;
    }

    /** Skips (or on CI fails) unless {@code binding} loads and reaches a usable device. */
    public static void requireDevice(BindingChoice binding) {
        try {
            OpenClDevices.choose(Bindings.require(binding), -1);
        } catch (DeviceUnavailableException e) {
            unavailable("binding " + binding.name().toLowerCase(Locale.ROOT) + " has no usable OpenCL device ("
                    + e.reason() + "): " + e.getMessage());
        }
    }

    private static void unavailable(String reason) {
        if (onCi()) {
            fail(reason + " - CI=true, so device tests must run (install PoCL: ci/install-opencl.sh)");
        }
        System.out.println("SKIPPED device test: " + reason);
        Assumptions.abort(reason);
    }
}
