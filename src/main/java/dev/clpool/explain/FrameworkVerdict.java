package dev.clpool.explain;

import java.util.List;

/**
 * One framework's treatment of a request.
 *
 * @param framework which framework
 * @param verdict   same, different, refused or check
 * @param call      the equivalent call in the framework's Python API, or {@code null} when the request is
 *                  refused; its input {@code x} is NCHW for PyTorch and ONNX, NHWC (as in clpool) for TensorFlow
 * @param reasons   why the result differs, is refused or needs checking (empty when the same)
 * @param notes     data-dependent caveats (NaN, negative inputs, rounding) and hints
 */
public record FrameworkVerdict(Framework framework, Verdict verdict, String call, List<String> reasons,
        List<String> notes) {

    public FrameworkVerdict {
        reasons = List.copyOf(reasons);
        notes = List.copyOf(notes);
    }
}
