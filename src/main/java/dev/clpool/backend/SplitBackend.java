package dev.clpool.backend;

import dev.clpool.AdaptiveGeometry;
import dev.clpool.Indices;
import dev.clpool.PlanarGeometry;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolMode;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.UnpoolGeometry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Several devices as one backend: each host-tensor operation's batch is split across them in
 * proportion to their measured speed, and the parts run at once (one thread per device). Batch
 * items are independent in every operation, so the results are exactly those of one device.
 *
 * <p>The speed of each device is its bytes per second on its recent parts (an exponential
 * average, starting equal), updated after every split operation and logged at debug level when
 * the shares change. A batch of one, max pooling with indices (whose indices count from the
 * whole tensor), unpooling (likewise; and a bad index must leave the whole output untouched) and
 * device-resident tensors run on the fastest device measured so far
 * (resident tensors: on the first device, where they stay).
 *
 * <p>If any part fails, the others are waited for and the first failure is thrown, so that a
 * caller falling back to the CPU path never races a device still writing the output.
 */
public final class SplitBackend implements PoolingBackend {
    private static final Logger LOG = LoggerFactory.getLogger(SplitBackend.class);
    /** Weight of the newest measurement in a device's speed. */
    private static final double SMOOTHING = 0.3;

    private final List<PoolingBackend> devices;
    private final ExecutorService parts;
    /** Where parts' times are read: {@link System#nanoTime()}, or a test's own clock. */
    private final LongSupplier clock;
    /** Bytes per nanosecond of each device, 0 until measured; guarded by {@code this}. */
    private final double[] speed;

    private SplitBackend(List<PoolingBackend> devices, LongSupplier clock) {
        this.devices = List.copyOf(devices);
        this.clock = clock;
        this.speed = new double[devices.size()];
        this.parts = Executors.newFixedThreadPool(devices.size() - 1, r -> {
            Thread t = new Thread(r, "clpool-split");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * One backend over {@code devices}: the device itself when there is one, else a split backend.
     * Takes ownership: closing the result closes them all.
     */
    public static PoolingBackend of(List<PoolingBackend> devices) {
        return of(devices, System::nanoTime);
    }

    /** {@link #of(List)} timing each part by {@code clock} (nanoseconds, read on the part's thread). */
    static PoolingBackend of(List<PoolingBackend> devices, LongSupplier clock) {
        if (devices.isEmpty()) {
            throw new IllegalArgumentException("no devices");
        }
        return devices.size() == 1 ? devices.get(0) : new SplitBackend(devices, clock);
    }

    @Override
    public String kind() {
        return devices.get(0).kind();
    }

    @Override
    public String description() {
        return devices.size() + " devices: " + devices.stream().map(PoolingBackend::description)
                .collect(Collectors.joining(" + "));
    }

    /** The share of a batch each device gets now, in device order (for tests and logs). */
    public synchronized double[] shares() {
        double[] v = effectiveSpeeds();
        double total = Arrays.stream(v).sum();
        return Arrays.stream(v).map(x -> x / total).toArray();
    }

    /** Each device's speed, an unmeasured one counted as the mean of the measured (all equal at first). */
    private double[] effectiveSpeeds() {
        double mean = Arrays.stream(speed).filter(x -> x > 0).average().orElse(1.0);
        return Arrays.stream(speed).map(x -> x > 0 ? x : mean).toArray();
    }

    // ---- host tensors: split by batch ----

    /** One device's part of an operation: batch items [first, first + count). */
    private interface Part {
        void run(PoolingBackend device, int first, int count);
    }

    @Override
    public void pool(PoolGeometry g, Tensor in, Tensor out) {
        split(in, out, (d, first, count) -> d.pool(sub(g, count), in.batch(first, count), out.batch(first, count)));
    }

    @Override
    public void global(PoolMode mode, Tensor in, Tensor out) {
        split(in, out, (d, first, count) -> d.global(mode, in.batch(first, count), out.batch(first, count)));
    }

    @Override
    public void adaptive(AdaptiveGeometry g, Tensor in, Tensor out) {
        split(in, out, (d, first, count) -> d.adaptive(new AdaptiveGeometry(g.mode(), withN(g.input(), count),
                withN(g.output(), count)), in.batch(first, count), out.batch(first, count)));
    }

    @Override
    public void backward(PoolGeometry g, Tensor in, Tensor gradOut, Tensor gradIn) {
        split(gradIn, gradOut, (d, first, count) -> d.backward(sub(g, count), in.batch(first, count),
                gradOut.batch(first, count), gradIn.batch(first, count)));
    }

    @Override
    public void maxWithIndices(PoolGeometry g, Tensor in, Tensor out, Indices indices) {
        fastest().maxWithIndices(g, in, out, indices);
    }

    @Override
    public void maxWithNhwcPlaneIndices(PoolGeometry g, Tensor in, Tensor out, Indices indices, int channels) {
        fastest().maxWithNhwcPlaneIndices(g, in, out, indices, channels);
    }

    /**
     * On the fastest device, unsplit: ONNX indices count from the whole tensor, and a bad index
     * must leave the whole output untouched, which parts running at once could not promise.
     */
    @Override
    public void poolPlanar(PlanarGeometry g, Tensor in, Tensor out) {
        fastest().poolPlanar(g, in, out);
    }

    @Override
    public void globalPlanar(PoolMode mode, int planes, int planeSize, Tensor in, Tensor out) {
        fastest().globalPlanar(mode, planes, planeSize, in, out);
    }

    @Override
    public void unpool(Tensor values, Indices indices, UnpoolGeometry g, Tensor out) {
        fastest().unpool(values, indices, g, out);
    }

    private static PoolGeometry sub(PoolGeometry g, int n) {
        return new PoolGeometry(g.spec(), withN(g.input(), n), withN(g.output(), n), g.rows(), g.cols(), g.rowOrigin());
    }

    private static Shape withN(Shape s, int n) {
        return Shape.of(n, s.h(), s.w(), s.c());
    }

    /** Runs {@code part} over the batch of {@code a} (and {@code b}, same N), split across the devices. */
    private void split(Tensor a, Tensor b, Part part) {
        int n = a.shape().n();
        int[] counts = counts(n);
        long bytesPerItem = (a.byteSize() + b.byteSize()) / n;
        // Device i's part, when another thread runs it (null: no part, or the calling thread's).
        List<Future<Long>> running = new ArrayList<>(Collections.nCopies(counts.length, null));
        int first = 0;
        int local = -1;
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] == 0) {
                continue;
            }
            if (local < 0) {
                local = i; // the calling thread runs the first part itself
            } else {
                int d = i;
                int f = first;
                running.set(i, parts.submit(() -> timed(devices.get(d), part, f, counts[d])));
            }
            first += counts[i];
        }
        RuntimeException failure = null;
        long[] ns = new long[counts.length];
        try {
            ns[local] = timed(devices.get(local), part, 0, counts[local]);
        } catch (RuntimeException e) {
            failure = e;
        }
        for (int i = 0; i < counts.length; i++) {
            if (running.get(i) == null) {
                continue;
            }
            try {
                ns[i] = getUninterruptibly(running.get(i));
            } catch (RuntimeException e) {
                failure = failure == null ? e : failure;
            }
        }
        if (failure != null) {
            throw failure;
        }
        learn(counts, ns, bytesPerItem);
    }

