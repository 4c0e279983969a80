package dev.clpool.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.clpool.PoolMode;
import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Tensor columns (array of float and binary float32) through the stage, against the engine bit for bit. */
class PoolingTensorTest {
    private static final StructType ARRAY = tensorSchema(DataTypes.createArrayType(DataTypes.FloatType));
    private static final StructType BINARY = tensorSchema(DataTypes.BinaryType);

    @Test
    void floatArrayTensors_mixedShapes_equalTheEngine() {
        Random random = new Random(1);
        List<int[]> shapes = List.of(new int[] {1, 9, 9, 3}, new int[] {2, 9, 9, 3}, new int[] {6, 5, 4},
                new int[] {1, 9, 9, 3}, new int[] {3, 12, 7, 2}, new int[] {1, 6, 5, 4});
        List<float[]> values = new ArrayList<>();
        List<Row> rows = new ArrayList<>();
        for (int[] s : shapes) {
            float[] v = randomValues(random, s);
            values.add(v);
            rows.add(row(rows.size(), s, boxed(v)));
        }
        Dataset<Row> df = LocalSpark.session().createDataFrame(rows, ARRAY).coalesce(1);
        PoolSpec spec = PoolSpec.max(3, 2).stride(2, 1).padding(dev.clpool.Padding.SAME).build();
        List<Row> out = new Pooling().setInputCol("tensor").setWindow("3,2").setStride("2,1").setPadding("same")
                .setBackend("cpu").setBatchSize(3).transform(df).collectAsList();
        assertEquals(shapes.size(), out.size());
        for (int i = 0; i < shapes.size(); i++) {
            assertEquals(i, out.get(i).getInt(0), "rows keep their order");
            Tensor expected = LocalSpark.cpuEngine().pool(nhwc(shapes.get(i), values.get(i), false), spec);
            assertPooled(expected, shapes.get(i).length, false, out.get(i).getStruct(2));
        }
    }

    @Test
    void binaryTensors_channelsFirst_globalAndAdaptive_equalTheEngine() {
        Random random = new Random(2);
        int[][] shapes = {{2, 3, 8, 6}, {4, 7, 5}, {1, 3, 8, 6}};
        List<float[]> values = new ArrayList<>();
        List<Row> rows = new ArrayList<>();
        for (int[] s : shapes) {
            float[] v = randomValues(random, s);
            values.add(v);
            ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(v);
            rows.add(row(rows.size(), s, b.array()));
        }
        Dataset<Row> df = LocalSpark.session().createDataFrame(rows, BINARY).coalesce(1);
        check(df, shapes, values, new Pooling().setMode("avg").setWindow("2").setCountIncludePad(true).setPadding("1"),
                x -> LocalSpark.cpuEngine().pool(x, PoolSpec.avg(2, 2).padding(dev.clpool.Padding.of(1))
                        .countIncludePad(true).build()));
        check(df, shapes, values, new Pooling().setMode("global_max"),
                x -> LocalSpark.cpuEngine().global(PoolMode.MAX, x));
        check(df, shapes, values, new Pooling().setMode("adaptive_avg").setOutputSize("3,2"),
                x -> LocalSpark.cpuEngine().adaptive(PoolMode.AVG, x, 3, 2));
    }

    private static void check(Dataset<Row> df, int[][] shapes, List<float[]> values, Pooling stage,
                              Function<Tensor, Tensor> engine) {
        List<Row> out = stage.setInputCol("tensor").setLayout("channels_first").setBackend("cpu").transform(df)
                .collectAsList();
        for (int i = 0; i < shapes.length; i++) {
            Tensor expected = engine.apply(nhwc(shapes[i], values.get(i), true));
            assertPooled(expected, shapes[i].length, true, out.get(i).getStruct(2));
        }
    }

    @Test
    void handleInvalid_errorSkipKeep_forRowsTheSpecCannotPool() {
        List<Row> rows = List.of(
                row(0, new int[] {1, 4, 4, 1}, boxed(new float[16])),
                row(1, new int[] {1, 2, 2, 1}, boxed(new float[4])),   // too small for a 3x3 window
                row(2, new int[] {4, 4}, boxed(new float[16])),        // rank 2
                row(3, new int[] {1, 4, 4, 1}, boxed(new float[15])),  // data does not match the shape
                row(4, new int[] {4, 4, 1}, boxed(new float[16])));
        Dataset<Row> df = LocalSpark.session().createDataFrame(rows, ARRAY).coalesce(1);
        Pooling stage = new Pooling().setInputCol("tensor").setWindow("3").setBackend("cpu");

        Exception e = assertThrows(Exception.class, () -> stage.setHandleInvalid("error").transform(df).collectAsList());
        assertTrue(rootMessage(e).contains("row 1 of partition 0 cannot be pooled"), rootMessage(e));

        List<Row> skipped = stage.setHandleInvalid("skip").transform(df).collectAsList();
        assertEquals(List.of(0, 4), skipped.stream().map(r -> r.getInt(0)).toList());
        assertArrayEquals(new int[] {1, 1, 1, 1}, LocalSpark.shape(skipped.get(0).getStruct(2)));
        assertArrayEquals(new int[] {1, 1, 1}, LocalSpark.shape(skipped.get(1).getStruct(2)));

        List<Row> kept = stage.setHandleInvalid("keep").transform(df).collectAsList();
        assertEquals(5, kept.size());
        for (int i : new int[] {1, 2, 3}) {
            assertNull(kept.get(i).get(2), "row " + i);
        }
        assertArrayEquals(new int[] {1, 1, 1, 1}, LocalSpark.shape(kept.get(0).getStruct(2)));
    }

