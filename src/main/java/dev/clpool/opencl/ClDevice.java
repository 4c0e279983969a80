package dev.clpool.opencl;

/**
 * One OpenCL device as reached through one binding: its platform and device ids, its decoded
 * info, and its position in the flattened list of every platform's devices ({@code --device N}).
 */
public record ClDevice(ClBinding binding, ClBinding.PlatformId platform, ClBinding.DeviceId id,
                       DeviceInfo info, int index) {

    @Override
    public String toString() {
        return "#" + index + " " + info.summary() + " via " + binding.name();
    }
}
