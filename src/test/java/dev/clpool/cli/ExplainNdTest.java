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

/** {@code clpool explain} for 1-D and 3-D requests and channels-first shapes, text and JSON. */
class ExplainNdTest extends ExplainTestBase {
    @Test
    void oneD_channelsLast_explainsTheWidthAxis_andEveryFrameworksCall() {
        String t = explain("--input-shape", "2,10,3", "--mode", "max", "--window", "3", "--stride", "2", "--pad", "1");
        assertContains(t, " on input 2,10,3 (N,W,C)\n");
        assertContains(t, "output shape  2,5,3 (N,W,C)\n");
        assertContains(t, "padding       width 1 before, 1 after (explicit)\n");
        assertContains(t, "width: in 10, window 3, stride 2, dilation 1 (effective window 3)\n");
        assertFalse(t.contains("height:"), "a 1-D request has no height axis:\n" + t);
        assertContains(t, "windows       (0) covers 2 input elements, (4) covers 3\n");
        assertContains(t, "frameworks (x is NCW for PyTorch and ONNX: x.permute(0, 2, 1); NWC for TensorFlow):");
        assertVerdict(t, "PyTorch", "same");
        assertContains(t, "torch.nn.functional.max_pool1d(x, kernel_size=(3,), stride=(2,), padding=(1,))");
        // TensorFlow's SAME would pad 0 before and 1 after; max_pool1d takes explicit padding.
        assertVerdict(t, "TensorFlow", "same");
        assertContains(t, "tf.nn.max_pool1d(x, ksize=(3,), strides=(2,), padding=[[0, 0], [1, 1], [0, 0]])");
        assertVerdict(t, "ONNX", "same");
        assertContains(t, "MaxPool(kernel_shape=[3], strides=[2], pads=[1, 1])");
    }

    @Test
    void threeD_channelsFirst_avg_dividesPerAxis_andTensorFlowRefusesExplicitPadding() {
        String t = explain("--input-shape", "1,4,5,6,6", "--layout", "channels-first", "--mode", "avg",
                "--window", "2,3,3", "--stride", "1,2,2", "--pad", "0,1,1");
        assertContains(t, " on input 1,4,5,6,6 (N,C,D,H,W)\n");
        assertContains(t, "output shape  1,4,4,3,3 (N,C,D,H,W)\n");
        assertContains(t, "padding       depth 0 before, 0 after; height 1 before, 1 after; width 1 before, 1 after"
                + " (explicit)\n");
        assertContains(t, "depth: in 5, window 2, stride 1, dilation 1 (effective window 2)\n");
        assertContains(t, "  first window (0,0,0): 2 x 2 x 2 = 8\n");
        assertContains(t, "  last window  (3,2,2): 2 x 3 x 3 = 18\n");
        assertContains(t, "frameworks (x is NCDHW for PyTorch and ONNX, as given; NDHWC for TensorFlow:"
                + " tf.transpose(x, [0, 2, 3, 4, 1])):");
        assertVerdict(t, "PyTorch", "same");
        assertContains(t, "torch.nn.functional.avg_pool3d(x, kernel_size=(2, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1),"
                + " count_include_pad=False)");
        assertVerdict(t, "TensorFlow", "refused");
        assertContains(t, "tf.nn.avg_pool3d accepts only 'SAME' or 'VALID' padding; depth 0 before, 0 after");
        assertVerdict(t, "ONNX", "same");
        assertContains(t, "AveragePool(kernel_shape=[2, 3, 3], strides=[1, 2, 2], pads=[0, 1, 1, 0, 1, 1],"
                + " count_include_pad=0)");
    }

