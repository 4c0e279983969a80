package dev.clpool.jmh;

import dev.clpool.Padding;
import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;

/**
 * The standard suite of issue 6: the same shapes for clpool, the host copy and onnxruntime.
 * Each constant's name is the JMH parameter value.
 */
public enum Suite {
    max2x2s2_1x512x512x64(Shape.of(1, 512, 512, 64), PoolSpec.max(2, 2).stride(2).build()),
    max3x3s2p1_32x112x112x64(Shape.of(32, 112, 112, 64), PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build()),
    avg3x3s1p1_8x56x56x64(Shape.of(8, 56, 56, 64), PoolSpec.avg(3, 3).stride(1).padding(Padding.of(1)).build()),
    globalavg_32x7x7x2048(Shape.of(32, 7, 7, 2048), null),
    globalavg_8x224x224x64(Shape.of(8, 224, 224, 64), null),
    tinymax2x2s2_1x8x8x16(Shape.of(1, 8, 8, 16), PoolSpec.max(2, 2).stride(2).build());

    /** Every suite name, for the {@code @Param} annotations (they need a constant). */
    public static final String ALL = "max2x2s2_1x512x512x64,max3x3s2p1_32x112x112x64,avg3x3s1p1_8x56x56x64,"
            + "globalavg_32x7x7x2048,globalavg_8x224x224x64,tinymax2x2s2_1x8x8x16";

    private final Shape input;
    private final PoolSpec spec;

    Suite(Shape input, PoolSpec spec) {
        this.input = input;
        this.spec = spec;
    }

    /** NHWC input shape. */
    public Shape input() {
        return input;
    }

    /** The windowed spec, or null for global average pooling. */
    public PoolSpec spec() {
        return spec;
    }

    public boolean global() {
        return spec == null;
    }

    public PoolMode mode() {
        return spec == null ? PoolMode.AVG : spec.mode();
    }

    /** NHWC output shape. */
    public Shape output() {
        return spec == null ? Shape.of(input.n(), 1, 1, input.c()) : spec.outputShape(input);
    }

    /** Bytes read plus bytes written by one run: the numerator of GB/s. */
    public long bytesMoved() {
        return (input.elementCount() + output().elementCount()) * Float.BYTES;
    }
}
