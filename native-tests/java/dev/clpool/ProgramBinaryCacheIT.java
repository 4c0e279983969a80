package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.opencl.Bindings;
import dev.clpool.opencl.ClDevice;
import dev.clpool.opencl.OpenClBackend;
import dev.clpool.opencl.OpenClDevices;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.Tolerance;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Program binaries cached on disk: a second engine builds from the binary (it works even where
 * building from source fails), a corrupt entry is rebuilt and never handed to the driver, and a
 * well-formed entry the driver refuses is rebuilt from source.
 */
class ProgramBinaryCacheIT {
    private static final Tensor X = Tensor.of(Shape.of(1, 4, 4, 1), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    private static final PoolSpec SPEC = PoolSpec.max(3, 3).stride(2).padding(Padding.of(1)).build();
    private static final float[] WANT = {5, 7, 13, 15};
    /** Header of an entry: magic line, 64 hex key, int length, 32-byte SHA-256, then the binary. */
    private static final int MAGIC = "clpool-program-binary 1\n".length();

    @TempDir
    Path dir;

    static Iterable<BindingChoice> bindings() {
        return DeviceAvailability.bindings();
    }

    private float[] poolWith(FaultInjectingBinding binding, ClDevice real) {
        try (PoolingEngine e = engine(binding, real, OpenClBackend.Layout.AUTO)) {
            return e.pool(X, SPEC).toArray();
        }
    }

    private PoolingEngine engine(FaultInjectingBinding binding, ClDevice real, OpenClBackend.Layout layout) {
        ClDevice device = new ClDevice(binding, real.platform(), real.id(), real.info(), real.index());
        return PoolingEngine.builder().backend(BackendChoice.OPENCL).device(device)
                .openClTuning(OpenClBackend.Tuning.fromSystem().withKernelCache(dir).withLayout(layout)).build();
    }

    /**
     * One operation of every kernel family (pool in both layouts, float32 and float16 storage, max
     * over float16 on its patterns where the device is a CPU, max with indices, global in one and two passes, adaptive, backward): each result as a long list
     * of floats (indices as their values), for comparing a source build with a binary one.
     */
    private static List<float[]> everyFamily(PoolingEngine e, PoolingEngine lanes) {
        SplittableRandom r = new SplittableRandom(20261205L);
        Tensor x = RandomCases.values(r, Shape.of(2, 9, 11, 12), true);
        Tensor big = RandomCases.values(r, Shape.of(1, 224, 224, 8), false);
        Tensor x16 = x.convert(DType.FLOAT16);
        PoolSpec avg = PoolSpec.avg(3, 2).stride(2, 1).padding(Padding.of(1, 0, 1, 0)).countIncludePad(true).build();
        PoolSpec max = PoolSpec.max(3, 3).stride(2).dilation(2, 1).padding(Padding.SAME).build();
        Tensor dy = RandomCases.values(r, max.outputShape(x.shape()), false);
        PooledWithIndices withIndices = e.poolWithIndices(x, max, IndexConvention.ONNX);
        float[] indices = new float[withIndices.indices().toArray().length];
        long[] raw = withIndices.indices().toArray();
        for (int i = 0; i < raw.length; i++) {
            indices[i] = raw[i];
        }
        return List.of(e.pool(x, avg).toArray(), lanes.pool(x, avg).toArray(), e.pool(x, max).toArray(),
                lanes.pool(x, max).toArray(), e.pool(x16, PoolSpec.builder(PoolMode.LP).window(2, 2).p(3).build()).toArray(),
                e.pool(x16, max).toArray(),
                withIndices.values().toArray(), indices, e.globalAvg(x).toArray(), e.globalMax(big).toArray(),
                e.globalAvg(big).toArray(), e.adaptiveAvg(x, 4, 5).toArray(), e.adaptiveMax(x, 3, 7).toArray(),
                e.backward(x, dy, max).toArray(), e.backward(x, e.pool(x, avg), avg).toArray());
    }

    private List<Path> entries() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".bin")).toList();
        }
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void secondEngine_buildsFromTheCachedBinary(BindingChoice binding) throws IOException {
        DeviceAvailability.requireDevice(binding);
        ClDevice real = OpenClDevices.choose(Bindings.require(binding), -1);
        FaultInjectingBinding first = new FaultInjectingBinding(real.binding());
        assertArrayEquals(WANT, poolWith(first, real));
        assertEquals(1, first.calls("buildProgram"));
        assertEquals(1, entries().size(), "one program, one entry");

        // Building from source would fail now: the result can only come from the cached binary.
        FaultInjectingBinding second = new FaultInjectingBinding(real.binding(), "buildProgramFromSource");
        assertArrayEquals(WANT, poolWith(second, real));
        assertEquals(1, second.calls("buildProgramFromBinary"));
        assertEquals(0, second.calls("buildProgram"));
    }

    /**
     * Every kernel family runs from a cached binary and gives the bits of the source build. (The
     * other device tests build from source: CI turns the on-disk cache off there, because asking
     * PoCL for a binary makes it compile every kernel once more, for any work-group size.)
     */
    @ParameterizedTest
    @MethodSource("bindings")
    void everyKernelFamily_fromTheCachedBinary_givesTheSourceBuildsBits(BindingChoice binding) throws IOException {
        DeviceAvailability.requireDevice(binding);
        ClDevice real = OpenClDevices.choose(Bindings.require(binding), -1);
        FaultInjectingBinding first = new FaultInjectingBinding(real.binding());
        List<float[]> fromSource;
        try (PoolingEngine e = engine(first, real, OpenClBackend.Layout.CHANNEL_LOOP);
             PoolingEngine lanes = engine(first, real, OpenClBackend.Layout.CHANNEL_LANES)) {
            fromSource = everyFamily(e, lanes);
        }
        assertTrue(first.calls("buildProgram") >= 8, "programs built from source: " + first.calls("buildProgram"));
        assertEquals(first.calls("buildProgram"), entries().size(), "one entry per program");

        FaultInjectingBinding second = new FaultInjectingBinding(real.binding(), "buildProgramFromSource");
        List<float[]> fromBinary;
        try (PoolingEngine e = engine(second, real, OpenClBackend.Layout.CHANNEL_LOOP);
             PoolingEngine lanes = engine(second, real, OpenClBackend.Layout.CHANNEL_LANES)) {
            fromBinary = everyFamily(e, lanes);
        }
        assertEquals(0, second.calls("buildProgram"), "every program came from its binary");
        assertEquals(entries().size(), second.calls("buildProgramFromBinary"));
        for (int i = 0; i < fromSource.size(); i++) {
            Tolerance.assertBitIdentical(fromBinary.get(i), fromSource.get(i), binding + ": result " + i);
        }
        assertEquals(0, second.live(), "nothing leaked");
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void corruptEntry_isRebuilt_notTrusted(BindingChoice binding) throws IOException {
        DeviceAvailability.requireDevice(binding);
        ClDevice real = OpenClDevices.choose(Bindings.require(binding), -1);
        assertArrayEquals(WANT, poolWith(new FaultInjectingBinding(real.binding()), real));
        Path entry = entries().get(0);
        byte[] bytes = Files.readAllBytes(entry);
        bytes[bytes.length / 2 + 64] ^= 0x5A; // a flipped byte in the binary: the checksum no longer matches
        Files.write(entry, bytes);

        FaultInjectingBinding after = new FaultInjectingBinding(real.binding());
        assertArrayEquals(WANT, poolWith(after, real));
        assertEquals(0, after.calls("buildProgramFromBinary"), "a corrupt entry must never reach the driver");
        assertEquals(1, after.calls("buildProgram"));

        // ... and it was written again: the next engine uses it.
        FaultInjectingBinding next = new FaultInjectingBinding(real.binding(), "buildProgramFromSource");
        assertArrayEquals(WANT, poolWith(next, real));
        assertEquals(1, next.calls("buildProgramFromBinary"));

        Files.write(entry, new byte[] {1, 2, 3}); // truncated to garbage
        FaultInjectingBinding garbage = new FaultInjectingBinding(real.binding());
        assertArrayEquals(WANT, poolWith(garbage, real));
        assertEquals(0, garbage.calls("buildProgramFromBinary"));
    }

    @ParameterizedTest
    @MethodSource("bindings")
    void wellFormedEntryTheDriverRefuses_isRebuiltFromSource(BindingChoice binding) throws Exception {
        DeviceAvailability.requireDevice(binding);
        ClDevice real = OpenClDevices.choose(Bindings.require(binding), -1);
        assertArrayEquals(WANT, poolWith(new FaultInjectingBinding(real.binding()), real));
        Path entry = entries().get(0);
        byte[] header;
        try (DataInputStream in = new DataInputStream(Files.newInputStream(entry))) {
            header = in.readNBytes(MAGIC + 64);
        }
        byte[] junk = "not a program binary of any driver".getBytes();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(b)) {
            out.write(header);
            out.writeInt(junk.length);
            out.write(MessageDigest.getInstance("SHA-256").digest(junk));
            out.write(junk);
        }
        Files.write(entry, b.toByteArray());

        FaultInjectingBinding after = new FaultInjectingBinding(real.binding());
        assertArrayEquals(WANT, poolWith(after, real));
        assertEquals(1, after.calls("buildProgramFromBinary"), "a valid-looking entry is offered to the driver");
        assertEquals(1, after.calls("buildProgram"), "and rebuilt from source when refused");
        assertTrue(Files.size(entry) > b.size(), "the refused entry was replaced by the real binary");
        assertEquals(0, after.live(), "nothing leaked on the refused binary");
    }
}