    @Test
    void threeD_max_tensorFlowHasNoExplicitPadding_butSameWorks() {
        String explicit = explain("--input-shape", "1,4,4,4,1", "--mode", "max", "--window", "3", "--stride", "2",
                "--pad", "1");
        assertVerdict(explicit, "PyTorch", "same");
        assertContains(explicit, "torch.nn.functional.max_pool3d(x, kernel_size=(3, 3, 3), stride=(2, 2, 2),"
                + " padding=(1, 1, 1))");
        assertVerdict(explicit, "TensorFlow", "refused");
        assertContains(explicit, "tf.nn.max_pool3d accepts only 'SAME' or 'VALID' padding");
        out.getBuffer().setLength(0);
        String same = explain("--input-shape", "1,4,4,4,1", "--mode", "max", "--window", "3", "--stride", "2",
                "--pad", "same");
        assertVerdict(same, "TensorFlow", "same");
        assertContains(same, "tf.nn.max_pool3d(x, ksize=(3, 3, 3), strides=(2, 2, 2), padding='SAME')");
        assertVerdict(same, "ONNX", "same");
        assertContains(same, "auto_pad='SAME_UPPER'");
        assertContains(same, "pads=[0, 0, 0, 1, 1, 1] is the same request");
        // PyTorch pads both ends equally: 0 before and 1 after cannot be expressed.
        assertVerdict(same, "PyTorch", "refused");
    }

    @Test
    void oneD_lp_dilated_pytorchHasNoDilation() {
        String t = explain("--input-shape", "1,1,9", "--layout", "channels-first", "--mode", "lp", "--window", "3",
                "--dilation", "2", "--stride", "1");
        assertContains(t, "output shape  1,1,5 (N,C,W)\n");
        assertVerdict(t, "PyTorch", "refused");
        assertContains(t, "torch.nn.functional.lp_pool1d has no dilation argument");
        assertVerdict(t, "TensorFlow", "refused");
        assertVerdict(t, "ONNX", "same");
        assertContains(t, "LpPool(kernel_shape=[3], strides=[1], dilations=[2], p=2)");
    }

    // ------------------------------------------------------------------ JSON

    @Test
    void json_threeD_channelsFirst_hasPerAxisArrays_andDocumentedFields() throws IOException {
        assertEquals(0, run("--input-shape", "2,3,4,6,8", "--layout", "channels-first", "--mode", "max",
                "--window", "2", "--pad", "0,1,0,1,0,1", "--json"), err.toString());
        JsonObject o = JsonParser.parseString(out.toString()).getAsJsonObject();
        assertEquals(1, o.get("format").getAsInt());
        assertEquals("channels-first", o.get("layout").getAsString());
        assertEquals(3, o.get("spatial_rank").getAsInt());
        assertEquals("[2,3,4,6,8]", o.get("input_shape").toString());
        assertEquals("[2,3,2,3,4]", o.get("output_shape").toString());
        JsonObject req = o.getAsJsonObject("request");
        assertEquals("[2,2,2]", req.get("window").toString());
        assertEquals("[2,2,2]", req.get("stride").toString());
        assertEquals("[1,1,1]", req.get("dilation").toString());
        JsonObject pad = o.getAsJsonObject("padding");
        assertTrue(pad.get("top").isJsonNull(), "top is 2-D only");
        assertEquals("[0,0,0]", pad.get("begin").toString());
        assertEquals("[1,1,1]", pad.get("end").toString());
        JsonArray axes = o.getAsJsonArray("axes");
        assertEquals(3, axes.size());
        assertEquals("depth", axes.get(0).getAsJsonObject().get("axis").getAsString());
        assertEquals("width", axes.get(2).getAsJsonObject().get("axis").getAsString());
        assertEquals(3, o.getAsJsonArray("frameworks").size());
        assertDocumented(o);
    }

    @Test
    void json_twoD_keepsTheSidesAndAddsBeginEnd() {
        assertEquals(0, run("--input-shape", "1,5,5,1", "--mode", "max", "--window", "3", "--pad", "1,2,0,1",
                "--json"), err.toString());
        JsonObject o = JsonParser.parseString(out.toString()).getAsJsonObject();
        assertEquals("channels-last", o.get("layout").getAsString());
        assertEquals(2, o.get("spatial_rank").getAsInt());
        JsonObject pad = o.getAsJsonObject("padding");
        assertEquals(1, pad.get("top").getAsInt());
        assertEquals(2, pad.get("bottom").getAsInt());
        assertEquals(0, pad.get("left").getAsInt());
        assertEquals(1, pad.get("right").getAsInt());
        assertEquals("[1,0]", pad.get("begin").toString());
        assertEquals("[2,1]", pad.get("end").toString());
    }
}
