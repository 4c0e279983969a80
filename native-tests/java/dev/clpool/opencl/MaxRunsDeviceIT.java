package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.BackendChoice;
import dev.clpool.BindingChoice;
import dev.clpool.DType;
import dev.clpool.DeviceAvailability;
import dev.clpool.Padding;
import dev.clpool.PoolGeometry;
import dev.clpool.PoolSpec;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import dev.clpool.backend.ResidentTensor;
import dev.clpool.testing.Tolerance;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Max windows on CPU devices in each of {@code pool2d_nhwc.cl}'s interior forms (a vector at a
 * time, four vectors of each tap at a time, tap by tap through the output: {@link
 * KernelOptions#maxRuns}, forced by their properties) give the CPU path's bits, host and device
 * tensors, on data full of ties of signed zeros, infinities and NaNs with payloads (which of two
 * equal or NaN taps is kept shows the fold's order); float16 at 64 channels too. Builds three
 * programs per spec in float32, two in float16.
 */
class MaxRunsDeviceIT {
    private static final String TAPS = "clpool.opencl.maxTapMajor";
    private static final String CHUNKS = "clpool.opencl.maxChunks";

    static Iterable<BindingChoice> bindings() {
        return DeviceAvailability.bindings();
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void everyInteriorForm_givesTheCpuPathsBits(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        List<PoolSpec> specs = List.of(
                PoolSpec.max(2, 2).stride(2).build(),
                PoolSpec.max(3, 3).stride(1).padding(Padding.of(1)).build());
        // 64 channels (four vectors of 16: the chunks), 128 (tap by tap by default), 48 (neither).
        List<Shape> shapes = List.of(Shape.of(2, 9, 12, 64), Shape.of(1, 7, 10, 128), Shape.of(1, 6, 8, 48));
        SplittableRandom r = new SplittableRandom(20261207L);
        OpenClBackend device = OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT, OpenClBackend.Tuning.fromSystem());
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            for (Shape s : shapes) {
                Tensor x = ties(r, s);
                check(device, cpu, binding, x, specs);
                if (s.c() == 64) {
                    // float16 at 64 channels: the four-vector form (tap by tap stays float32's)
                    check(device, cpu, binding, x.convert(DType.FLOAT16), specs);
                }
            }
        } finally {
            System.clearProperty(TAPS);
            System.clearProperty(CHUNKS);
            device.close();
        }
        assertEquals(0, device.nativeObjects().live(), device.nativeObjects().toString());
    }

    /** Each spec on {@code x} in each form, host tensors (and device tensors in float32), against the CPU path's bits. */
    private static void check(OpenClBackend device, PoolingEngine cpu, BindingChoice binding, Tensor x, List<PoolSpec> specs) {
        String[][] forms = {{"never", "never"}, {"never", "always"}, {"always", "never"}};
        for (PoolSpec spec : specs) {
            PoolGeometry g = spec.geometry(x.shape());
            float[] want = cpu.pool(x, spec).toArray();
            for (String[] form : forms) {
                System.setProperty(TAPS, form[0]);
                System.setProperty(CHUNKS, form[1]);
                String what = binding + " " + spec + " on " + x.shape() + " " + x.dtype() + KernelOptions.maxRuns(g, 16, x.dtype(), true);
                Tensor host = Tensor.allocate(g.output(), x.dtype());
                device.pool(g, x, host);
                Tolerance.assertBitIdentical(host.toArray(), want, what);
                if (x.dtype() == DType.FLOAT32) {
                    try (ResidentTensor dx = device.upload(x); ResidentTensor out = device.allocate(g.output())) {
                        device.pool(g, dx, out);
                        Tensor back = Tensor.allocate(g.output());
                        out.download(back);
                        Tolerance.assertBitIdentical(back.toArray(), want, what + " (device tensors)");
                    }
                }
            }
        }
    }

    /**
     * Few distinct values, so that most windows tie: ±0, ±1, ±∞ and NaNs whose payloads name
     * their element (a NaN window keeps its first NaN in scan order), one element in eight random.
     */
    private static Tensor ties(SplittableRandom r, Shape s) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        float[] pool = {0.0f, -0.0f, 1.0f, -1.0f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY};
        for (int i = 0; i < v.length; i++) {
            int k = r.nextInt(16);
            v[i] = k < pool.length ? pool[k] : k == 15 ? Float.intBitsToFloat(0x7fc00000 | (i & 0x3fffff) | (r.nextBoolean() ? 0x80000000 : 0))
                    : k < 14 ? (r.nextBoolean() ? 0.0f : -0.0f) : (float) (r.nextDouble() * 8 - 4);
        }
        return Tensor.of(s, v);
    }
}
