package dev.clpool;

import dev.clpool.backend.HostIndices;
import dev.clpool.backend.ResidentTensor;

/**
 * Device-tensor operations on tensors that are not 2-D channels-last: the 2-D channels-last
 * backend calls on views of the same device storage ({@link Lowering}), with a device temporary
 * for the second pass of 3-D. Nothing waits for the device; results equal the host forms'.
 */
final class NdDevice {
    private NdDevice() {
    }

    static DeviceTensor pool(ResidentCalls calls, DeviceTensor in, PoolSpec spec) {
        TensorShape s = in.tensorShape();
        TensorShape o = spec.outputShape(s);
        if (s.layout() == Layout.CHANNELS_FIRST) {
            PlanarGeometry[] passes = Lowering.planar(s, spec);
            if (passes[0] == null || passes[1] == null) {
                PlanarGeometry g = passes[0] != null ? passes[0] : passes[1];
                return calls.into(o, (b, src, dst) -> b.poolPlanar(g, src[0], dst), in);
            }
            Shape mid = Lowering.slices(Lowering.mid(s, o));
            return calls.into(o, (b, src, dst) -> {
                try (ResidentTensor t = b.allocate(mid)) {
                    b.poolPlanar(passes[0], src[0], t);
                    b.poolPlanar(passes[1], t, dst);
                }
            }, in);
        }
        if (s.rank() <= 2) {
            PoolGeometry g = Lowering.spec2d(spec, s.rank()).geometry(Lowering.view(s));
            return calls.into(o, (b, src, dst) -> b.pool(g, src[0], dst), in);
        }
        TensorShape mid = Lowering.mid(s, o);
        PoolGeometry planes = Lowering.planes(spec).geometry(Lowering.slices(s));
        PoolGeometry depth = Lowering.depth(spec).geometry(Lowering.depth(mid));
        return calls.into(o, (b, src, dst) -> {
            try (ResidentTensor t = b.allocate(Lowering.slices(mid))) {
                b.pool(planes, src[0], t);
                b.pool(depth, t.view(Lowering.depth(mid)), dst.view(Lowering.depth(o)));
            }
        }, in);
    }

    static DeviceTensor global(ResidentCalls calls, PoolMode mode, DeviceTensor in) {
        TensorShape s = in.tensorShape();
        Shape flat = Shape.of(Lowering.batch(s), 1, Math.toIntExact(s.spatialSize()), Lowering.channels(s));
        if (s.layout() == Layout.CHANNELS_FIRST) {
            return calls.into(s.global(), (b, src, dst) -> b.globalPlanar(mode, flat.n(), flat.w(), src[0], dst), in);
        }
        return calls.into(s.global(), (b, src, dst) -> b.global(mode, src[0].view(flat), dst), in);
    }

    /**
     * Max pooling with indices of a device tensor of any rank and layout. Rank 3 and channels-first
     * {@code nhwc} indices run their passes on the device (as {@link NdHost} does on host tensors)
     * and compose or convert the indices in host memory with {@link NdHost}'s code, then upload
     * them: the values never leave the device, the indices go down and up once (so these two forms
     * wait for the device); the one composition code keeps them bit-identical to the host form's.
     */
    static DevicePooledWithIndices poolWithIndices(ResidentCalls calls, DeviceTensor in, PoolSpec spec,
                                                   IndexConvention convention) {
        EngineChecks.checkIndicesMode(spec, convention);
        TensorShape s = in.tensorShape();
        TensorShape o = spec.outputShape(s);
        Shape storage = DeviceHandle.storageShape(o);
        if (s.rank() > 2) {
            TensorShape mid = Lowering.mid(s, o);
            Shape midSlices = Lowering.slices(mid);
            Shape outDepth = Lowering.depth(o);
            PoolGeometry planes = Lowering.planes(spec).geometry(Lowering.slices(s));
            PoolGeometry depth = Lowering.depth(spec).geometry(Lowering.depth(mid));
            IndexConvention nhwc = IndexConvention.NHWC;
            return calls.withHostIndices(o, storage, convention, (b, src, values) -> {
                try (ResidentTensor a = b.allocate(midSlices); ResidentTensor ia = b.allocateIndices(midSlices, nhwc);
                     ResidentTensor ib = b.allocateIndices(outDepth, nhwc)) {
                    b.maxWithIndices(planes, src[0], a, ia);
                    b.maxWithIndices(depth, a.view(Lowering.depth(mid)), values.view(outDepth), ib);
                    try (Indices ha = calls.hostCopy(ia, midSlices, nhwc); Indices hb = calls.hostCopy(ib, outDepth, nhwc)) {
                        Indices out = Indices.allocate(calls.memory(), TensorShape.of(storage), convention);
                        NdHost.compose(s, mid, outDepth, ha.longs(), hb.longs(), convention, out.longs());
                        return out;
                    }
                }
            }, in);
        }
        PoolGeometry g = Lowering.spec2d(spec, s.rank()).geometry(Lowering.view(s));
        if (s.layout() == Layout.CHANNELS_FIRST && convention == IndexConvention.NHWC) {
            return calls.withHostIndices(o, storage, convention, (b, src, values) -> {
                try (ResidentTensor plane = b.allocateIndices(storage, IndexConvention.PYTORCH)) {
                    b.maxWithIndices(g, src[0], values, plane);
                    Indices out = calls.hostCopy(plane, storage, convention); // plane positions until converted
                    HostIndices.planeToNhwc(out, o.n() * o.c(), o.spatialSize(), o.c());
                    return out;
                }
            }, in);
        }
        return calls.maxWithIndices(g, convention, in, o);
    }

