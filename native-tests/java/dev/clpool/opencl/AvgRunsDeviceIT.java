package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

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
 * Average windows on CPU devices in both of {@code pool2d_nhwc.cl}'s interior forms (a vector of
 * channels at a time, four vectors of each tap at a time: {@link KernelOptions#avgRuns}, forced
 * by its property) give the same bits, host and device tensors, on data where the order of the
 * double sums shows: values 2^60 apart, the large ones cancelling (inexact partial sums), infinities of both
 * signs, and NaNs; float16 at 64 channels too. A NaN average's payload is not compared: the
 * compiler may swap the operands of an addition (SEMANTICS.md asks for NaN only), and the two
 * forms do keep different payloads. On ordinary data both are within tolerance of the CPU path.
 * Builds two programs per spec and storage type.
 */
class AvgRunsDeviceIT {
    @ParameterizedTest
    @MethodSource("dev.clpool.DeviceAvailability#bindings")
    void bothInteriorForms_giveTheSameBits(BindingChoice binding) {
        DeviceAvailability.requireDevice(binding);
        List<PoolSpec> specs = List.of(
                PoolSpec.avg(2, 2).stride(2).build(),
                PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).build(),
                PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).countIncludePad(true).build());
        // 64 and 128 channels (the chunks by default), 48 (three vectors: never chunked)
        List<Shape> shapes = List.of(Shape.of(2, 9, 12, 64), Shape.of(1, 7, 10, 128), Shape.of(1, 6, 8, 48));
        SplittableRandom r = new SplittableRandom(20261207L);
        OpenClBackend device = OpenClBackend.open(binding, -1, OpenClBackend.Options.DEFAULT, OpenClBackend.Tuning.fromSystem());
        try (PoolingEngine cpu = PoolingEngine.builder().backend(BackendChoice.CPU).build()) {
            for (Shape s : shapes) {
                Tensor x = orderShowing(r, s);
                check(device, null, binding, x, specs);
                check(device, cpu, binding, ordinary(r, s), specs);
                if (s.c() == 64) {
                    check(device, null, binding, x.convert(DType.FLOAT16), specs);
                }
            }
        } finally {
            System.clearProperty(KernelOptions.AVG_CHUNKS);
            device.close();
        }
        assertEquals(0, device.nativeObjects().live(), device.nativeObjects().toString());
    }

    /** Each spec on {@code x} in both forms: the same bits; within tolerance of {@code cpu} where given. */
    private static void check(OpenClBackend device, PoolingEngine cpu, BindingChoice binding, Tensor x, List<PoolSpec> specs) {
        for (PoolSpec spec : specs) {
            PoolGeometry g = spec.geometry(x.shape());
            float[] first = null;
            for (String form : new String[] {"never", "always"}) {
                System.setProperty(KernelOptions.AVG_CHUNKS, form);
                String what = binding + " " + spec + " on " + x.shape() + " " + x.dtype() + " chunks " + form
                        + KernelOptions.avgRuns(g, 16, true);
                Tensor host = Tensor.allocate(g.output(), x.dtype());
                device.pool(g, x, host);
                float[] got = host.toArray();
                if (first == null) {
                    first = got;
                } else {
                    sameBits(got, first, what);
                }
                if (cpu != null) {
                    Tolerance.assertClose(got, cpu.pool(x, spec).toArray(), Tolerance.REL, what);
                }
                if (x.dtype() == DType.FLOAT32) {
                    try (ResidentTensor dx = device.upload(x); ResidentTensor out = device.allocate(g.output())) {
                        device.pool(g, dx, out);
                        Tensor back = Tensor.allocate(g.output());
                        out.download(back);
                        sameBits(back.toArray(), first, what + " (device tensors)");
                    }
                }
            }
        }
    }

    /** The same raw bits, or NaN in both. */
    /** {@code got} and {@code want} bit for bit, any NaN matching any NaN (PlanarFlatDeviceIT uses it too). */
    static void sameBits(float[] got, float[] want, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < got.length; i++) {
            if (!(Float.isNaN(got[i]) && Float.isNaN(want[i])) && Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])) {
                fail(what + ": element " + i + " is " + got[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(got[i]))
                        + "), expected " + want[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(want[i])) + ")");
            }
        }
    }

    /**
     * Sums whose value depends on their order: ±2^40 and ±2^-20 scaled by [1, 2) (where two large
     * ones cancel, the small ones added before them are lost, those after are kept), ±0, ±∞, and
     * NaNs.
     */
    private static Tensor orderShowing(SplittableRandom r, Shape s) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            int k = r.nextInt(32);
            float sign = r.nextBoolean() ? 1 : -1;
            float m = (float) (1 + r.nextDouble());
            v[i] = k < 12 ? sign * 0x1p40f : k < 26 ? sign * m * 0x1p-20f : k < 28 ? sign * 0.0f
                    : k < 30 ? sign * Float.POSITIVE_INFINITY
                    : Float.intBitsToFloat(0x7fc00000 | (i & 0x3fffff) | (sign < 0 ? 0x80000000 : 0));
        }
        return Tensor.of(s, v);
    }

    /** Uniform [−4, 4) values (PlanarFlatDeviceIT uses them too). */
    static Tensor ordinary(SplittableRandom r, Shape s) {
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 8 - 4);
        }
        return Tensor.of(s, v);
    }
}
