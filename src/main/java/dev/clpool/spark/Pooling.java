package dev.clpool.spark;

import java.util.Arrays;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * Pooling as a Spark ML stage: pools the tensor in {@code inputCol} of every row and writes the
 * result to {@code outputCol}, a struct of {@code shape} (array&lt;int&gt;) and {@code data}
 * (array&lt;float&gt;).
 *
 * <pre>{@code
 * Dataset<Row> images = spark.read().format("image").load("photos/");
 * Pooling pool = new Pooling().setMode("avg").setWindow("2").setInputCol("image").setOutputCol("small");
 * Dataset<Row> small = pool.transform(images);
 * }</pre>
 *
 * <p>The input is Spark's image source schema (bytes become float32 0–255, in the image's channel
 * order) or a tensor struct ({@code shape}, {@code data} as array of float or little-endian float32
 * binary); see docs/spark.md. The params mirror the {@code pool} command's flags and take the same
 * text: {@code window} {@code "3"} or {@code "3,2"}, {@code padding} {@code "1"}, {@code "same"},
 * {@code "0,1,0,1"} and so on. Besides the windowed modes {@code max}, {@code avg} and {@code lp},
 * {@code global_max} and {@code global_avg} pool each plane to one value, and {@code adaptive_max}
 * and {@code adaptive_avg} to {@code outputSize}.
 *
 * <p>A row the spec cannot pool (too small for the window, wrong rank, data not matching its shape,
 * null) fails the job under {@code handleInvalid=error} (the default), is dropped under
 * {@code skip}, and kept with a null output under {@code keep}. Rows run on one engine per executor
 * JVM, on the GPU Spark assigned to the task ({@link GpuDevices}), with rows of equal shape batched
 * ({@link PartitionPooler}).
 */
