package dev.clpool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.explain.Explanation;
import dev.clpool.explain.Framework;
import dev.clpool.explain.FrameworkVerdict;
import dev.clpool.explain.Verdict;
import dev.clpool.testing.OnnxCases;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code clpool explain} in-process: literal explanations, framework verdicts, JSON fields, exit codes. */
class ExplainCommandTest extends ExplainTestBase {
    @Test
    void max3x3_stride2_pad1_on112_gives56_andPyTorchSame() {
        String t = explain("--input-shape", "1,112,112,64", "--mode", "max", "--window", "3", "--stride", "2",
                "--pad", "1");
        assertContains(t, "request       max k=3x3 s=2x2 pad=1,1,1,1 on input 1,112,112,64 (N,H,W,C)\n");
        assertContains(t, "output shape  1,56,56,64 (N,H,W,C)\n");
        assertContains(t, "padding       top 1, bottom 1, left 1, right 1 (explicit)\n");
        assertContains(t, "  padding       explicit: 1 before, 1 after\n");
        assertContains(t, "  output        floor((in + before + after - effective window) / stride) + 1"
                + " = floor((112 + 1 + 1 - 3) / 2) + 1 = 56\n");
        assertContains(t, "  first window  out 0: input positions -1..1, 2 input elements, 1 tap in padding\n");
        assertContains(t, "  last window   out 55: input positions 109..111, 3 input elements, 0 taps in padding\n");
        assertContains(t, "windows       (0,0) covers 2 x 2 = 4 input elements, (55,55) covers 3 x 3 = 9\n");
        assertContains(t, "max: each output is the largest input element of its window; padding never wins");
        assertVerdict(t, "PyTorch", "same result");
        assertContains(block(t, "PyTorch"),
                "torch.nn.functional.max_pool2d(x, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))");
        assertVerdict(t, "TensorFlow", "same result");
        assertContains(block(t, "TensorFlow"),
                "tf.nn.max_pool2d(x, ksize=(3, 3), strides=(2, 2), padding=[[0, 0], [1, 1], [1, 1], [0, 0]])");
        assertVerdict(t, "ONNX", "same result");
        assertContains(block(t, "ONNX"), "MaxPool(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])");
    }

    @Test
    void avg3x3_same_withoutIncludePad_matchesTensorFlowSame() {
        String t = explain("--input-shape", "1,5,5,1", "--mode", "avg", "--window", "3", "--stride", "1",
                "--pad", "same");
        assertContains(t, "padding       top 1, bottom 1, left 1, right 1 (same)\n");
        assertContains(t, "  padding       same: total = max((5 - 1) * 1 + 3 - 5, 0) = 2; before = floor(2 / 2) = 1,"
                + " after = 2 - 1 = 1\n");
        assertContains(t, "  output        ceil(in / stride) = ceil(5 / 1) = 5\n");
        assertContains(t, "avg divisor (count_include_pad false): the number of input elements in the window");
        assertContains(t, "  first window (0,0): 2 x 2 = 4\n");
        assertContains(t, "  last window  (4,4): 2 x 2 = 4\n");
        assertVerdict(t, "TensorFlow", "same result");
        assertContains(block(t, "TensorFlow"), "tf.nn.avg_pool2d(x, ksize=(3, 3), strides=(1, 1), padding='SAME')");
        assertVerdict(t, "PyTorch", "same result");
        assertContains(block(t, "PyTorch"), "torch.nn.functional.avg_pool2d(x, kernel_size=(3, 3), stride=(1, 1),"
                + " padding=(1, 1), count_include_pad=False)");
        assertVerdict(t, "ONNX", "same result");
        assertContains(block(t, "ONNX"),
                "AveragePool(kernel_shape=[3, 3], strides=[1, 1], auto_pad='SAME_UPPER', count_include_pad=0)");
    }

    @Test
    void avg3x3_same_withIncludePad_differsFromTensorFlow_whichNeverCountsPadding() {
        String t = explain("--input-shape", "1,5,5,1", "--mode", "avg", "--window", "3", "--stride", "1",
                "--pad", "same", "--count-include-pad");
        assertContains(t, "  first window (0,0): 3 x 3 = 9\n");
        assertVerdict(t, "TensorFlow", "different result");
        assertContains(block(t, "TensorFlow"), "TensorFlow's average never counts padding (there is no"
                + " count_include_pad): window (0,0) is divided by 4 in TensorFlow and by 9 in clpool");
        assertVerdict(t, "PyTorch", "same result");
        assertContains(block(t, "PyTorch"), "count_include_pad=True)");
        assertVerdict(t, "ONNX", "same result");
    }

