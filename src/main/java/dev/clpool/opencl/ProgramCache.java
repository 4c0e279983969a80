package dev.clpool.opencl;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Built programs and their kernels for one context, keyed by (op file, options string).
 * Bounded: the least recently used program (and its kernels) is released when more than
 * {@code capacity} are held. Not thread-safe: the backend calls it under its dispatch lock.
 */
final class ProgramCache implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProgramCache.class);

    private record Key(String file, String options) { }

    private static final class Entry {
        final ClProgram program;
        final Map<String, ClKernel> kernels = new LinkedHashMap<>();

        Entry(ClProgram program) {
            this.program = program;
        }

        void close() {
            kernels.values().forEach(ClKernel::close);
            program.close();
        }
    }

    private final ClContext context;
    private final ProgramBinaryCache binaries;
    private final int capacity;
    private final LinkedHashMap<Key, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);

    ProgramCache(ClContext context, int capacity) {
        this(context, capacity, new ProgramBinaryCache(null));
    }

    /** With {@code binaries}: built programs also come from (and go to) that on-disk cache. */
    ProgramCache(ClContext context, int capacity, ProgramBinaryCache binaries) {
        this.context = context;
        this.capacity = capacity;
        this.binaries = binaries;
    }

    /** The kernel {@code name} of {@code file} built with {@code options}, building it on first use. */
    ClKernel kernel(String file, String options, String name) {
        Key key = new Key(file, options);
        Entry e = entries.get(key);
        if (e == null) {
            long t0 = System.nanoTime();
            e = new Entry(binaries.build(context, KernelSources.program(file), options));
            LOG.debug("built {} [{}] in {} ms", file, options, (System.nanoTime() - t0) / 1_000_000);
            entries.put(key, e);
            evict();
        }
        ClProgram program = e.program;
        return e.kernels.computeIfAbsent(name, program::createKernel);
    }

    int size() {
        return entries.size();
    }

    private void evict() {
        while (entries.size() > capacity) {
            Key oldest = entries.keySet().iterator().next();
            entries.remove(oldest).close();
        }
    }

    @Override
    public void close() {
        List<Entry> all = new ArrayList<>(entries.values());
        entries.clear();
        all.forEach(Entry::close);
    }
}