public final class Pooling extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final Param<String> mode;
    private final Param<String> window;
    private final Param<String> stride;
    private final Param<String> padding;
    private final Param<String> dilation;
    private final BooleanParam ceilMode;
    private final BooleanParam countIncludePad;
    private final DoubleParam p;
    private final Param<String> outputSize;
    private final Param<String> layout;
    private final Param<String> handleInvalid;
    private final Param<String> backend;
    private final IntParam batchSize;

    public Pooling() {
        this(Identifiable.randomUID("pooling"));
    }

    /** With the given uid (Spark ML's persistence restores stages through this constructor). */
    public Pooling(String uid) {
        this.uid = uid;
        String[] modes = concat(StageConfig.WINDOWED, StageConfig.GLOBAL, StageConfig.ADAPTIVE);
        inputCol = new Param<>(this, "inputCol", "the column to pool: an image (spark.read.format(\"image\")) or a"
                + " tensor struct (shape, data)");
        outputCol = new Param<>(this, "outputCol", "the column to write: struct of shape array<int>, data array<float>");
        mode = new Param<>(this, "mode", "what each window computes: " + String.join(", ", modes),
                ParamValidators.inArray(modes));
        window = new Param<>(this, "window", "window size KH[,KW]; one number means both axes (windowed modes)");
        stride = new Param<>(this, "stride", "stride SH[,SW] (default: the window)");
        padding = new Param<>(this, "padding", "padding P, PH,PW, T,B,L,R, same, same-lower or valid");
        dilation = new Param<>(this, "dilation", "dilation DH[,DW] (default: 1)");
        ceilMode = new BooleanParam(this, "ceilMode", "round the output size up (PyTorch's rule for the last window)");
        countIncludePad = new BooleanParam(this, "countIncludePad",
                "avg: divide by the window's extent including padding");
        p = new DoubleParam(this, "p", "lp: the exponent, > 0", ParamValidators.gt(0));
        outputSize = new Param<>(this, "outputSize", "adaptive modes: output size OH[,OW]");
        layout = new Param<>(this, "layout", "tensor columns: channels_last (N,H,W,C) or channels_first (N,C,H,W)",
                ParamValidators.inArray(new String[] {"channels_last", "channels_first"}));
        handleInvalid = new Param<>(this, "handleInvalid", "a row the spec cannot pool: error (fail), skip (drop"
                + " the row) or keep (keep it, with a null output)",
                ParamValidators.inArray(new String[] {"error", "skip", "keep"}));
        backend = new Param<>(this, "backend", "where executors pool: auto (the task's GPU or the best OpenCL"
                + " device, else the CPU), cpu, or opencl (never falls back)",
                ParamValidators.inArray(new String[] {"auto", "cpu", "opencl"}));
        batchSize = new IntParam(this, "batchSize", "rows read per batch; rows of equal shape among them are"
                + " pooled in one engine call", ParamValidators.gtEq(1));
        setDefault(inputCol, "image");
        setDefault(outputCol, "pooled");
        setDefault(mode, "max");
        setDefault(padding, "valid");
        setDefault(ceilMode, false);
        setDefault(countIncludePad, false);
        setDefault(p, 2.0);
        setDefault(layout, "channels_last");
        setDefault(handleInvalid, "error");
        setDefault(backend, "auto");
        setDefault(batchSize, 256);
    }

    /** Spark ML's reader for saved stages: {@code Pooling.load(path)}, and what a saved {@code Pipeline} calls. */
    public static MLReader<Pooling> read() {
        return new DefaultParamsReader<>();
    }

    public static Pooling load(String path) {
        return read().load(path);
    }

    @Override
    public String uid() {
        return uid;
    }

    // ---- params, as Spark ML finds them (public methods returning Param) ----

    public Param<String> inputCol() {
        return inputCol;
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public Param<String> mode() {
        return mode;
    }

    public Param<String> window() {
        return window;
    }

    public Param<String> stride() {
        return stride;
    }

    public Param<String> padding() {
        return padding;
    }

    public Param<String> dilation() {
        return dilation;
    }

    public BooleanParam ceilMode() {
        return ceilMode;
    }

    public BooleanParam countIncludePad() {
        return countIncludePad;
    }

    public DoubleParam p() {
        return p;
    }

    public Param<String> outputSize() {
        return outputSize;
    }

    public Param<String> layout() {
        return layout;
    }

    public Param<String> handleInvalid() {
        return handleInvalid;
    }

    public Param<String> backend() {
        return backend;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    // ---- setters (return this) and getters ----

    public Pooling setInputCol(String value) {
        return with(inputCol, value);
    }

    public Pooling setOutputCol(String value) {
        return with(outputCol, value);
    }

    public Pooling setMode(String value) {
        return with(mode, value);
    }

    public Pooling setWindow(String value) {
        return with(window, value);
    }

    public Pooling setStride(String value) {
        return with(stride, value);
    }

    public Pooling setPadding(String value) {
        return with(padding, value);
    }

    public Pooling setDilation(String value) {
        return with(dilation, value);
    }

    public Pooling setCeilMode(boolean value) {
        return with(ceilMode, value);
    }

    public Pooling setCountIncludePad(boolean value) {
        return with(countIncludePad, value);
    }

    public Pooling setP(double value) {
        return with(p, value);
    }

    public Pooling setOutputSize(String value) {
        return with(outputSize, value);
    }

    public Pooling setLayout(String value) {
        return with(layout, value);
    }

    public Pooling setHandleInvalid(String value) {
        return with(handleInvalid, value);
    }

    public Pooling setBackend(String value) {
        return with(backend, value);
    }

    public Pooling setBatchSize(int value) {
        return with(batchSize, value);
    }

    public String getInputCol() {
        return $(inputCol);
    }

    public String getOutputCol() {
        return $(outputCol);
    }

    public String getMode() {
        return $(mode);
    }

    public String getHandleInvalid() {
        return $(handleInvalid);
    }

    public String getLayout() {
        return $(layout);
    }

    public int getBatchSize() {
        return (Integer) $(batchSize);
    }

    private <T> Pooling with(Param<T> param, T value) {
        set(param, value);
        return this;
    }

    // ---- the stage ----

    /**
     * The input schema plus {@code outputCol}; checks the params and the input column first.
     *
     * @throws IllegalArgumentException naming the param or column at fault
     */
    @Override
    public StructType transformSchema(StructType schema) {
        StageConfig config = config();
        config.operation();
        String in = getInputCol();
        if (!Arrays.asList(schema.fieldNames()).contains(in)) {
            throw new IllegalArgumentException("inputCol " + in + ": no such column (the input has "
                    + String.join(", ", schema.fieldNames()) + ")");
        }
        TensorColumns.Form form = TensorColumns.form(in, schema.apply(in).dataType());
        if (form == TensorColumns.Form.IMAGE && config.channelsFirst()) {
            throw new IllegalArgumentException("layout channels_first: image rows are height × width × channels;"
                    + " the layout applies to tensor columns");
        }
        String out = getOutputCol();
        if (Arrays.asList(schema.fieldNames()).contains(out)) {
            throw new IllegalArgumentException("outputCol " + out + ": the input already has such a column");
        }
        return schema.add(out, TensorColumns.OUTPUT, true);
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        Dataset<Row> df = dataset.toDF();
        String in = getInputCol();
        TensorColumns.Form form = TensorColumns.form(in, df.schema().apply(in).dataType());
        PartitionPooler pooler = new PartitionPooler(config(), df.schema().fieldIndex(in), form);
        return df.mapPartitions(pooler, Encoders.row(out));
    }

    @Override
    public Pooling copy(ParamMap extra) {
        return (Pooling) defaultCopy(extra);
    }

    /** The param values the executors need. */
    StageConfig config() {
        return new StageConfig($(mode), optional(window), optional(stride), isSet(padding) ? $(padding) : null,
                optional(dilation), (Boolean) $(ceilMode), (Boolean) $(countIncludePad),
                isSet(p) ? (Double) $(p) : null, optional(outputSize), $(layout).equals("channels_first"),
                $(handleInvalid), StageConfig.backend($(backend)), getBatchSize());
    }

    private String optional(Param<String> param) {
        return isDefined(param) ? $(param) : null;
    }

    private static String[] concat(String[]... parts) {
        return Arrays.stream(parts).flatMap(Arrays::stream).toArray(String[]::new);
    }
}