    @Test
    void sameLower_withOddTotal_isRefusedByPyTorch_butOnnxSameLowerMatches() {
        String t = explain("--input-shape", "1,5,5,1", "--mode", "max", "--window", "2", "--stride", "1",
                "--pad", "same-lower");
        assertContains(t, "padding       top 1, bottom 0, left 1, right 0 (same-lower)\n");
        assertContains(t, "  padding       same-lower: total = max((5 - 1) * 1 + 2 - 5, 0) = 1; after = floor(1 / 2) = 0,"
                + " before = 1 - 0 = 1\n");
        assertVerdict(t, "PyTorch", "refused");
        assertContains(block(t, "PyTorch"), "- PyTorch pads both ends of an axis equally; the height here has 1 before"
                + " and 0 after (PyTorch has no same-lower rule)");
        assertFalse(block(t, "PyTorch").contains("torch.nn.functional"), "a refused request shows no call");
        assertVerdict(t, "ONNX", "same result");
        assertContains(block(t, "ONNX"), "MaxPool(kernel_shape=[2, 2], strides=[1, 1], auto_pad='SAME_LOWER')");
        assertContains(block(t, "ONNX"), "pads=[1, 1, 0, 0] is the same request");
        assertVerdict(t, "TensorFlow", "same result"); // explicit padding list of tf.nn.max_pool2d
        assertContains(block(t, "TensorFlow"), "padding=[[0, 0], [1, 0], [1, 0], [0, 0]])");
    }

    @Test
    void ceilMode_thatAddsAWindow_isRefusedByTensorFlow() {
        String t = explain("--input-shape", "1,5,5,1", "--mode", "max", "--window", "2", "--stride", "2",
                "--ceil-mode");
        assertContains(t, "  output        ceil((in + before + after - effective window) / stride) + 1"
                + " = ceil((5 + 0 + 0 - 2) / 2) + 1 = 3; the last window starts at input position 4 < 5, so it stays\n");
        assertContains(t, "  last window   out 2: input positions 4..5, 1 input element, 0 taps in padding,"
                + " 1 tap past the end padding (ceil mode)\n");
        assertVerdict(t, "TensorFlow", "refused");
        assertContains(block(t, "TensorFlow"),
                "- TensorFlow has no ceil mode: its height output would be 2 (floor), clpool's ceil mode gives 3");
        assertVerdict(t, "PyTorch", "same result");
        assertContains(block(t, "PyTorch"), "ceil_mode=True)");
        assertVerdict(t, "ONNX", "same result");
        assertContains(block(t, "ONNX"), "ceil_mode=1)");
    }

    @Test
    void ceilMode_lastWindowStartingInTheEndPadding_isDropped() {
        String t = explain("--input-shape", "1,5,6,1", "--mode", "avg", "--window", "2", "--stride", "2", "--pad", "1",
                "--ceil-mode", "--count-include-pad");
        assertContains(t, "ceil((5 + 1 + 1 - 2) / 2) + 1 = 4; window 3 would start at input position 5 >= 5"
                + " (in the end padding), so it is dropped: 3\n");
        assertContains(t, "output shape  1,3,4,1 (N,H,W,C)\n");
        assertVerdict(t, "PyTorch", "same result");
    }

    @Test
    void pad2_window3_isRefusedByPyTorch_asMoreThanHalfTheKernel() {
        String t = explain("--input-shape", "1,5,5,1", "--mode", "avg", "--window", "3", "--pad", "2");
        assertVerdict(t, "PyTorch", "refused");
        assertContains(block(t, "PyTorch"),
                "- PyTorch requires padding <= kernel_size / 2 (rounded down): the height padding 2 > 3 / 2 = 1");
        assertVerdict(t, "TensorFlow", "refused");
        assertContains(block(t, "TensorFlow"), "tf.nn.avg_pool2d accepts only 'SAME' or 'VALID' padding");
        assertVerdict(t, "ONNX", "same result");
    }

