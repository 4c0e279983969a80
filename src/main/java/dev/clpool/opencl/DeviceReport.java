package dev.clpool.opencl;

import dev.clpool.DeviceUnavailableException;
import dev.clpool.DeviceUnavailableException.Reason;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Every OpenCL platform and device that any binding reaches ({@code clpool probe}). A device
 * reached by several bindings appears once, with every binding that reaches it; devices are
 * matched across bindings by (platform name, device name, driver version, index). Building a
 * report never throws: a binding that fails to load, finds no platform or fails to list its
 * devices is recorded with its reason.
 */
public final class DeviceReport {

    /** The extensions clpool looks at (fp64 accumulation, fp16 storage, the ICD loader). */
    public static final List<String> EXTENSIONS_USED = List.of("cl_khr_fp64", "cl_khr_fp16", "cl_khr_icd");

    /**
     * One binding's outcome. {@code reason} and {@code message} are null when it loaded and listed
     * at least one device; otherwise they say why it reaches none (NO_LIBRARY or BINDING_FAILED when
     * it did not load, NO_PLATFORM or NO_DEVICE when it loaded but found nothing).
     */
    public record BindingStatus(String name, boolean loaded, Reason reason, String message) { }

    /**
     * One device. {@code index} is its position in {@link OpenClDevices#list} (the CLI's
     * {@code --device N}); {@code reach} maps each binding that reaches it, in {@link Bindings#names()}
     * order, to the device as seen through that binding; {@code extensionsUsed} lists which of
     * {@link #EXTENSIONS_USED} the device or its platform reports ({@code cl_khr_icd} is a platform
     * extension), in that order.
     */
    public record Device(DeviceInfo info, int index, boolean suitable, Map<String, ClDevice> reach,
                         List<String> extensionsUsed) {
        public Device {
            reach = Collections.unmodifiableMap(new LinkedHashMap<>(reach));
            extensionsUsed = List.copyOf(extensionsUsed);
        }

        public List<String> bindings() {
            return List.copyOf(reach.keySet());
        }
    }

    /** One platform and its devices (possibly none). */
    public record Platform(String name, String vendor, String version, List<Device> devices) {
        public Platform {
            devices = List.copyOf(devices);
        }
    }

    /** Why no device is usable. */
    public record Problem(Reason reason, String message) {
        public DeviceUnavailableException toException() {
            return new DeviceUnavailableException(reason, message);
        }
    }

    private record PlatformKey(String name, String vendor, String version) { }

    private record DeviceKey(String platform, String name, String driverVersion, int index) {
        static DeviceKey of(ClDevice d) {
            return new DeviceKey(d.info().platformName(), d.info().name(), d.info().driverVersion(), d.index());
        }
    }

    private final List<BindingStatus> bindings;
    private final List<Platform> platforms;

    private DeviceReport(List<BindingStatus> bindings, List<Platform> platforms) {
        this.bindings = List.copyOf(bindings);
        this.platforms = List.copyOf(platforms);
    }

    /** Probes every binding in {@link Bindings#names()}. */
    public static DeviceReport probe() {
        return probe(Bindings.names());
    }

