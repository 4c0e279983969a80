package dev.clpool.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.clpool.Axis;
import dev.clpool.Layout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The N-D reference data itself: the manifest covers every operation, rank, layout, convention and
 * padding rule the brief of issue 13 asks for; every array holds the same data in both layouts;
 * output shapes follow SEMANTICS.md's geometry as the library computes it ({@link Axis}); the
 * indices of the four conventions name the same element, which holds the pooled value; and the
 * test-side {@code .npy} reader refuses what it cannot read.
 */
class NdReferenceTest {
    private static final List<String> CONVENTIONS = List.of("nhwc", "pytorch", "onnx", "onnx-column-major");
    private static final NdReference REF = NdReference.load();

    static Stream<NdReference.Case> cases() {
        return REF.cases().stream();
    }

    @Test
    void manifest_coversEveryOperationRankAndConvention() {
        assertEquals(4e-6, REF.tolerance());
        for (int rank = 1; rank <= 3; rank++) {
            int r = rank;
            for (String mode : List.of("max", "avg", "lp")) {
                require(r, "pool " + mode, c -> c.op().equals("pool") && mode.equals(c.mode()));
            }
            for (String conv : CONVENTIONS) {
                require(r, "indices " + conv, c -> c.op().equals("pool_with_indices") && conv.equals(c.indexConvention()));
                require(r, "unpool " + conv, c -> c.op().equals("unpool") && conv.equals(c.indexConvention()));
            }
            require(r, "same", c -> "same".equals(c.padding()));
            require(r, "same-lower", c -> "same-lower".equals(c.padding()));
            require(r, "asymmetric padding", c -> c.padBegin() != null && !Arrays.equals(c.padBegin(), c.padEnd()));
            require(r, "ceil mode", NdReference.Case::ceilMode);
            require(r, "count_include_pad with dilation", c -> c.countIncludePad() && c.dilation() != null
                    && Arrays.stream(c.dilation()).anyMatch(d -> d > 1));
            require(r, "lp p=3", c -> c.op().equals("pool") && c.p() != null && c.p() == 3.0);
            for (String mode : List.of("max", "avg")) {
                require(r, "backward " + mode, c -> c.op().equals("backward") && mode.equals(c.mode()));
                require(r, "adaptive " + mode + " out > in", c -> c.op().equals("adaptive") && mode.equals(c.mode())
                        && outLargerThanIn(c));
            }
            for (String mode : List.of("max", "avg", "lp")) {
                require(r, "global " + mode, c -> c.op().equals("global") && mode.equals(c.mode()));
            }
            require(r, "unpool with an output size", c -> c.op().equals("unpool") && c.outputSize() != null);
            require(r, "unpool with duplicate targets", c -> c.op().equals("unpool") && hasDuplicateTargets(c));
        }
        Set<String> ops = new HashSet<>();
        REF.cases().forEach(c -> ops.add(c.op()));
        assertEquals(new HashSet<>(NdReference.OPS), ops, "operations in the manifest");
    }

