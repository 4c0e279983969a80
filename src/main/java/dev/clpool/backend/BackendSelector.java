package dev.clpool.backend;

import dev.clpool.BackendChoice;
import dev.clpool.BindingChoice;
import dev.clpool.DeviceUnavailableException;
import dev.clpool.cpu.CpuBackend;
import dev.clpool.opencl.ClDevice;
import dev.clpool.opencl.ClException;
import dev.clpool.opencl.OpenClBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the backend an engine starts on, from its builder's choices, and says why. The one place
 * that opens backends: {@link dev.clpool.PoolingEngine} knows neither the CPU path's nor the OpenCL
 * backend's classes.
 */
public final class BackendSelector {
    private static final Logger LOG = LoggerFactory.getLogger(BackendSelector.class);

    private BackendSelector() {
    }

    /**
     * What a {@link dev.clpool.PoolingEngine.Builder} was told: where to run, which binding and
     * device(s) (the most specific given wins: {@code clDevices}, {@code deviceIndices},
     * {@code clDevice}, then {@code binding} and {@code device}, -1 for the best), the OpenCL
     * options and tuning ({@code tuning} null: from system properties), and the CPU threads
     * (0: one per processor).
     */
    public record Request(BackendChoice choice, BindingChoice binding, int device, ClDevice clDevice,
                          List<Integer> deviceIndices, List<ClDevice> clDevices, OpenClBackend.Options options,
                          OpenClBackend.Tuning tuning, int cpuThreads) {
        public Request {
            Objects.requireNonNull(choice, "choice");
            deviceIndices = List.copyOf(deviceIndices);
            clDevices = List.copyOf(clDevices);
        }
    }

    /**
     * The backend chosen and why, for people. {@code fellBack}: {@code auto} wanted a device and
     * runs on the CPU path instead; {@code reason} then says why.
     */
    public record Selection(PoolingBackend backend, String reason, boolean fellBack) {
    }

    /**
     * Opens the backend {@code r} asks for: the CPU path, an OpenCL device (several split into one
     * {@link SplitBackend}), or under {@code auto} the device if it opens and the CPU path if not
     * (logged once, at info).
     *
     * @throws DeviceUnavailableException under {@code opencl}, when no device opens
     */
    public static Selection select(Request r) {
        switch (r.choice()) {
            case CPU:
                return new Selection(cpu(r.cpuThreads()), "the CPU path was asked for", false);
            case OPENCL:
                try {
                    PoolingBackend b = openCl(r);
                    return new Selection(b, "OpenCL was asked for: " + b.description(), false);
                } catch (ClException e) {
                    // Context or queue creation failed: typed like a failure during an operation.
                    throw Fallback.unavailable("OpenCL device could not be opened", e);
                }
            default:
                try {
                    PoolingBackend b = openCl(r);
                    return new Selection(b, "auto: an OpenCL device is usable: " + b.description(), false);
                } catch (DeviceUnavailableException | ClException e) {
                    LOG.info("OpenCL not used, running on the CPU path: {}", e.getMessage());
                    return new Selection(cpu(r.cpuThreads()), e.getMessage(), true);
                }
        }
    }

    /**
     * The CPU path with {@code threads} threads (0: one per processor), given every storage type
     * by {@link WideningBackend} (it computes in float32).
     */
    public static PoolingBackend cpu(int threads) {
        int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        CpuBackend cpu = new CpuBackend(t);
        return t == 1 ? new WideningBackend(cpu, 1) : new WideningBackend(cpu, cpu.lanes());
    }

    private static PoolingBackend openCl(Request r) {
        OpenClBackend.Tuning tuning = r.tuning() != null ? r.tuning() : OpenClBackend.Tuning.fromSystem();
        List<Supplier<PoolingBackend>> opens = new ArrayList<>();
        if (!r.clDevices().isEmpty()) {
            r.clDevices().forEach(d -> opens.add(() -> OpenClBackend.open(d, r.options(), tuning)));
        } else if (!r.deviceIndices().isEmpty()) {
            r.deviceIndices().forEach(i -> opens.add(() -> OpenClBackend.open(r.binding(), i, r.options(), tuning)));
        } else if (r.clDevice() != null) {
            return OpenClBackend.open(r.clDevice(), r.options(), tuning);
        } else {
            return OpenClBackend.open(r.binding(), r.device(), r.options(), tuning);
        }
        List<PoolingBackend> opened = new ArrayList<>();
        try {
            for (Supplier<PoolingBackend> open : opens) {
                opened.add(open.get());
            }
        } catch (RuntimeException e) {
            opened.forEach(PoolingBackend::close);
            throw e;
        }
        return SplitBackend.of(opened);
    }
}
