package dev.clpool.explain;

/** The frameworks {@link FrameworkRules} compares clpool with. */
public enum Framework {
    /** {@code torch.nn.functional.max_pool2d / avg_pool2d / lp_pool2d}. */
    PYTORCH("PyTorch"),
    /** {@code tf.nn.max_pool2d / avg_pool2d} (and {@code tf.nn.pool} for dilation). */
    TENSORFLOW("TensorFlow"),
    /** {@code MaxPool / AveragePool / LpPool}, opset 22. */
    ONNX("ONNX");

    private final String title;

    Framework(String title) {
        this.title = title;
    }

    /** The framework's usual name, for example {@code PyTorch}. */
    public String title() {
        return title;
    }
}