    /** Probes the named bindings, in order. */
    public static DeviceReport probe(List<String> bindingNames) {
        List<BindingStatus> statuses = new ArrayList<>();
        Map<PlatformKey, List<DeviceKey>> platformDevices = new LinkedHashMap<>();
        Map<PlatformKey, List<String>> platformExtensions = new LinkedHashMap<>();
        Map<DeviceKey, Map<String, ClDevice>> reach = new LinkedHashMap<>();
        for (String name : bindingNames) {
            Bindings.Outcome o = Bindings.probe(name);
            if (!o.loaded()) {
                statuses.add(new BindingStatus(name, false, o.reason(), o.problem()));
                continue;
            }
            ClBinding b = o.binding();
            List<ClDevice> devices;
            try {
                for (ClBinding.PlatformId p : b.platforms()) {
                    PlatformKey key = platformKey(b, p);
                    platformDevices.computeIfAbsent(key, k -> new ArrayList<>());
                    if (!platformExtensions.containsKey(key)) {
                        String ext = DeviceInfo.str(b.platformInfo(p, Cl.CL_PLATFORM_EXTENSIONS));
                        platformExtensions.put(key, List.of(ext.isBlank() ? new String[0] : ext.split("\\s+")));
                    }
                }
                devices = OpenClDevices.list(b);
            } catch (DeviceUnavailableException e) {
                statuses.add(new BindingStatus(name, true, e.reason(), e.getMessage()));
                continue;
            } catch (RuntimeException | LinkageError e) {
                statuses.add(new BindingStatus(name, true, Reason.BINDING_FAILED,
                        "listing the OpenCL platforms and devices through " + name + " failed: "
                                + e.getClass().getSimpleName() + ": " + e.getMessage()));
                continue;
            }
            statuses.add(devices.isEmpty()
                    ? new BindingStatus(name, true, Reason.NO_DEVICE, "OpenCL platforms were found but they offer no device")
                    : new BindingStatus(name, true, null, null));
            for (ClDevice d : devices) {
                DeviceKey key = DeviceKey.of(d);
                List<DeviceKey> onPlatform = platformDevices.computeIfAbsent(platformKey(d.info()), k -> new ArrayList<>());
                if (!onPlatform.contains(key)) {
                    onPlatform.add(key);
                }
                reach.computeIfAbsent(key, k -> new LinkedHashMap<>()).put(name, d);
            }
        }
        List<Platform> platforms = new ArrayList<>();
        platformDevices.forEach((p, keys) -> {
            List<Device> devices = new ArrayList<>();
            List<String> platformExt = platformExtensions.getOrDefault(p, List.of());
            for (DeviceKey k : keys) {
                Map<String, ClDevice> via = reach.get(k);
                ClDevice first = via.values().iterator().next();
                List<String> used = EXTENSIONS_USED.stream()
                        .filter(e -> first.info().hasExtension(e) || platformExt.contains(e))
                        .toList();
                devices.add(new Device(first.info(), first.index(), OpenClDevices.suitable(first), via, used));
            }
            platforms.add(new Platform(p.name(), p.vendor(), p.version(), devices));
        });
        return new DeviceReport(statuses, platforms);
    }

    private static PlatformKey platformKey(ClBinding b, ClBinding.PlatformId p) {
        return new PlatformKey(DeviceInfo.str(b.platformInfo(p, Cl.CL_PLATFORM_NAME)),
                DeviceInfo.str(b.platformInfo(p, Cl.CL_PLATFORM_VENDOR)),
                DeviceInfo.str(b.platformInfo(p, Cl.CL_PLATFORM_VERSION)));
    }

    private static PlatformKey platformKey(DeviceInfo i) {
        return new PlatformKey(i.platformName(), i.platformVendor(), i.platformVersion());
    }

    /** Every binding tried, in order, with its outcome. */
    public List<BindingStatus> bindings() {
        return bindings;
    }

    /** Every platform found by any binding, in the order first seen. */
    public List<Platform> platforms() {
        return platforms;
    }

    /** Every device of every platform, in platform order. */
    public List<Device> devices() {
        return platforms.stream().flatMap(p -> p.devices().stream()).toList();
    }

    /** Devices clpool can run on ({@link OpenClDevices#suitable}). */
    public List<Device> usableDevices() {
        return devices().stream().filter(Device::suitable).toList();
    }

    /**
     * Why no device is usable, or empty when one is. The reason is the furthest any binding got
     * (NO_DEVICE, then NO_PLATFORM, BINDING_FAILED, NO_LIBRARY); the message gives each binding's
     * own reason when they differ.
     */
    public Optional<Problem> problem() {
        if (!usableDevices().isEmpty()) {
            return Optional.empty();
        }
        List<Device> all = devices();
        if (!all.isEmpty()) {
            return Optional.of(new Problem(Reason.NO_DEVICE, "no OpenCL device is usable: " + all.size()
                    + " found, but none is available with a compiler (clpool builds its kernels from source)"));
        }
        if (bindings.isEmpty()) {
            return Optional.of(new Problem(Reason.BINDING_FAILED, "no OpenCL binding is configured"));
        }
        Reason reason = null;
        Set<String> messages = new LinkedHashSet<>();
        for (BindingStatus s : bindings) {
            if (s.reason() != null && (reason == null || rank(s.reason()) > rank(reason))) {
                reason = s.reason();
            }
            messages.add(s.message());
        }
        String message;
        if (messages.size() == 1) {
            message = messages.iterator().next();
        } else {
            StringBuilder m = new StringBuilder();
            for (BindingStatus s : bindings) {
                m.append(m.length() == 0 ? "" : "; ").append(s.name()).append(": ").append(s.message());
            }
            message = m.toString();
        }
        return Optional.of(new Problem(reason == null ? Reason.NO_DEVICE : reason, message));
    }

    private static int rank(Reason r) {
        switch (r) {
            case NO_DEVICE: return 3;
            case NO_PLATFORM: return 2;
            case BINDING_FAILED: return 1;
            default: return 0;
        }
    }
}
