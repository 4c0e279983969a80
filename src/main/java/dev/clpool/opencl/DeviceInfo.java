package dev.clpool.opencl;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * What matters about a device for pooling, decoded from {@code clGetDeviceInfo} /
 * {@code clGetPlatformInfo} once, by binding-independent code.
 */
public record DeviceInfo(
        String platformName,
        String platformVendor,
        String platformVersion,
        String name,
        String vendor,
        String driverVersion,
        String version,
        String openclCVersion,
        long type,
        int computeUnits,
        int clockMhz,
        long globalMemBytes,
        long localMemBytes,
        long maxAllocBytes,
        long maxWorkGroupSize,
        long[] maxWorkItemSizes,
        int preferredFloatVectorWidth,
        int nativeFloatVectorWidth,
        boolean imageSupport,
        boolean hostUnifiedMemory,
        boolean available,
        boolean compilerAvailable,
        List<String> extensions) {

    /** Reads every field through {@code binding}. */
    public static DeviceInfo query(ClBinding b, ClBinding.PlatformId p, ClBinding.DeviceId d) {
        String version = str(b.deviceInfo(d, Cl.CL_DEVICE_VERSION));
        String cVersion;
        try {
            cVersion = str(b.deviceInfo(d, Cl.CL_DEVICE_OPENCL_C_VERSION));
        } catch (ClException e) {
            cVersion = "OpenCL C 1.0"; // OpenCL 1.0 devices lack the query
        }
        boolean unified;
        try {
            unified = u32(b.deviceInfo(d, Cl.CL_DEVICE_HOST_UNIFIED_MEMORY)) != 0;
        } catch (ClException e) {
            unified = false; // deprecated in OpenCL 2.0; some drivers reject it
        }
        String ext = str(b.deviceInfo(d, Cl.CL_DEVICE_EXTENSIONS));
        return new DeviceInfo(
                str(b.platformInfo(p, Cl.CL_PLATFORM_NAME)),
                str(b.platformInfo(p, Cl.CL_PLATFORM_VENDOR)),
                str(b.platformInfo(p, Cl.CL_PLATFORM_VERSION)),
                str(b.deviceInfo(d, Cl.CL_DEVICE_NAME)),
                str(b.deviceInfo(d, Cl.CL_DEVICE_VENDOR)),
                str(b.deviceInfo(d, Cl.CL_DRIVER_VERSION)),
                version,
                cVersion,
                u64(b.deviceInfo(d, Cl.CL_DEVICE_TYPE)),
                u32(b.deviceInfo(d, Cl.CL_DEVICE_MAX_COMPUTE_UNITS)),
                u32(b.deviceInfo(d, Cl.CL_DEVICE_MAX_CLOCK_FREQUENCY)),
                u64(b.deviceInfo(d, Cl.CL_DEVICE_GLOBAL_MEM_SIZE)),
                u64(b.deviceInfo(d, Cl.CL_DEVICE_LOCAL_MEM_SIZE)),
                u64(b.deviceInfo(d, Cl.CL_DEVICE_MAX_MEM_ALLOC_SIZE)),
                sizeT(b.deviceInfo(d, Cl.CL_DEVICE_MAX_WORK_GROUP_SIZE)),
                sizes(b.deviceInfo(d, Cl.CL_DEVICE_MAX_WORK_ITEM_SIZES)),
                u32(b.deviceInfo(d, Cl.CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT)),
                u32(b.deviceInfo(d, Cl.CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT)),
                u32(b.deviceInfo(d, Cl.CL_DEVICE_IMAGE_SUPPORT)) != 0,
                unified,
                u32(b.deviceInfo(d, Cl.CL_DEVICE_AVAILABLE)) != 0,
                u32(b.deviceInfo(d, Cl.CL_DEVICE_COMPILER_AVAILABLE)) != 0,
                List.of(ext.isBlank() ? new String[0] : ext.trim().split("\\s+")));
    }

    public boolean hasExtension(String name) {
        return extensions.contains(name);
    }

    /** Double precision: {@code cl_khr_fp64} (or {@code cl_amd_fp64}). */
    public boolean fp64() {
        return hasExtension("cl_khr_fp64") || hasExtension("cl_amd_fp64");
    }

    public boolean fp16() {
        return hasExtension("cl_khr_fp16");
    }

    /** {@code GPU}, {@code CPU}, {@code ACCELERATOR}, ... joined with {@code |}. */
    public String typeName() {
        StringBuilder s = new StringBuilder();
        append(s, Cl.CL_DEVICE_TYPE_CPU, "CPU");
        append(s, Cl.CL_DEVICE_TYPE_GPU, "GPU");
        append(s, Cl.CL_DEVICE_TYPE_ACCELERATOR, "ACCELERATOR");
        append(s, Cl.CL_DEVICE_TYPE_CUSTOM, "CUSTOM");
        append(s, Cl.CL_DEVICE_TYPE_DEFAULT, "DEFAULT");
        return s.length() == 0 ? "UNKNOWN" : s.toString();
    }

    private void append(StringBuilder s, long bit, String name) {
        if ((type & bit) != 0) {
            s.append(s.length() == 0 ? "" : "|").append(name);
        }
    }

    /** A one-line description: device name, type and platform. */
    public String summary() {
        return name.strip() + " (" + typeName() + ", " + platformName.strip() + ", " + driverVersion.strip() + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeviceInfo i && i.toString().equals(toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }

    @Override
    public String toString() {
        return "DeviceInfo[" + summary() + ", workItemSizes=" + Arrays.toString(maxWorkItemSizes) + "]";
    }

    static String str(byte[] raw) {
        int end = raw.length;
        while (end > 0 && raw[end - 1] == 0) {
            end--;
        }
        return new String(raw, 0, end, StandardCharsets.UTF_8).strip();
    }

    static int u32(byte[] raw) {
        return ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder()).getInt();
    }

    static long u64(byte[] raw) {
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder());
        return raw.length >= 8 ? b.getLong() : Integer.toUnsignedLong(b.getInt());
    }

    /** A {@code size_t}: 8 bytes on a 64-bit host, 4 on a 32-bit one. */
    static long sizeT(byte[] raw) {
        return u64(raw);
    }

    static long[] sizes(byte[] raw) {
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder());
        int width = raw.length % 8 == 0 ? 8 : 4;
        long[] out = new long[raw.length / width];
        for (int i = 0; i < out.length; i++) {
            out[i] = width == 8 ? b.getLong() : Integer.toUnsignedLong(b.getInt());
        }
        return out;
    }
}