    private long timed(PoolingBackend device, Part part, int first, int count) {
        long t0 = clock.getAsLong();
        part.run(device, first, count);
        return Math.max(1, clock.getAsLong() - t0);
    }

    /** Waits for {@code f} whatever interrupts come (the device must not be left writing), then restores the flag. */
    private static long getUninterruptibly(Future<Long> f) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return f.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof RuntimeException re) {
                        throw re;
                    }
                    if (c instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(c);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Batch items per device, in proportion to speed (largest remainders); all to the fastest for N = 1. */
    synchronized int[] counts(int n) {
        double[] share = shares();
        int[] c = new int[share.length];
        double[] rest = new double[share.length];
        int given = 0;
        for (int i = 0; i < c.length; i++) {
            double exact = n * share[i];
            c[i] = (int) Math.floor(exact);
            rest[i] = exact - c[i];
            given += c[i];
        }
        while (given < n) {
            int best = 0;
            for (int i = 1; i < c.length; i++) {
                if (rest[i] > rest[best]) {
                    best = i;
                }
            }
            c[best]++;
            rest[best] = -1;
            given++;
        }
        return c;
    }

    private synchronized void learn(int[] counts, long[] ns, long bytesPerItem) {
        double before = shares()[0];
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] > 0) {
                double measured = (double) counts[i] * bytesPerItem / ns[i];
                speed[i] = speed[i] > 0 ? (1 - SMOOTHING) * speed[i] + SMOOTHING * measured : measured;
            }
        }
        if (LOG.isDebugEnabled() && Math.abs(shares()[0] - before) > 0.05) {
            LOG.debug("batch shares now {}", Arrays.toString(Arrays.stream(shares())
                    .map(x -> Math.round(x * 100) / 100.0).toArray()));
        }
    }

    private synchronized PoolingBackend fastest() {
        double[] v = effectiveSpeeds();
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return devices.get(best);
    }

    // ---- device-resident tensors: on the first device ----

    @Override
    public ResidentTensor upload(Tensor t) {
        return devices.get(0).upload(t);
    }

    @Override
    public ResidentTensor allocate(Shape s) {
        return devices.get(0).allocate(s);
    }

    @Override
    public void pool(PoolGeometry g, ResidentTensor in, ResidentTensor out) {
        devices.get(0).pool(g, in, out);
    }

    @Override
    public void global(PoolMode mode, ResidentTensor in, ResidentTensor out) {
        devices.get(0).global(mode, in, out);
    }

    @Override
    public ResidentTensor allocateIndices(Shape s, dev.clpool.IndexConvention convention) {
        return devices.get(0).allocateIndices(s, convention);
    }

    @Override
    public void maxWithIndices(PoolGeometry g, ResidentTensor in, ResidentTensor out, ResidentTensor indices) {
        devices.get(0).maxWithIndices(g, in, out, indices);
    }

    @Override
    public ResidentTensor uploadIndices(Indices indices) {
        return devices.get(0).uploadIndices(indices);
    }

    @Override
    public void backward(PoolGeometry g, ResidentTensor in, ResidentTensor gradOut, ResidentTensor gradIn) {
        devices.get(0).backward(g, in, gradOut, gradIn);
    }

    @Override
    public void adaptive(AdaptiveGeometry g, ResidentTensor in, ResidentTensor out) {
        devices.get(0).adaptive(g, in, out);
    }

    @Override
    public void unpool(UnpoolGeometry g, ResidentTensor values, ResidentTensor indices, ResidentTensor out) {
        devices.get(0).unpool(g, values, indices, out);
    }

    @Override
    public void finish() {
        for (PoolingBackend d : devices) {
            d.finish();
        }
    }

    @Override
    public void close() {
        parts.shutdown();
        for (PoolingBackend d : devices) {
            d.close();
        }
    }
}
