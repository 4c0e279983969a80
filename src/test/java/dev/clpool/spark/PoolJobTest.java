package dev.clpool.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.PoolSpec;
import dev.clpool.Shape;
import dev.clpool.Tensor;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PoolJob over a few hundred images: parquet and json hold the same rows, which are the engine's results. */
class PoolJobTest {
    private static final int IMAGES = 200;
    @TempDir
    Path dir;

    @Test
    void job_writesTheSameOutput_inParquetAndJson() {
        Random random = new Random(4);
        Path images = dir.resolve("images");
        for (int i = 0; i < IMAGES; i++) {
            LocalSpark.png(images, String.format("%03d.png", i), 6 + i % 3, 5, BufferedImage.TYPE_3BYTE_BGR, random);
        }
        SparkSession spark = LocalSpark.session();
        String[] pool = {"--mode", "max", "--window", "2", "--stride=1", "--pad", "0,1", "--backend", "cpu"};
        for (String format : new String[] {"parquet", "json"}) {
            assertEquals(PoolJob.OK, PoolJob.run(spark, concat(new String[] {"--input", images.toString(),
                "--input-format", "image", "--output", dir.resolve(format).toString(), "--output-format", format}, pool)));
        }
        Map<String, Row> parquet = byOrigin(spark.read().parquet(dir.resolve("parquet").toString()).collectAsList());
        // The schema JSON gives back (numbers as bigint and double), so that reading it needs no inference pass.
        StructType jsonSchema = new StructType().add("origin", DataTypes.StringType).add("pooled", new StructType()
                .add("shape", DataTypes.createArrayType(DataTypes.LongType))
                .add("data", DataTypes.createArrayType(DataTypes.DoubleType)));
        Map<String, Row> json = byOrigin(spark.read().schema(jsonSchema).json(dir.resolve("json").toString())
                .collectAsList());
        assertEquals(IMAGES, parquet.size());
        assertEquals(parquet.keySet(), json.keySet());

        PoolSpec spec = PoolSpec.max(2, 2).stride(1).padding(dev.clpool.Padding.of(0, 1)).build();
        Map<String, Row> source = byOrigin(spark.read().format("image").load(images.toString())
                .select("image.origin", "image").collectAsList());
        for (String origin : parquet.keySet()) {
            Row p = parquet.get(origin).getStruct(1);
            Row j = json.get(origin).getStruct(1);
            assertArrayEquals(LocalSpark.shape(p), numbers(j.getList(j.fieldIndex("shape"))).stream()
                    .mapToInt(Number::intValue).toArray(), origin);
            float[] pd = LocalSpark.data(p);
            List<Number> jd = numbers(j.getList(j.fieldIndex("data")));
            assertEquals(pd.length, jd.size());
            for (int i = 0; i < pd.length; i++) {
                assertEquals(Float.floatToRawIntBits(pd[i]), Float.floatToRawIntBits(jd.get(i).floatValue()), origin);
            }
            Row image = source.get(origin).getStruct(1);
            byte[] b = (byte[]) image.get(image.fieldIndex("data"));
            float[] f = new float[b.length];
            for (int i = 0; i < b.length; i++) {
                f[i] = Byte.toUnsignedInt(b[i]);
            }
            Tensor x = Tensor.of(Shape.of(1, image.getInt(image.fieldIndex("height")),
                    image.getInt(image.fieldIndex("width")), image.getInt(image.fieldIndex("nChannels"))), f);
            assertArrayEquals(LocalSpark.cpuEngine().pool(x, spec).toArray(), pd, origin);
        }
    }

    @Test
    void badFlags_exitWithCode2_beforeAnyWork() {
        SparkSession spark = LocalSpark.session();
        String out = dir.resolve("never").toString();
        String[] base = {"--input", dir.toString(), "--input-format", "image", "--output", out};
        assertEquals(PoolJob.BAD_INPUT, PoolJob.run(spark, concat(base, new String[] {"--mode", "max"})));
        assertEquals(PoolJob.BAD_INPUT, PoolJob.run(spark, concat(base, new String[] {"--mode", "max", "--window", "0"})));
        assertEquals(PoolJob.BAD_INPUT, PoolJob.run(spark, concat(base, new String[] {"--mode", "max", "--window", "2",
            "--p", "3"})));
        assertEquals(PoolJob.BAD_INPUT, PoolJob.run(spark, concat(base, new String[] {"--mode", "max", "--window", "2",
            "--frobnicate"})));
        assertEquals(PoolJob.BAD_INPUT, PoolJob.run(spark, "--input", dir.resolve("missing").toString(),
                "--input-format", "parquet", "--output", out, "--mode", "avg", "--window", "2"));
        assertEquals(false, java.nio.file.Files.exists(Path.of(out)));
    }

    @SuppressWarnings("unchecked")
    private static List<Number> numbers(List<?> values) {
        return (List<Number>) values;
    }

    private static Map<String, Row> byOrigin(List<Row> rows) {
        Map<String, Row> out = new TreeMap<>();
        rows.forEach(r -> out.put(r.getString(r.fieldIndex("origin")), r));
        return out;
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
