package dev.clpool.spark;

import dev.clpool.BackendChoice;
import dev.clpool.BindingChoice;
import dev.clpool.DeviceUnavailableException;
import dev.clpool.DeviceUnavailableException.Reason;
import dev.clpool.opencl.Bindings;
import dev.clpool.opencl.Cl;
import dev.clpool.opencl.ClDevice;
import dev.clpool.opencl.OpenClDevices;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which OpenCL devices a Spark task pools on: the GPUs Spark assigned to it.
 *
 * <p>The mapping: Spark's {@code gpu} resource addresses are GPU ordinals, as a discovery script
 * prints them ({@code nvidia-smi}'s indices {@code "0"}, {@code "1"}, ...). Address {@code k} is the
 * {@code k}-th OpenCL device of type GPU, counting every platform's GPUs in {@code clpool probe}
 * order (platform, then device); CPU and accelerator devices (PoCL, for example) are not counted.
 * Several addresses give several devices, over which the engine splits each batch.
 *
 * <p>With no {@code gpu} resource the engine's own choice applies ({@code auto}: the best OpenCL
 * device, else the CPU path). When the executor has no OpenCL at all, {@code auto} runs on the CPU
 * path. When an address names no GPU OpenCL can see, {@code auto} runs on the CPU path with a
 * warning rather than on a GPU another task may own; {@code opencl} fails.
 */
final class GpuDevices {
    private static final Logger LOG = LoggerFactory.getLogger(GpuDevices.class);

    /** Spark's resource name for GPUs. */
    static final String RESOURCE = "gpu";

    /** The OpenCL devices of this JVM, enumerated once (or why there are none). */
    private static volatile Object devices;

    private GpuDevices() {
    }

    /** The {@code gpu} addresses in a task's resource map ({@code TaskContext.resourcesJMap()}); empty if none. */
    static List<String> addresses(Map<String, ResourceInformation> resources) {
        ResourceInformation gpu = resources == null ? null : resources.get(RESOURCE);
        return gpu == null ? List.of() : List.of(gpu.addresses());
    }

    /**
     * The devices that {@code addresses} name: address {@code k} is the {@code k}-th of
     * {@code devices} for which {@code isGpu} holds.
     *
     * @throws IllegalArgumentException an address is not a number, or names a GPU beyond those listed
     */
    static <D> List<D> select(List<String> addresses, List<D> devices, Predicate<D> isGpu) {
        List<D> gpus = devices.stream().filter(isGpu).toList();
        List<D> out = new ArrayList<>();
        for (String a : addresses) {
            int k;
            try {
                k = Integer.parseInt(a.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("Spark GPU address '" + a + "' is not a GPU ordinal: the discovery"
                        + " script must print the addresses as 0, 1, ... (docs/spark.md)");
            }
            if (k < 0 || k >= gpus.size()) {
                throw new IllegalArgumentException("Spark assigned GPU " + a + ", but OpenCL lists " + gpus.size()
                        + " GPU(s) on this executor (see `clpool probe`)");
            }
            D d = gpus.get(k);
            if (!out.contains(d)) {
                out.add(d);
            }
        }
        return out;
    }

    /**
     * The engine a task with {@code resources} uses under {@code backend}.
     *
     * @throws DeviceUnavailableException under {@code opencl}, when the assigned GPU cannot be had
     */
    static ExecutorEngines.Key key(BackendChoice backend, Map<String, ResourceInformation> resources) {
        List<String> addresses = addresses(resources);
        if (backend == BackendChoice.CPU || addresses.isEmpty()) {
            return new ExecutorEngines.Key(backend, List.of());
        }
        List<ClDevice> all;
        try {
            all = openClDevices();
        } catch (DeviceUnavailableException e) {
            // No OpenCL at all: auto ends on the CPU path (the engine logs why), opencl fails there.
            return new ExecutorEngines.Key(backend, List.of());
        }
        try {
            List<ClDevice> chosen = select(addresses, all, d -> (d.info().type() & Cl.CL_DEVICE_TYPE_GPU) != 0);
            return new ExecutorEngines.Key(backend, chosen.stream().map(ClDevice::index).toList());
        } catch (IllegalArgumentException e) {
            if (backend == BackendChoice.OPENCL) {
                throw new DeviceUnavailableException(Reason.NO_DEVICE, e.getMessage(), e);
            }
            LOG.warn("{}: pooling on the CPU path instead", e.getMessage());
            return new ExecutorEngines.Key(BackendChoice.CPU, List.of());
        }
    }

    /** The device numbered {@code index} in {@code clpool probe} order. */
    static ClDevice device(int index) {
        return openClDevices().get(index);
    }

    @SuppressWarnings("unchecked")
    private static List<ClDevice> openClDevices() {
        Object d = devices;
        if (d == null) {
            synchronized (GpuDevices.class) {
                d = devices;
                if (d == null) {
                    try {
                        d = List.copyOf(OpenClDevices.list(Bindings.require(BindingChoice.AUTO)));
                    } catch (DeviceUnavailableException e) {
                        d = e;
                    }
                    devices = d;
                    LOG.debug("OpenCL devices for Spark GPU addresses: {}", d instanceof List<?> l
                            ? Arrays.toString(l.toArray()) : ((Exception) d).getMessage());
                }
            }
        }
        if (d instanceof DeviceUnavailableException e) {
            throw new DeviceUnavailableException(e.reason(), e.getMessage(), e);
        }
        return (List<ClDevice>) d;
    }
}
