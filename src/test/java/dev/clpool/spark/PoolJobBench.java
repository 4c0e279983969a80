package dev.clpool.spark;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * A benchmark, not a test: images per second of the {@link Pooling} stage in local mode over a
 * folder of generated PNGs, batched (rows of equal shape stacked into one engine call) against
 * row by row ({@code batchSize=1}, one engine call per image). The decoded images are cached first,
 * so the figures are the stage's, not the PNG decoder's. Variants alternate; medians are reported.
 *
 * <pre>
 * mvn -B -o package -DskipTests   # target/clpool.jar, target/test-classes, target/spark-classpath.txt
 * java -cp target/test-classes:target/clpool.jar:$(cat target/spark-classpath.txt) dev.clpool.spark.PoolJobBench \
 *     [images=3000] [size=32] [rounds=5] [backends=cpu,auto] [master=local[2]] [partitions=cores|files|N]
 * </pre>
 */
public final class PoolJobBench {
    static {
        for (String quiet : new String[] {"org.apache.spark", "org.apache.hadoop", "org.apache.parquet", "org.sparkproject"}) {
            System.setProperty("org.slf4j.simpleLogger.log." + quiet, "warn");
        }
    }

    private PoolJobBench() {
    }

    public static void main(String[] args) throws Exception {
        OptionalInt child = SparkJvm.relaunch(PoolJobBench.class, args); // Spark's JVM flags and libjsig, as PoolJob gets them
        if (child.isPresent()) {
            System.exit(child.getAsInt());
        }
        int images = Integer.parseInt(arg(args, "images", "3000"));
        int size = Integer.parseInt(arg(args, "size", "32"));
        int rounds = Integer.parseInt(arg(args, "rounds", "5"));
        List<String> backends = List.of(arg(args, "backends", "cpu,auto").split(","));
        String master = arg(args, "master", "local[2]");
        String partitions = arg(args, "partitions", "cores");

        Path dir = Files.createTempDirectory("clpool-bench-images");
        Random random = new Random(42);
        for (int i = 0; i < images; i++) {
            LocalSpark.png(dir, String.format("%05d.png", i), size, size, BufferedImage.TYPE_3BYTE_BGR, random);
        }
        SparkSession spark = SparkSession.builder().master(master).appName("clpool PoolJobBench")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            // Spark packs many small files into many small partitions; batches never cross one, so by
            // default the images are spread over one partition per core, as a job over larger files would be.
            Dataset<Row> read = spark.read().format("image").load(dir.toString());
            Dataset<Row> df = (partitions.equals("files") ? read : read.coalesce(partitions.equals("cores")
                    ? spark.sparkContext().defaultParallelism() : Integer.parseInt(partitions))).cache();
            long rows = df.count();
            System.out.printf(Locale.ROOT, "%d images %dx%dx3 in %d partitions, %s, avg 3x3 stride 2 pad 1%n",
                    rows, size, size, df.rdd().getNumPartitions(), master);
            for (String backend : backends) {
                run(df, rows, backend, rounds);
            }
        } finally {
            spark.stop();
            try (var files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    private static void run(Dataset<Row> df, long rows, String backend, int rounds) {
        Pooling batched = stage(backend).setBatchSize(256);
        Pooling rowByRow = stage(backend).setBatchSize(1);
        time(df, batched); // warm-up: the engine opens, the JIT compiles
        time(df, rowByRow);
        List<Double> b = new ArrayList<>();
        List<Double> r = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            b.add(rows / time(df, batched));
            r.add(rows / time(df, rowByRow));
        }
        double mb = median(b);
        double mr = median(r);
        System.out.printf(Locale.ROOT, "backend %-6s batched (256 rows): %8.0f images/s   row by row: %8.0f images/s"
                + "   ratio %.2fx   (median of %d; batched %s, row by row %s)%n", backend, mb, mr, mb / mr, rounds,
                fmt(b), fmt(r));
    }

    private static Pooling stage(String backend) {
        return new Pooling().setMode("avg").setWindow("3").setStride("2").setPadding("1").setBackend(backend);
    }

    /** Seconds to pool every row (the noop sink runs the whole plan and writes nothing). */
    private static double time(Dataset<Row> df, Pooling stage) {
        long t0 = System.nanoTime();
        stage.transform(df).select("pooled").write().format("noop").mode("overwrite").save();
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double median(List<Double> v) {
        double[] s = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String fmt(List<Double> v) {
        return Arrays.toString(v.stream().mapToLong(Math::round).toArray());
    }

    private static String arg(String[] args, String name, String dflt) {
        for (String a : args) {
            if (a.startsWith(name + "=")) {
                return a.substring(name.length() + 1);
            }
        }
        return dflt;
    }
}
