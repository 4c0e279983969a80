package dev.clpool;

import dev.clpool.backend.Fallback;
import java.util.Objects;

/**
 * The {@link PoolingEngine}'s operations on {@link DeviceTensor}s: upload once, chain operations,
 * download once. Each queues its work and returns at once; results equal the host forms' bit for
 * bit. A separate class only to keep the engine's source readable; users see these methods on
 * {@link PoolingEngine}.
 */
abstract class DeviceForms {

    /** Device-tensor plumbing of the engine. */
    abstract ResidentCalls resident();

    /** The engine's backend and fallback policy. */
    abstract Fallback exec();

    // ---- device-resident tensors: upload once, chain operations, download once ----

    /**
     * A copy of {@code t} where this engine computes (its device, or host memory on the CPU
     * path), taken before this returns: later changes to {@code t} do not show in it.
     */
    public DeviceTensor upload(Tensor t) {
        Objects.requireNonNull(t, "tensor");
        if (t.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException("device tensors hold float32 for now, got " + t.dtype()
                    + ": convert first (Tensor.convert) or pool the host tensor directly");
        }
        TensorShape s = t.tensorShape();
        return exec().resident(b -> new DeviceTensor((PoolingEngine) this, b,
                b.upload(s.isShape2d() ? t : t.reshaped(DeviceHandle.storageShape(s))), s));
    }

    /**
     * Windowed pooling of a device tensor into a new one, without waiting for the device. The
     * result has shape {@code spec.outputShape(in.shape())}; close it when done.
     */
    public DeviceTensor pool(DeviceTensor in, PoolSpec spec) {
        if (!in.tensorShape().isShape2d()) {
            return NdDevice.pool(resident(), in, spec);
        }
        PoolGeometry g = spec.geometry(in.shape());
        return resident().into(g.output(), (b, src, dst) -> b.pool(g, src[0], dst), in);
    }

    /** Average over each H×W plane of a device tensor: a new (N, 1, 1, C) device tensor. */
    public DeviceTensor globalAvg(DeviceTensor in) {
        return global(PoolMode.AVG, in);
    }

    /** Maximum over each H×W plane of a device tensor: a new (N, 1, 1, C) device tensor. */
    public DeviceTensor globalMax(DeviceTensor in) {
        return global(PoolMode.MAX, in);
    }

    /** Global pooling ({@code mode} MAX or AVG) of a device tensor, without waiting for the device. */
    public DeviceTensor global(PoolMode mode, DeviceTensor in) {
        EngineChecks.checkGlobalMode(mode);
        if (!in.tensorShape().isShape2d()) {
            return NdDevice.global(resident(), mode, in);
        }
        return resident().into(EngineChecks.globalShape(in.shape()), (b, src, dst) -> b.global(mode, src[0], dst), in);
    }

    /** {@link #poolWithIndices(DeviceTensor, PoolSpec, IndexConvention)} in the {@link IndexConvention#NHWC} convention. */
    public DevicePooledWithIndices poolWithIndices(DeviceTensor in, PoolSpec spec) {
        return poolWithIndices(in, spec, IndexConvention.NHWC);
    }

    /**
     * Max pooling with indices of a device tensor, without waiting for the device: values and
     * indices equal {@link #poolWithIndices(Tensor, PoolSpec, IndexConvention)}'s bit for bit. Close
     * the result when done.
     */
    public DevicePooledWithIndices poolWithIndices(DeviceTensor in, PoolSpec spec, IndexConvention convention) {
        resident().checkOwner(in);
        if (!in.tensorShape().isShape2d()) {
            return NdDevice.poolWithIndices(resident(), in, spec, convention);
        }
        PoolGeometry g = EngineChecks.indicesGeometry(in.shape(), spec, convention);
        return resident().maxWithIndices(g, convention, in);
    }

