package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.opencl.Bindings;
import dev.clpool.opencl.ClDevice;
import dev.clpool.opencl.OpenClBackend;
import dev.clpool.opencl.OpenClDevices;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
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
        ClDevice device = new ClDevice(binding, real.platform(), real.id(), real.info(), real.index());
        try (PoolingEngine e = PoolingEngine.builder().backend(BackendChoice.OPENCL).device(device)
                .openClTuning(OpenClBackend.Tuning.fromSystem().withKernelCache(dir)).build()) {
            return e.pool(X, SPEC).toArray();
        }
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
