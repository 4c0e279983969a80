package dev.clpool;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;

/** The sizes a {@link HostMemoryPool} deals in: pages, size classes and an engine's bound by default. */
final class HostMemorySizes {
    static final int PAGE = 4096;
    /** The least bytes (lent and idle) an engine's pool holds by default: see {@link #defaultMaxBytes()}. */
    static final long DEFAULT_MAX_BYTES = 1L << 30;
    /**
     * An engine's bound by default: a quarter of the direct memory the JVM allows ({@code
     * -XX:MaxDirectMemorySize}, else the heap's limit, as the JDK does), at least {@link
     * #DEFAULT_MAX_BYTES} and at most 4 GiB: room for a few large results between collections.
     */
    static long defaultMaxBytes() {
        long direct = Runtime.getRuntime().maxMemory();
        try {
            long set = Long.parseLong(ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                    .getVMOption("MaxDirectMemorySize").getValue());
            direct = set > 0 ? set : direct;
        } catch (RuntimeException notHotSpot) {
            // the heap's limit stands, the JDK's own default
        }
        return Math.max(DEFAULT_MAX_BYTES, Math.min(4L << 30, direct / 4));
    }

    /** The size class of {@code bytes}: whole pages, rounded up to 4, 5, 6 or 7 times a power of two pages. */
    static long classBytes(long bytes) {
        long pages = Math.max(1, (bytes + PAGE - 1) / PAGE);
        if (pages > 4) {
            long step = Long.highestOneBit(pages) >> 2;
            pages = (pages + step - 1) / step * step;
        }
        return pages * PAGE;
    }

    private HostMemorySizes() {
    }
}
