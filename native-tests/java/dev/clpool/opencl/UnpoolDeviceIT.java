package dev.clpool.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.clpool.BindingChoice;
import dev.clpool.DType;
import dev.clpool.DeviceAvailability;
import dev.clpool.IndexConvention;
import dev.clpool.InvalidInputException;
import dev.clpool.Tensor;
import dev.clpool.TensorShape;
import dev.clpool.UnpoolGeometry;
import dev.clpool.backend.BackendLimitException;
import dev.clpool.cpu.CpuBackend;
import dev.clpool.testing.UnpoolCases;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Max unpooling on the device, through every binding, zero-copy and copying, with the CPU devices'
 * contiguous and the GPUs' strided sharing of elements among work items: the seeded cases of
 * {@link UnpoolCases} (ranks 1-3, both layouts, every convention and storage type, many values
 * naming one element, ONNX indices crossing batch items) give the CPU path's bits; a bad index
 * gives the CPU path's refusal, naming the same first index, with the output untouched; a request
 * beyond the device's limits is refused before any work; no native object outlives the backend.
 */
class UnpoolDeviceIT {

    static Stream<Arguments> bindingsAndCopies() {
        return DeviceAvailability.bindings().stream().flatMap(b -> Stream.of(Arguments.of(b, true), Arguments.of(b, false)));
    }

    /** Zero-copy and copying; and the GPUs' strided work sharing (channel lanes) forced on a CPU device. */
    static Stream<Arguments> bindingsCopiesAndLayouts() {
        return DeviceAvailability.bindings().stream().flatMap(b -> Stream.of(Arguments.of(b, true, OpenClBackend.Layout.AUTO),
                Arguments.of(b, false, OpenClBackend.Layout.AUTO), Arguments.of(b, true, OpenClBackend.Layout.CHANNEL_LANES)));
    }

    private static OpenClBackend open(BindingChoice binding, OpenClBackend.Options options, boolean zeroCopy) {
        return open(binding, options, zeroCopy, OpenClBackend.Layout.AUTO);
    }

    private static OpenClBackend open(BindingChoice binding, OpenClBackend.Options options, boolean zeroCopy,
                                      OpenClBackend.Layout layout) {
        DeviceAvailability.requireDevice(binding);
        return OpenClBackend.open(binding, -1, options, OpenClBackend.Tuning.fromSystem().withZeroCopy(zeroCopy).withLayout(layout));
    }

    @ParameterizedTest(name = "{0} zeroCopy={1} {2}")
    @MethodSource("bindingsCopiesAndLayouts")
    void unpool_equalsCpuPath_bitForBit_andBadIndicesAreRefusedAlike(BindingChoice binding, boolean zeroCopy,
                                                                      OpenClBackend.Layout layout) {
        OpenClBackend device = open(binding, OpenClBackend.Options.DEFAULT, zeroCopy, layout);
        try (CpuBackend cpu = new CpuBackend(2)) {
            for (UnpoolCases.Case c : UnpoolCases.generate(0xdec0de, 48)) {
                String what = binding + " zeroCopy=" + zeroCopy + " " + layout + " " + c.name();
                Tensor got = c.output();
                device.unpool(c.valuesTensor(), c.indicesArray(), c.g(), got);
                Tensor want = c.output();
                cpu.unpool(c.valuesTensor(), c.indicesArray(), c.g(), want);
                assertArrayEquals(UnpoolCases.bits(want), UnpoolCases.bits(got), what);
                assertArrayEquals(c.expected(), UnpoolCases.bits(got), what + " (naive)");

                // The same case with two bad indices: the first in channels-last order is named.
                long[] bad = c.indices().clone();
                long count = c.g().values().elementCount();
                bad[(int) (count - 1)] = -1;
                bad[(int) (count / 2)] = c.g().output().elementCount();
                UnpoolCases.Case b = new UnpoolCases.Case(c.name() + " bad", c.g(), c.dtype(), c.values(), bad);
                Tensor untouched = b.output();
                int[] before = UnpoolCases.bits(untouched);
                InvalidInputException onDevice = assertThrows(InvalidInputException.class,
                        () -> device.unpool(b.valuesTensor(), b.indicesArray(), b.g(), untouched), what);
                InvalidInputException onCpu = assertThrows(InvalidInputException.class,
                        () -> cpu.unpool(b.valuesTensor(), b.indicesArray(), b.g(), b.output()), what);
                assertEquals(onCpu.getMessage(), onDevice.getMessage(), what);
                assertArrayEquals(before, UnpoolCases.bits(untouched), what + ": nothing written");
            }
        } finally {
            device.close();
        }
        assertEquals(0, device.nativeObjects().live(), device.nativeObjects().toString());
    }

    @ParameterizedTest(name = "{0} zeroCopy={1}")
    @MethodSource("bindingsAndCopies")
    void beyondTheKernelsOffsets_isRefusedBeforeAnyWork(BindingChoice binding, boolean zeroCopy) {
        OpenClBackend device = open(binding, OpenClBackend.Options.DEFAULT.withMaxKernelElements(40), zeroCopy);
        try {
            UnpoolGeometry g = UnpoolGeometry.of(TensorShape.channelsFirst(1, 2, 3, 3), new int[] {2, 2}, new int[] {2, 2},
                    new int[] {0, 0}, new int[] {0, 0}, null, IndexConvention.PYTORCH); // output 2 x 6 x 6 = 72
            UnpoolCases.Case c = new UnpoolCases.Case("limit", g, DType.FLOAT32, new int[18], new long[18]);
            Tensor out = c.output();
            int[] before = UnpoolCases.bits(out);
            assertThrows(BackendLimitException.class, () -> device.unpool(c.valuesTensor(), c.indicesArray(), g, out));
            assertArrayEquals(before, UnpoolCases.bits(out));
            // The session stays usable.
            UnpoolGeometry small = UnpoolGeometry.of(TensorShape.channelsLast(1, new int[] {2}, 2), new int[] {2},
                    new int[] {2}, new int[] {0}, new int[] {0}, null, IndexConvention.NHWC);
            UnpoolCases.Case s = new UnpoolCases.Case("small", small, DType.FLOAT32, new int[] {1, 2, 3, 4},
                    new long[] {0, 3, 7, 7});
            UnpoolCases.assertMatchesNaive(device, s);
        } finally {
            device.close();
        }
        assertEquals(0, device.nativeObjects().live(), device.nativeObjects().toString());
    }
}
