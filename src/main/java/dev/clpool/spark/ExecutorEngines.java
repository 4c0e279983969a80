package dev.clpool.spark;

import dev.clpool.BackendChoice;
import dev.clpool.PoolingEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pooling engines of this JVM (a Spark executor, or the driver in local mode): one per backend
 * and device set, created when the first task needs it, shared by every task after it, closed
 * when the JVM exits. An executor with one GPU, Spark's usual setup, holds one engine.
 */
final class ExecutorEngines {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorEngines.class);
    private static final Map<Key, PoolingEngine> ENGINES = new ConcurrentHashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorEngines::closeAll, "clpool-spark-engines"));
    }

    private ExecutorEngines() {
    }

    /**
     * Which engine: the backend, and the OpenCL device numbers ({@code clpool probe} order) the
     * task's GPU addresses map to; none for the engine's own choice.
     */
    record Key(BackendChoice backend, List<Integer> devices) {
        Key {
            devices = List.copyOf(devices);
        }
    }

    /** The engine for {@code key}, opened on first use. */
    static PoolingEngine get(Key key) {
        return ENGINES.computeIfAbsent(key, ExecutorEngines::open);
    }

    private static PoolingEngine open(Key key) {
        PoolingEngine.Builder b = PoolingEngine.builder().backend(key.backend());
        if (key.devices().size() == 1) {
            b.device(GpuDevices.device(key.devices().get(0)));
        } else if (!key.devices().isEmpty()) {
            b.devices(key.devices().stream().map(GpuDevices::device).toList());
        }
        PoolingEngine engine = b.build();
        LOG.info("clpool engine for Spark tasks ({} {}): {}", key.backend().name().toLowerCase(java.util.Locale.ROOT),
                key.devices().isEmpty() ? "engine's choice" : "devices " + key.devices(), engine.backendDescription());
        return engine;
    }

    /** Closes every engine (the JVM is exiting); each once. */
    private static void closeAll() {
        List<PoolingEngine> open = new ArrayList<>(ENGINES.values());
        ENGINES.clear();
        for (PoolingEngine e : open) {
            try {
                e.close();
            } catch (RuntimeException ex) {
                LOG.warn("closing a pooling engine at exit: {}", ex.toString());
            }
        }
    }
}