    /**
     * Backward of max or avg pooling on device tensors, without waiting for the device: a new
     * device tensor of {@code input}'s shape, equal to {@link #backward(Tensor, Tensor, PoolSpec)}'s
     * result bit for bit. The rules on {@code gradOutput} are the host form's.
     */
    public DeviceTensor backward(DeviceTensor input, DeviceTensor gradOutput, PoolSpec spec) {
        resident().checkOwner(input);
        resident().checkOwner(gradOutput);
        if (!input.tensorShape().isShape2d()) {
            return NdDevice.backward(resident(), input, gradOutput, spec);
        }
        PoolGeometry g = EngineChecks.backwardGeometry(input.shape(), gradOutput.shape(), spec);
        return resident().into(input.shape(), (b, src, dst) -> b.backward(g, src[0], src[1], dst), input, gradOutput);
    }

    /** Adaptive average of a device tensor to (oh, ow); see {@link #adaptive(PoolMode, DeviceTensor, int, int)}. */
    public DeviceTensor adaptiveAvg(DeviceTensor in, int oh, int ow) {
        return adaptive(PoolMode.AVG, in, oh, ow);
    }

    /** Adaptive maximum of a device tensor to (oh, ow); see {@link #adaptive(PoolMode, DeviceTensor, int, int)}. */
    public DeviceTensor adaptiveMax(DeviceTensor in, int oh, int ow) {
        return adaptive(PoolMode.MAX, in, oh, ow);
    }

    /** Adaptive pooling of a device tensor to (oh, ow), without waiting for the device: a new (N, oh, ow, C) device tensor. */
    public DeviceTensor adaptive(PoolMode mode, DeviceTensor in, int oh, int ow) {
        return adaptive(mode, in, new int[] {oh, ow});
    }

    /** Adaptive pooling of a device tensor of any rank and layout to {@code size}, one number per spatial axis. */
    public DeviceTensor adaptive(PoolMode mode, DeviceTensor in, int... size) {
        resident().checkOwner(in);
        if (!in.tensorShape().isShape2d()) {
            return NdDevice.adaptive(resident(), mode, in, size);
        }
        int oh = NdHost.adaptiveShape(in.tensorShape(), size).spatial(0);
        int ow = size[1];
        AdaptiveGeometry g = AdaptiveGeometry.of(mode, in.shape(), oh, ow);
        return resident().into(g.output(), (b, src, dst) -> b.adaptive(g, src[0], dst), in);
    }

    /**
     * Max unpooling of device tensors, the inverse of {@link #poolWithIndices(DeviceTensor, PoolSpec,
     * IndexConvention)}: a new device tensor equal to {@link PoolingEngine#unpool(Tensor, Indices,
     * PoolSpec)}'s result bit for bit, under the same rules. It waits for the device to check the
     * indices (a bad one is refused here, as on the host, naming the same first index), not for the
     * rest. Close the result when done.
     *
     * @throws InvalidInputException an index outside the output (the first is named)
     */
    public DeviceTensor unpool(DeviceTensor values, DeviceIndices indices, PoolSpec spec) {
        return unpool(values, indices, spec, (int[]) null);
    }

    /** {@link #unpool(DeviceTensor, DeviceIndices, PoolSpec)} to {@code outputSize} (per axis; null: the default). */
    public DeviceTensor unpool(DeviceTensor values, DeviceIndices indices, PoolSpec spec, int[] outputSize) {
        return NdDevice.unpool(resident(), values, indices, spec, outputSize, null);
    }

    /**
     * {@link #unpool(DeviceTensor, DeviceIndices, PoolSpec)} into {@code out} (same engine, its spatial
     * sizes the output size, overwritten whole); returns it. A bad index leaves it untouched.
     */
    public DeviceTensor unpool(DeviceTensor values, DeviceIndices indices, PoolSpec spec, DeviceTensor out) {
        return NdDevice.unpool(resident(), values, indices, spec, null, Objects.requireNonNull(out, "output"));
    }
}