    @Test
    void dilation_showsTapPositions() {
        String t = explain("--input-shape", "1,5,6,1", "--mode", "max", "--window", "2", "--stride", "1",
                "--dilation", "2", "--pad", "1");
        assertContains(t, "height: in 5, window 2, stride 1, dilation 2 (effective window 3)\n");
        assertContains(t, "  first window  out 0: taps at -1, 1 (positions -1..1), 1 input element, 1 tap in padding\n");
        assertContains(t, "  last window   out 4: taps at 3, 5 (positions 3..5), 1 input element, 1 tap in padding\n");
        assertVerdict(t, "PyTorch", "same result");
        assertContains(block(t, "PyTorch"), "dilation=(2, 2))");
        assertVerdict(t, "ONNX", "same result");
        assertContains(block(t, "ONNX"), "dilations=[2, 2])");
    }

    @Test
    void lp_ceilMode_partialWindow_differsInPyTorch_andTensorFlowHasNoLp() {
        String t = explain("--input-shape", "1,5,6,1", "--mode", "lp", "--p", "2", "--window", "2", "--stride", "2",
                "--ceil-mode");
        assertContains(t, "lp: (sum of |x|^p)^(1/p) over the window's input elements, p = 2.0; padding contributes 0");
        assertVerdict(t, "PyTorch", "different result");
        assertContains(block(t, "PyTorch"), "window (2,0) covers 2 of 4 elements (ceil mode), so PyTorch scales its"
                + " sum by 4/2");
        assertFalse(block(t, "PyTorch").contains("raises x, not |x|"), "p = 2 is even: no sign caveat");
        assertVerdict(t, "TensorFlow", "refused");
        assertVerdict(t, "ONNX", "same result");
        assertContains(block(t, "ONNX"), "LpPool(kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1, p=2)");
    }

    @Test
    void lp_oddP_differsInPyTorchForNegativeInputs_andFractionalPIsRefusedByOnnx() {
        String odd = explain("--input-shape", "1,4,4,1", "--mode", "lp", "--p", "3", "--window", "2");
        assertVerdict(odd, "PyTorch", "different result");
        assertContains(block(odd, "PyTorch"), "lp_pool2d raises x, not |x|, to the power p");
        assertVerdict(odd, "ONNX", "same result");

        out.getBuffer().setLength(0);
        String frac = explain("--input-shape", "1,4,4,1", "--mode", "lp", "--p", "2.5", "--window", "2");
        assertVerdict(frac, "ONNX", "refused");
        assertContains(block(frac, "ONNX"), "LpPool's p is an integer attribute; p = 2.5 cannot be expressed");
    }

    @Test
    void ceilMode_withSamePadding_isReportedIgnored() {
        String t = explain("--input-shape", "1,5,5,1", "--mode", "max", "--window", "3", "--stride", "2", "--pad",
                "same", "--ceil-mode");
        assertContains(t, "--ceil-mode is ignored with same padding: the output size is ceil(in / stride) by definition");
        assertVerdict(t, "TensorFlow", "same result");
        assertFalse(block(t, "PyTorch").contains("ceil_mode"), "ceil mode does not reach the PyTorch call");
    }

    // ------------------------------------------------------------------ library verdicts, corner cases

    private static FrameworkVerdict verdict(String spec, Shape shape, Framework f) {
        return Explanation.of(PoolSpec.parse(spec), shape).frameworks().get(f.ordinal());
    }

    @Test
    void onnx_includePad_withCeilOverhang_isCheck_notAGuess() {
        FrameworkVerdict v = verdict("avg k=3 s=2 ceil include-pad", Shape.of(1, 6, 6, 1), Framework.ONNX);
        assertEquals(Verdict.CHECK, v.verdict(), v.toString());
        assertTrue(v.reasons().get(0).contains("runs past the end padding"), v.toString());
    }

    @Test
    void onnx_includePad_withDilation_isTheSame_bothCountTaps() {
        // Window (0,0) has taps at -1 and 1 on each axis: 4 taps, a span of 3x3 = 9. SEMANTICS.md,
        // like ONNX, divides by the taps (4).
        FrameworkVerdict v = verdict("avg k=2 s=1 d=2 pad=1 include-pad", Shape.of(1, 5, 5, 1), Framework.ONNX);
        assertEquals(Verdict.SAME, v.verdict(), v.toString());
        assertEquals(4, PoolSpec.parse("avg k=2 s=1 d=2 pad=1 include-pad").geometry(Shape.of(1, 5, 5, 1)).divisor(0, 0));
    }

