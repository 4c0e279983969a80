/**
 * What a pooling request means, without running it: the output shape, the padding actually applied
 * and where it came from, the first and last window on each axis, the divisor of an average, and
 * how PyTorch, TensorFlow and ONNX would treat the same request ({@link dev.clpool.explain.FrameworkRules}).
 *
 * <p>Pure computation on top of {@link dev.clpool.PoolSpec#geometry(dev.clpool.Shape)}; the
 * {@code clpool explain} command prints it.
 */
package dev.clpool.explain;
