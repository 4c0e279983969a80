package dev.clpool.backend;

import dev.clpool.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Under {@code auto}, where small host-tensor operations run: on the device, or on the CPU path
 * when that is faster. For a small operation the device's fixed costs dominate (a launch, a
 * synchronisation of 24-60 us on PoCL, transfers or a map), and the CPU path's cost is its own
 * start-up plus the bytes. Rather than guess those from device info, the cost model is measured
 * once per kind of operation: the first calls of each (operation, spec, input shape) of at most
 * {@link #SMALL_BYTES} run alternately on the device and on the CPU path (the first of each
 * untimed: it builds the kernel or warms the threads), then the faster is used from then on,
 * and the decision is logged at debug level. Larger operations always run on the device, where
 * the bytes dominate. Results are the same either way (max bit for bit, averages within
 * SEMANTICS.md's tolerance).
 */
final class SmallOps {
    private static final Logger LOG = LoggerFactory.getLogger(SmallOps.class);
    /** Input plus output bytes up to which the CPU path is considered. */
    static final long SMALL_BYTES = 1 << 20;
    /** Calls that measure: device (warm-up), cpu (warm-up), then TIMED of each, alternating. */
    private static final int TIMED = 2;
    private static final int KINDS_REMEMBERED = 256;

    /** What the cost of an operation depends on: the operation, its spec (or mode) and the input shape. */
    record Kind(String op, Object spec, Shape input) {
        @Override
        public String toString() {
            return op + " " + spec + " on " + input;
        }
    }

    private final Supplier<PoolingBackend> cpu;
    private final Map<Kind, Probe> probes = new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Kind, Probe> eldest) {
            return size() > KINDS_REMEMBERED;
        }
    };

    /** The measurements of one kind of operation, and the decision once made. */
    private static final class Probe {
        int calls;
        long bestDeviceNs = Long.MAX_VALUE;
        long bestCpuNs = Long.MAX_VALUE;
        Boolean onCpu;
    }

    /** {@code cpu} gives the engine's CPU backend, made on first use. */
    SmallOps(Supplier<PoolingBackend> cpu) {
        this.cpu = cpu;
    }

    /**
     * Runs {@code op} on {@code device} or on the CPU path. {@code kind} identifies the kind of
     * operation (what its cost depends on); {@code bytes} is its input plus output size.
     */
    void run(PoolingBackend device, Kind kind, long bytes, Consumer<PoolingBackend> op) {
        if (!"opencl".equals(device.kind()) || bytes > SMALL_BYTES) {
            op.accept(device);
            return;
        }
        Probe p;
        int call;
        synchronized (probes) {
            p = probes.computeIfAbsent(kind, k -> new Probe());
            if (p.onCpu != null) {
                op.accept(p.onCpu ? cpu.get() : device);
                return;
            }
            call = p.calls++;
        }
        boolean onCpu = call % 2 == 1;
        PoolingBackend b = onCpu ? cpu.get() : device;
        long t0 = System.nanoTime();
        op.accept(b);
        long ns = System.nanoTime() - t0;
        synchronized (probes) {
            if (call >= 2) { // the first call on each is a warm-up
                if (onCpu) {
                    p.bestCpuNs = Math.min(p.bestCpuNs, ns);
                } else {
                    p.bestDeviceNs = Math.min(p.bestDeviceNs, ns);
                }
            }
            if (p.onCpu == null && p.calls >= 2 + 2 * TIMED && p.bestCpuNs != Long.MAX_VALUE
                    && p.bestDeviceNs != Long.MAX_VALUE) {
                p.onCpu = p.bestCpuNs < p.bestDeviceNs;
                LOG.debug("{} ({} bytes): device {} us, cpu path {} us: runs on the {}", kind, bytes,
                        p.bestDeviceNs / 1000, p.bestCpuNs / 1000, p.onCpu ? "cpu path" : "device");
            }
        }
    }
}