    @Test
    void inputs_holdNanInfinitiesSignedZerosAndTies() {
        for (int rank = 1; rank <= 3; rank++) {
            boolean nan = false, posInf = false, negInf = false, negZero = false, zero = false, tie = false;
            for (NdReference.Case c : REF.cases()) {
                if (c.rank() != rank || !c.inputs().containsKey("x")) {
                    continue;
                }
                Set<Double> seen = new HashSet<>();
                for (double v : REF.array(c, "x", Layout.CHANNELS_LAST).values()) {
                    nan |= Double.isNaN(v);
                    posInf |= v == Double.POSITIVE_INFINITY;
                    negInf |= v == Double.NEGATIVE_INFINITY;
                    negZero |= Double.doubleToRawLongBits(v) == Long.MIN_VALUE;
                    zero |= Double.doubleToRawLongBits(v) == 0;
                    tie |= Double.isFinite(v) && !seen.add(v);
                }
            }
            assertTrue(nan && posInf && negInf && negZero && zero && tie, "rank " + rank + " inputs: NaN " + nan
                    + ", +inf " + posInf + ", -inf " + negInf + ", -0.0 " + negZero + ", 0.0 " + zero + ", ties " + tie);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void everyArray_holdsTheSameDataInBothLayouts_withItsDtype(NdReference.Case c) {
        for (String name : allArrays(c)) {
            NpyArray cl = REF.array(c, name, Layout.CHANNELS_LAST);
            NpyArray cf = REF.array(c, name, Layout.CHANNELS_FIRST);
            String want = name.equals("indices") ? "<i8" : c.inputs().containsKey(name) ? "<f4" : "<f8";
            assertEquals(want, cl.descr(), c + " " + name + " dtype");
            assertEquals(want, cf.descr(), c + " " + name + " dtype");
            assertEquals(c.rank() + 2, cf.dims().length, c + " " + name + " rank");
            int[] moved = new int[cf.dims().length];
            moved[0] = cf.dims()[0];
            System.arraycopy(cf.dims(), 2, moved, 1, c.rank());
            moved[moved.length - 1] = cf.dims()[1];
            assertArrayEquals(moved, cl.dims(), c + " " + name + ": channels-last dims");
            forEachElement(cf.dims(), (i, n, ch, s) -> {
                int j = cl.offset(true, n, ch, s);
                boolean same = cf.longs() != null ? cf.longs()[i] == cl.longs()[j]
                        : Double.doubleToRawLongBits(cf.values()[i]) == Double.doubleToRawLongBits(cl.values()[j]);
                if (!same) {
                    fail(c + " " + name + ": element " + i + " (channels-first) differs from " + j + " (channels-last)");
                }
            });
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void outputShapes_followTheLibrarysGeometry(NdReference.Case c) {
        int[] in = spatial(REF.array(c, c.op().equals("unpool") ? "values" : "x", Layout.CHANNELS_FIRST).dims());
        String output = switch (c.op()) {
            case "backward" -> "grad_output";
            case "unpool" -> "x";
            default -> "y";
        };
        int[] want = new int[c.rank()];
        for (int a = 0; a < c.rank(); a++) {
            want[a] = switch (c.op()) {
                case "global" -> 1;
                case "adaptive" -> c.outputSize()[a];
                case "unpool" -> c.outputSize() != null ? c.outputSize()[a]
                        : (in[a] - 1) * c.stride()[a] + c.window()[a] - c.padBegin()[a] - c.padEnd()[a];
                default -> pooledSize(c, a, in[a]);
            };
        }
        assertArrayEquals(want, spatial(REF.array(c, output, Layout.CHANNELS_FIRST).dims()), c + ": " + output);
        if (c.op().equals("backward")) {
            assertArrayEquals(in, spatial(REF.array(c, "grad_input", Layout.CHANNELS_FIRST).dims()), c + ": grad_input");
        }
    }

    /** Each convention's index decodes to one element of the input, which holds the pooled value. */
    @Test
    void indicesOfTheFourConventions_nameTheElementThatHoldsTheValue() {
        Map<String, List<int[]>> decoded = new HashMap<>();
        int checked = 0;
        for (NdReference.Case c : REF.cases()) {
            if (!c.op().equals("pool_with_indices")) {
                continue;
            }
            NpyArray x = REF.array(c, "x", Layout.CHANNELS_FIRST);
            NpyArray y = REF.array(c, "y", Layout.CHANNELS_FIRST);
            NpyArray idx = REF.array(c, "indices", Layout.CHANNELS_FIRST);
            int[] s = spatial(x.dims());
            List<int[]> elements = new ArrayList<>();
            forEachElement(y.dims(), (i, n, ch, o) -> {
                int[] e = decode(c.indexConvention(), idx.longs()[i], n, ch, x.dims()[1], s);
                assertEquals(n, e[0], c + ": batch of index " + i);
                assertEquals(ch, e[1], c + ": channel of index " + i);
                double v = x.values()[x.offset(false, e[0], e[1], Arrays.copyOfRange(e, 2, e.length))];
                if (Double.doubleToRawLongBits(y.values()[i]) != Double.doubleToRawLongBits(v)
                        && !(Double.isNaN(v) && Double.isNaN(y.values()[i]))) {
                    fail(c + ": element " + i + " is " + y.values()[i] + " but its index names " + v);
                }
                elements.add(e);
            });
            String spec = c.name().substring(0, c.name().lastIndexOf("_indices_"));
            List<int[]> other = decoded.putIfAbsent(spec, elements);
            if (other != null) {
                for (int i = 0; i < other.size(); i++) {
                    assertArrayEquals(other.get(i), elements.get(i), c + ": conventions disagree at " + i);
                }
            }
            checked++;
        }
        assertEquals(36, checked, "pool_with_indices cases");
    }

    @Test
    void npyReader_readsWhatNumpyWrites_andRefusesTheRest() {
        byte[] ok = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 3), }", 24);
        NpyArray a = NpyArray.parse("ok.npy", ok);
        assertArrayEquals(new int[] {2, 1, 3}, a.dims());
        assertEquals(1.5, a.values()[5]);
        assertThrows(IllegalArgumentException.class, () -> NpyArray.parse("f.npy",
                npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 1, 3), }", 24)));
        assertThrows(IllegalArgumentException.class, () -> NpyArray.parse("h.npy",
                npy("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 1, 3), }", 12)));
        assertThrows(IllegalArgumentException.class, () -> NpyArray.parse("t.npy",
                npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 3), }", 20)));
        assertThrows(IllegalArgumentException.class, () -> NpyArray.parse("m.npy", new byte[16]));
    }

    private static byte[] npy(String dict, int dataBytes) {
        byte[] text = (dict + "\n").getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(10 + text.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) text.length).put(text);
        for (int i = 0; i < dataBytes / 4; i++) {
            b.putFloat(i * 0.3f);
        }
        return b.array();
    }

    private static void require(int rank, String what, Predicate<NdReference.Case> p) {
        assertTrue(REF.cases().stream().anyMatch(c -> c.rank() == rank && p.test(c)), "no " + rank + "-D case: " + what);
    }

    private static boolean outLargerThanIn(NdReference.Case c) {
        int[] in = spatial(REF.array(c, "x", Layout.CHANNELS_FIRST).dims());
        for (int a = 0; a < in.length; a++) {
            if (c.outputSize()[a] > in[a]) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasDuplicateTargets(NdReference.Case c) {
        NpyArray idx = REF.array(c, "indices", Layout.CHANNELS_LAST);
        NpyArray values = REF.array(c, "values", Layout.CHANNELS_LAST);
        int perItem = idx.size() / idx.dims()[0];
        Map<Long, Double> first = new HashMap<>();
        for (int i = 0; i < idx.size(); i++) {
                int channels = idx.dims()[idx.dims().length - 1];
            long owner = c.indexConvention().startsWith("onnx") ? 0
                    : c.indexConvention().equals("nhwc") ? i / perItem : (long) (i / perItem) * channels + i % channels;
            long key = owner << 40 | idx.longs()[i];
            Double v = first.putIfAbsent(key, values.values()[i]);
            if (v != null && v != values.values()[i]) {
                return true;
            }
        }
        return false;
    }

    /** SEMANTICS.md's output size of axis {@code a}, through the library's own rules. */
    private static int pooledSize(NdReference.Case c, int a, int in) {
        int e = (c.window()[a] - 1) * (c.dilation() == null ? 1 : c.dilation()[a]) + 1;
        int s = c.stride() == null ? c.window()[a] : c.stride()[a];
        if ("same".equals(c.padding()) || "same-lower".equals(c.padding())) {
            return (int) Axis.sameOut(in, s);
        }
        int begin = c.padBegin() == null ? 0 : c.padBegin()[a];
        int end = c.padEnd() == null ? 0 : c.padEnd()[a];
        return (int) Axis.explicitOut(in, e, s, begin, end, c.ceilMode());
    }

    /** (n, c, spatial...) of the element an index names, per SEMANTICS.md "Indices". */
    static int[] decode(String convention, long index, int n, int c, int channels, int[] s) {
        long plane = 1;
        for (int v : s) {
            plane *= v;
        }
        long within;
        int batch = n;
        int channel = c;
        switch (convention) {
            case "nhwc" -> {
                channel = (int) (index % channels);
                within = index / channels;
            }
            case "pytorch" -> within = index;
            default -> {
                batch = (int) (index / plane / channels);
                channel = (int) (index / plane % channels);
                within = index % plane;
            }
        }
        int[] out = new int[s.length + 2];
        out[0] = batch;
        out[1] = channel;
        boolean reversed = convention.equals("onnx-column-major");
        for (int k = 0; k < s.length; k++) {
            int a = reversed ? k : s.length - 1 - k; // column-major: the outermost axis varies fastest
            out[2 + a] = (int) (within % s[a]);
            within /= s[a];
        }
        return out;
    }

    private static List<String> allArrays(NdReference.Case c) {
        List<String> out = new ArrayList<>(c.inputs().keySet());
        out.addAll(c.outputs().keySet());
        return out;
    }

    private static int[] spatial(int[] channelsFirstDims) {
        return Arrays.copyOfRange(channelsFirstDims, 2, channelsFirstDims.length);
    }

    interface ElementVisitor {
        void visit(int index, int n, int c, int[] spatial);
    }

    /** Visits every element of a channels-first array in storage order. */
    static void forEachElement(int[] cfDims, ElementVisitor v) {
        int[] s = spatial(cfDims);
        int plane = Arrays.stream(s).reduce(1, (p, q) -> p * q);
        int i = 0;
        for (int n = 0; n < cfDims[0]; n++) {
            for (int c = 0; c < cfDims[1]; c++) {
                for (int q = 0; q < plane; q++, i++) {
                    int[] pos = new int[s.length];
                    for (int a = s.length - 1, rest = q; a >= 0; a--) {
                        pos[a] = rest % s[a];
                        rest /= s[a];
                    }
                    v.visit(i, n, c, pos);
                }
            }
        }
    }
}