    @Test
    void transformSchema_refusesBadColumnsAndParams_beforeAnyWork() {
        StructType schema = ARRAY;
        assertTrue(new Pooling().setInputCol("tensor").setWindow("2").transformSchema(schema).fieldNames()[2]
                .equals("pooled"));
        assertMessage("inputCol image: no such column", () -> new Pooling().setWindow("2").transformSchema(schema));
        assertMessage("inputCol id: type int is neither", () -> new Pooling().setInputCol("id").setWindow("2")
                .transformSchema(schema));
        assertMessage("window: required", () -> new Pooling().setInputCol("tensor").transformSchema(schema));
        assertMessage("window 0x0", () -> new Pooling().setInputCol("tensor").setWindow("0").transformSchema(schema));
        assertMessage("p 3.0: applies to mode lp only", () -> new Pooling().setInputCol("tensor").setWindow("2")
                .setP(3).transformSchema(schema));
        assertMessage("outputCol id: the input already has", () -> new Pooling().setInputCol("tensor").setWindow("2")
                .setOutputCol("id").transformSchema(schema));
        assertMessage("outputSize: required", () -> new Pooling().setInputCol("tensor").setMode("adaptive_max")
                .transformSchema(schema));
        assertThrows(IllegalArgumentException.class, () -> new Pooling().setMode("median"));
    }

    @Test
    void layouts_transposeBothWays() {
        Shape s = Shape.of(2, 3, 4, 5);
        float[] nchw = new float[(int) s.elementCount()];
        for (int i = 0; i < nchw.length; i++) {
            nchw[i] = i;
        }
        float[] nhwc = new float[nchw.length];
        Layouts.toChannelsLast(nchw, s, nhwc);
        // Element (n=1, c=2, y=1, x=3) of NCHW is at ((1*5+2)*3+1)*4+3; in NHWC at ((1*3+1)*4+3)*5+2.
        assertEquals(((1 * 5 + 2) * 3 + 1) * 4 + 3, nhwc[((1 * 3 + 1) * 4 + 3) * 5 + 2]);
        float[] back = new float[nchw.length];
        Layouts.toChannelsFirst(nhwc, s, back);
        assertArrayEquals(nchw, back);
    }

    private static void assertPooled(Tensor expected, int rank, boolean channelsFirst, Row pooled) {
        Shape e = expected.shape();
        int[] shape = channelsFirst ? new int[] {e.n(), e.c(), e.h(), e.w()} : new int[] {e.n(), e.h(), e.w(), e.c()};
        float[] data = expected.toArray();
        if (channelsFirst) {
            float[] nchw = new float[data.length];
            Layouts.toChannelsFirst(data, e, nchw);
            data = nchw;
        }
        assertArrayEquals(rank == 3 ? Arrays.copyOfRange(shape, 1, 4) : shape, LocalSpark.shape(pooled));
        float[] got = LocalSpark.data(pooled);
        assertEquals(data.length, got.length);
        for (int i = 0; i < got.length; i++) {
            assertEquals(Float.floatToRawIntBits(data[i]), Float.floatToRawIntBits(got[i]), "element " + i);
        }
    }

    /** The tensor of {@code shape} (rank 3 or 4, in its layout) with {@code v} as an NHWC tensor. */
    private static Tensor nhwc(int[] shape, float[] v, boolean channelsFirst) {
        int[] s = shape.length == 4 ? shape : new int[] {1, shape[0], shape[1], shape[2]};
        if (!channelsFirst) {
            return Tensor.of(Shape.of(s[0], s[1], s[2], s[3]), v);
        }
        Shape nhwc = Shape.of(s[0], s[2], s[3], s[1]);
        float[] out = new float[v.length];
        Layouts.toChannelsLast(v, nhwc, out);
        return Tensor.of(nhwc, out);
    }

    private static float[] randomValues(Random random, int[] shape) {
        float[] v = new float[Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian() * 10;
        }
        return v;
    }

    private static Row row(int id, int[] shape, Object data) {
        return RowFactory.create(id, RowFactory.create(Arrays.stream(shape).boxed().toList(),
                data instanceof Float[] f ? Arrays.asList(f) : data));
    }

    private static Float[] boxed(float[] v) {
        Float[] out = new Float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    private static StructType tensorSchema(DataType data) {
        return new StructType().add("id", DataTypes.IntegerType)
                .add("tensor", new StructType().add("shape", DataTypes.createArrayType(DataTypes.IntegerType))
                        .add("data", data));
    }

    private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    private static String rootMessage(Throwable e) {
        StringBuilder s = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            s.append(t.getMessage()).append(" | ");
        }
        return s.toString();
    }
}
