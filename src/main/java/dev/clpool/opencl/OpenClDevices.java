package dev.clpool.opencl;

import dev.clpool.DeviceUnavailableException;
import dev.clpool.DeviceUnavailableException.Reason;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Enumerates the devices a binding reaches and picks one, with reasons a person can act on. */
public final class OpenClDevices {
    private OpenClDevices() {
    }

    /**
     * Every device of every platform, in platform then device order; their {@code index} is the
     * position in this list (the CLI's {@code --device N}).
     *
     * @throws DeviceUnavailableException NO_PLATFORM when the loader finds no platform
     */
    public static List<ClDevice> list(ClBinding binding) {
        List<ClBinding.PlatformId> platforms = binding.platforms();
        if (platforms.isEmpty()) {
            throw new DeviceUnavailableException(Reason.NO_PLATFORM,
                    "no OpenCL platform found: the ICD loader found no driver (see /etc/OpenCL/vendors and"
                            + " OCL_ICD_VENDORS; install one, e.g. `apt-get install pocl-opencl-icd`)");
        }
        List<ClDevice> out = new ArrayList<>();
        for (ClBinding.PlatformId p : platforms) {
            for (ClBinding.DeviceId d : binding.devices(p)) {
                out.add(new ClDevice(binding, p, d, DeviceInfo.query(binding, p, d), out.size()));
            }
        }
        return out;
    }

    /** Usable for clpool: available and with a compiler (kernels are built from source). */
    public static boolean suitable(ClDevice d) {
        return d.info().available() && d.info().compilerAvailable();
    }

    /**
     * The device to use: {@code index} if it is &ge; 0, else the first suitable GPU, then
     * accelerator, then any other suitable device (CPU devices such as PoCL last).
     */
    public static ClDevice choose(ClBinding binding, int index) {
        List<ClDevice> all = list(binding);
        if (index >= 0) {
            if (index >= all.size()) {
                throw new DeviceUnavailableException(Reason.NO_DEVICE, "OpenCL device " + index
                        + " requested, but only " + all.size() + " found (devices are numbered from 0; see `clpool probe`)");
            }
            ClDevice d = all.get(index);
            if (!suitable(d)) {
                throw new DeviceUnavailableException(Reason.NO_DEVICE, "OpenCL device " + index + " ("
                        + d.info().name() + ") is not usable: " + (d.info().available() ? "it has no compiler" : "it is not available"));
            }
            return d;
        }
        return all.stream()
                .filter(OpenClDevices::suitable)
                .min(Comparator.comparingInt(OpenClDevices::rank))
                .orElseThrow(() -> new DeviceUnavailableException(Reason.NO_DEVICE, all.isEmpty()
                        ? "OpenCL platforms were found but they offer no device"
                        : "no OpenCL device is available with a compiler (" + all.size() + " found; see `clpool probe`)"));
    }

    private static int rank(ClDevice d) {
        long t = d.info().type();
        if ((t & Cl.CL_DEVICE_TYPE_GPU) != 0) {
            return 0;
        }
        if ((t & Cl.CL_DEVICE_TYPE_ACCELERATOR) != 0) {
            return 1;
        }
        return (t & Cl.CL_DEVICE_TYPE_CPU) != 0 ? 3 : 2;
    }
}
