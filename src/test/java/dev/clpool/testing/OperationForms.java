package dev.clpool.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.clpool.DType;
import dev.clpool.DeviceTensor;
import dev.clpool.DevicePooledWithIndices;
import dev.clpool.IndexConvention;
import dev.clpool.Indices;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.PooledWithIndices;
import dev.clpool.PoolingEngine;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * The three forms of every operation (allocating, into an existing output, on device tensors)
 * compared bit for bit on one engine: shared by the CPU-path test and the device test, so both
 * bindings and the CPU path check the same things.
 */
public final class OperationForms {
    /** Max 3×3 s2 p1 over an odd-sized input: windows overlap, padding and a ragged edge. */
    public static final PoolSpec MAX = PoolSpec.parse("max k=3x3 s=2 pad=1,1,1,1");
    /** Avg 3×2 s1 with padding counted. */
    public static final PoolSpec AVG = PoolSpec.parse("avg k=3x2 s=1 pad=1,1,0,0 include-pad");

    private OperationForms() {
    }

    /** A random input with ties (values on a coarse grid), so first-maximum rules matter. */
    public static Tensor input(Shape s, DType dtype, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(s.elementCount())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (r.nextInt(64) - 32) / 8f;
        }
        return Tensor.of(s, dtype, v);
    }

    /** Windowed pooling: {@code pool(x, spec, out)} writes what {@code pool(x, spec)} returns. */
    public static void pool(PoolingEngine e, Tensor x, PoolSpec spec) {
        try (Tensor want = e.pool(x, spec); Tensor out = garbage(want.shape(), x.dtype())) {
            assertSame(out, e.pool(x, spec, out));
            assertBits(want, out, "pool into " + spec);
        }
    }

    /** Global pooling into an existing output. */
    public static void global(PoolingEngine e, Tensor x, PoolMode mode) {
        try (Tensor want = e.global(mode, x); Tensor out = garbage(want.shape(), x.dtype())) {
            assertSame(out, e.global(mode, x, out));
            assertBits(want, out, "global " + mode);
        }
    }

    /** Max pooling with indices into existing values and indices, in every convention. */
    public static void poolWithIndices(PoolingEngine e, Tensor x, PoolSpec spec) {
        for (IndexConvention c : IndexConvention.values()) {
            try (PooledWithIndices want = e.poolWithIndices(x, spec, c);
                 Tensor values = garbage(want.values().shape(), x.dtype());
                 Indices indices = Indices.allocate(want.indices().shape(), c)) {
                indices.longs().put(0, -7);
                PooledWithIndices got = e.poolWithIndices(x, spec, c, values, indices);
                assertSame(values, got.values());
                assertSame(indices, got.indices());
                assertBits(want.values(), values, "poolWithIndices values " + c);
                assertArrayEquals(want.indices().toArray(), indices.toArray(), "poolWithIndices indices " + c);
            }
        }
    }

    /** Backward into an existing gradient, from a random output gradient. */
    public static void backward(PoolingEngine e, Tensor x, PoolSpec spec) {
        Tensor dy = input(spec.outputShape(x.shape()), x.dtype(), 99);
        try (Tensor want = e.backward(x, dy, spec); Tensor dx = garbage(x.shape(), x.dtype())) {
            assertSame(dx, e.backward(x, dy, spec, dx));
            assertBits(want, dx, "backward " + spec);
        }
    }

    /** Adaptive pooling into an existing output. */
    public static void adaptive(PoolingEngine e, Tensor x, PoolMode mode, int oh, int ow) {
        try (Tensor want = e.adaptive(mode, x, oh, ow); Tensor out = garbage(want.shape(), x.dtype())) {
            assertSame(out, e.adaptive(mode, x, oh, ow, out));
            assertBits(want, out, "adaptive " + mode + " " + oh + "x" + ow);
        }
    }

    /** The device-tensor forms of max with indices, backward and adaptive give the host forms' bits (float32). */
    public static void deviceForms(PoolingEngine e, Tensor x) {
        Tensor dy = input(MAX.outputShape(x.shape()), DType.FLOAT32, 98);
        try (DeviceTensor dx = e.upload(x); DeviceTensor ddy = e.upload(dy)) {
            for (IndexConvention c : IndexConvention.values()) {
                try (PooledWithIndices want = e.poolWithIndices(x, MAX, c);
                     DevicePooledWithIndices got = e.poolWithIndices(dx, MAX, c);
                     PooledWithIndices down = got.download()) {
                    assertEquals(c, got.indices().convention());
                    assertBits(want.values(), down.values(), "device poolWithIndices values " + c);
                    assertArrayEquals(want.indices().toArray(), down.indices().toArray(), "device indices " + c);
                    Indices into = Indices.allocate(want.indices().shape(), c);
                    assertSame(into, got.indices().download(into));
                    assertArrayEquals(want.indices().toArray(), into.toArray(), "device indices into " + c);
                }
            }
            for (PoolSpec spec : new PoolSpec[] {MAX, AVG}) {
                Tensor g = spec == MAX ? dy : input(spec.outputShape(x.shape()), DType.FLOAT32, 97);
                try (Tensor want = e.backward(x, g, spec); DeviceTensor dg = e.upload(g);
                     DeviceTensor got = e.backward(dx, dg, spec); Tensor down = got.download()) {
                    assertBits(want, down, "device backward " + spec);
                }
            }
            for (PoolMode mode : new PoolMode[] {PoolMode.MAX, PoolMode.AVG}) {
                try (Tensor want = e.adaptive(mode, x, 3, 4); DeviceTensor got = e.adaptive(mode, dx, 3, 4);
                     Tensor down = got.download()) {
                    assertBits(want, down, "device adaptive " + mode);
                }
            }
            try (Tensor want = e.adaptiveAvg(x, 5, 2); DeviceTensor got = e.adaptiveAvg(dx, 5, 2)) {
                assertBits(want, got.download(), "device adaptiveAvg");
            }
        }
    }

    /** An output full of NaN bit patterns, so a form that leaves elements unwritten shows. */
    public static Tensor garbage(Shape s, DType dtype) {
        Tensor t = Tensor.allocate(s, dtype);
        ByteBuffer b = t.buffer();
        while (b.hasRemaining()) {
            b.put((byte) 0x7f);
        }
        return t;
    }

    public static void assertBits(Tensor want, Tensor got, String what) {
        assertEquals(want.shape(), got.shape(), what + ": shape");
        assertEquals(want.dtype(), got.dtype(), what + ": dtype");
        assertEquals(want.buffer(), got.buffer(), what + ": bits differ");
    }
}