    @Test
    void tensorflow_dilation_withStride1AndValid_usesTfNnPool() {
        FrameworkVerdict v = verdict("max k=2 s=1 d=2", Shape.of(1, 5, 5, 1), Framework.TENSORFLOW);
        assertEquals(Verdict.SAME, v.verdict(), v.toString());
        assertEquals("tf.nn.pool(x, window_shape=(2, 2), pooling_type='MAX', strides=(1, 1), padding='VALID',"
                + " dilations=(2, 2))", v.call());
        FrameworkVerdict strided = verdict("max k=2 s=2 d=2", Shape.of(1, 5, 5, 1), Framework.TENSORFLOW);
        assertEquals(Verdict.REFUSED, strided.verdict(), strided.toString());
    }

    @Test
    void onnx_sameWithStrideAboveWindow_usesExplicitPads() {
        FrameworkVerdict v = verdict("avg k=1 s=3 pad=same", Shape.of(1, 5, 5, 1), Framework.ONNX);
        assertEquals(Verdict.SAME, v.verdict(), v.toString());
        assertFalse(v.call().contains("auto_pad"), v.call());
    }

    /** clpool passes every official ONNX pooling node test, so the ONNX verdict for each must be "same". */
    static Stream<OnnxCases.Case> onnxCases() {
        return OnnxCases.runnable().filter(c -> c.spec() != null && !c.op().equals("MaxUnpool")
                && c.input().tensorShape().isShape2d());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("onnxCases")
    void onnxConformanceCase_isSameInOnnx(OnnxCases.Case c) {
        Explanation e = Explanation.of(c.spec(), c.input().shape());
        assertEquals(c.expected().shape(), e.output(), "output shape");
        FrameworkVerdict v = e.frameworks().get(Framework.ONNX.ordinal());
        assertEquals(Verdict.SAME, v.verdict(), c.name() + ": " + v);
    }

    // ------------------------------------------------------------------ 1-D and 3-D

    @Test
    void json_parses_andHasTheDocumentedFields() throws IOException {
        assertEquals(0, run("--input-shape", "1,112,112,64", "--mode", "max", "--window", "3", "--stride", "2",
                "--pad", "1", "--json"), err.toString());
        JsonObject o = JsonParser.parseString(out.toString()).getAsJsonObject();
        assertEquals(1, o.get("format").getAsInt());
        assertEquals("[1,56,56,64]", o.get("output_shape").toString());
        assertEquals("[1,112,112,64]", o.get("input_shape").toString());
        JsonObject req = o.getAsJsonObject("request");
        assertEquals("max", req.get("mode").getAsString());
        assertEquals("1,1,1,1", req.get("padding").getAsString());
        assertTrue(req.get("p").isJsonNull());
        JsonObject pad = o.getAsJsonObject("padding");
        assertEquals("explicit", pad.get("rule").getAsString());
        assertEquals(1, pad.get("top").getAsInt());
        JsonArray axes = o.getAsJsonArray("axes");
        assertEquals(2, axes.size());
        JsonObject h = axes.get(0).getAsJsonObject();
        assertEquals("height", h.get("axis").getAsString());
        assertEquals(56, h.get("out").getAsInt());
        JsonObject first = h.getAsJsonObject("first_window");
        assertEquals(-1, first.get("start").getAsInt());
        assertEquals("[-1,0,1]", first.get("taps").toString());
        assertEquals(2, first.get("input_elements").getAsInt());
        assertEquals(1, first.get("taps_in_padding").getAsInt());
        assertEquals(4, o.getAsJsonObject("input_elements").get("first_window").getAsInt());
        assertEquals(9, o.getAsJsonObject("input_elements").get("last_window").getAsInt());
        assertTrue(o.getAsJsonObject("mode").get("divisor").isJsonNull());
        JsonArray fws = o.getAsJsonArray("frameworks");
        assertEquals(3, fws.size());
        JsonObject torch = fws.get(0).getAsJsonObject();
        assertEquals("PyTorch", torch.get("framework").getAsString());
        assertEquals("same", torch.get("verdict").getAsString());
        assertEquals("torch.nn.functional.max_pool2d(x, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))",
                torch.get("call").getAsString());
        assertDocumented(o);
    }

    @Test
    void json_avgAndRefused_haveDivisorAndNullCall() throws IOException {
        assertEquals(0, run("--input-shape", "1,5,5,1", "--mode", "avg", "--window", "3", "--pad", "2", "--json"),
                err.toString());
        JsonObject o = JsonParser.parseString(out.toString()).getAsJsonObject();
        JsonObject div = o.getAsJsonObject("mode").getAsJsonObject("divisor");
        assertEquals("input_elements", div.get("rule").getAsString());
        assertEquals(1, div.get("first_window").getAsLong());
        JsonObject torch = o.getAsJsonArray("frameworks").get(0).getAsJsonObject();
        assertEquals("refused", torch.get("verdict").getAsString());
        assertTrue(torch.get("call").isJsonNull());
        assertFalse(torch.getAsJsonArray("reasons").isEmpty());
        assertDocumented(o);
    }

    // ------------------------------------------------------------------ exit codes

    static Stream<Arguments> badRequests() {
        return Stream.of(
                Arguments.of("window larger than the input (empty output)",
                        new String[] {"--input-shape", "1,4,4,1", "--mode", "max", "--window", "5"}, "output would be empty"),
                Arguments.of("a window that covers no input",
                        new String[] {"--input-shape", "1,1,1,1", "--mode", "max", "--window", "2", "--dilation", "2",
                            "--stride", "1", "--pad", "2"}, "covers no input element"),
                Arguments.of("padding not below the window",
                        new String[] {"--input-shape", "1,4,4,1", "--mode", "max", "--window", "3", "--pad", "3"},
                        "padding 3,3,3,3"),
                Arguments.of("p zero",
                        new String[] {"--input-shape", "1,4,4,1", "--mode", "lp", "--window", "2", "--p", "0"}, "p 0.0"),
                Arguments.of("p negative",
                        new String[] {"--input-shape", "1,4,4,1", "--mode", "lp", "--window", "2", "--p", "-1"}, "p"),
                Arguments.of("two numbers for the shape",
                        new String[] {"--input-shape", "1,4", "--mode", "max", "--window", "2"}, "--input-shape 1,4"),
                Arguments.of("six numbers for the shape",
                        new String[] {"--input-shape", "1,2,2,2,2,1", "--mode", "max", "--window", "2"},
                        "--input-shape 1,2,2,2,2,1"),
                Arguments.of("a word in the shape",
                        new String[] {"--input-shape", "1,a,4,1", "--mode", "max", "--window", "2"}, "N,H,W,C"),
                Arguments.of("a zero in the shape",
                        new String[] {"--input-shape", "1,0,4,1", "--mode", "max", "--window", "2"}, "integers >= 1"),
                Arguments.of("no shape",
                        new String[] {"--mode", "max", "--window", "2"}, "--input-shape"),
                Arguments.of("two windows for a 3-D input",
                        new String[] {"--input-shape", "1,8,8,8,1", "--mode", "max", "--window", "2,2"},
                        "--window 2,2: expected 1 or 3 numbers"),
                Arguments.of("two strides for a 1-D input",
                        new String[] {"--input-shape", "1,8,1", "--mode", "max", "--window", "2", "--stride", "1,1"},
                        "--stride 1,1: expected 1 or 1 numbers"),
                Arguments.of("four pads for a 3-D input",
                        new String[] {"--input-shape", "1,8,8,8,1", "--mode", "max", "--window", "3", "--pad", "1,1,1,1"},
                        "--pad 1,1,1,1: expected 1, 3 or 6 numbers"),
                Arguments.of("three dilations for a 2-D input",
                        new String[] {"--input-shape", "1,8,8,1", "--mode", "max", "--window", "2", "--dilation", "1,1,1"},
                        "--dilation 1,1,1: expected 1 or 2 numbers"),
                Arguments.of("an unknown layout",
                        new String[] {"--input-shape", "1,8,8,1", "--layout", "nchw", "--mode", "max", "--window", "2"},
                        "--layout"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void badRequest_exits2_withOneLine(String why, String[] args, String named) {
        assertEquals(2, run(args), why + ": " + err);
        String e = err.toString().strip();
        assertEquals(1, e.lines().count(), "exactly one line on stderr: " + e);
        assertTrue(e.startsWith("clpool: "), "the CLI's one-line form: " + e);
        assertTrue(e.contains(named), "the error should name '" + named + "': " + e);
        assertEquals("", out.toString(), "nothing on stdout");
    }

    @Test
    void help_exits0() {
        assertEquals(0, run("--help"));
        assertContains(out.toString(), "--input-shape");
    }
}