    static DeviceTensor backward(ResidentCalls calls, DeviceTensor x, DeviceTensor dy, PoolSpec spec) {
        TensorShape s = x.tensorShape();
        TensorShape o = EngineChecks.backwardOutput(s, dy.tensorShape(), spec);
        ResidentCalls.Op lowered = lowerBackward(s, o, spec);
        if (s.layout() != Layout.CHANNELS_FIRST) {
            return calls.into(s, lowered, x, dy);
        }
        // In one pass where the backend has a kernel for the geometry (NdHost.planarBackward's rule).
        Axis[] axes = spec.axes(s);
        int planeCount = Math.multiplyExact(s.n(), s.c());
        return calls.into(s, (b, src, dst) -> {
            if (!b.backwardPlanar(spec.mode(), axes, planeCount, src[0], src[1], dst)) {
                lowered.run(b, src, dst);
            }
        }, x, dy);
    }

    /** The backward on the 2-D channels-last calls: one for rank 1 and 2; for 3-D the D pass's, then the (H, W) pass's. */
    private static ResidentCalls.Op lowerBackward(TensorShape s, TensorShape o, PoolSpec spec) {
        if (s.rank() <= 2) {
            PoolGeometry g = Lowering.spec2d(spec, s.rank()).geometry(Lowering.view(s));
            return (b, src, dst) -> b.backward(g, src[0], src[1], dst);
        }
        TensorShape mid = Lowering.mid(s, o);
        PoolGeometry planes = Lowering.planes(spec).geometry(Lowering.slices(s));
        PoolGeometry depth = Lowering.depth(spec).geometry(Lowering.depth(mid));
        return (b, src, dst) -> {
            try (ResidentTensor a = b.allocate(Lowering.slices(mid)); ResidentTensor g = b.allocate(Lowering.slices(mid))) {
                if (spec.mode() == PoolMode.MAX) {
                    b.pool(planes, src[0], a);
                }
                b.backward(depth, a.view(Lowering.depth(mid)), src[1].view(Lowering.depth(o)), g.view(Lowering.depth(mid)));
                b.backward(planes, src[0], g, dst);
            }
        };
    }

    static DeviceTensor adaptive(ResidentCalls calls, PoolMode mode, DeviceTensor in, int[] size) {
        TensorShape s = in.tensorShape();
        TensorShape o = NdHost.adaptiveShape(s, size);
        AdaptiveGeometry.checkMode(mode);
        if (s.rank() <= 2) {
            Shape v = Lowering.view(o);
            AdaptiveGeometry g = AdaptiveGeometry.of(mode, Lowering.view(s), v.h(), v.w());
            return calls.into(o, (b, src, dst) -> b.adaptive(g, src[0], dst), in);
        }
        TensorShape mid = s.withSpatial(s.spatial(0), size[1], size[2]);
        AdaptiveGeometry planes = AdaptiveGeometry.of(mode, Lowering.slices(s), size[1], size[2]);
        Shape dv = Lowering.depth(mid);
        AdaptiveGeometry depth = AdaptiveGeometry.of(mode, dv, size[0], dv.w());
        return calls.into(o, (b, src, dst) -> {
            try (ResidentTensor t = b.allocate(Lowering.slices(mid))) {
                b.adaptive(planes, src[0], t);
                b.adaptive(depth, t.view(dv), dst.view(Lowering.depth(o)));
            }
        }, in);
    }

    /**
     * Max unpooling of device values with device indices ({@link NdHost#unpoolGeometry}'s rules),
     * into {@code out} (its spatial sizes the output size) or, if null, a new device tensor of
     * {@code outputSize} (null: the default). Waits for the index check only.
     */
    static DeviceTensor unpool(ResidentCalls calls, DeviceTensor values, DeviceIndices indices, PoolSpec spec,
                               int[] outputSize, DeviceTensor out) {
        calls.checkOwner(values);
        calls.checkOwner(indices);
        int[] size = out == null ? outputSize : out.tensorShape().spatial();
        UnpoolGeometry g = NdHost.unpoolGeometry(values.tensorShape(), indices.tensorShape(), indices.convention(), spec, size);
        if (out == null) {
            return calls.into(g.output(), (b, src, dst) -> b.unpool(g, src[0], src[1], dst), values, indices);
        }
        calls.checkOwner(out);
        if (!out.tensorShape().equals(g.output())) {
            throw new IllegalArgumentException("output device tensor " + EngineChecks.mismatch(out.tensorShape(), g.output()));
        }
        return calls.call((b, src) -> {
            if (src[2] != out.storage) {
                throw new IllegalStateException(out + " is not where the unpooling runs (after a device failure): use the"
                        + " allocating form");
            }
            b.unpool(g, src[0], src[1], src[2]);
            return out;
        }, values, indices, out);
    }
}
