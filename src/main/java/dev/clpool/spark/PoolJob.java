package dev.clpool.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pools a folder of images or tensors with Spark: reads {@code --input} ({@code image}, {@code parquet}
 * or {@code json}), runs the {@link Pooling} stage on {@code --column} and writes {@code --output}
 * ({@code parquet} or {@code json}; the folder must not exist) with one row per input row: its
 * {@code origin} when the input has one, and the result in {@code pooled} (struct {@code shape},
 * {@code data}).
 *
 * <pre>
 * spark-submit --class dev.clpool.spark.PoolJob target/clpool.jar --input photos/ --input-format image \
 *     --output small/ --output-format parquet --mode avg --window 2
 * java -cp target/clpool.jar:$(cat target/spark-classpath.txt) dev.clpool.spark.PoolJob --master local[2] ...
 * </pre>
 *
 * Exit codes as the CLI's: 0 done, 1 failed, 2 bad flags, params or input.
 */
public final class PoolJob {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int BAD_INPUT = 2;

    static {
        // Spark logs through SLF4J (clpool.jar's slf4j-simple in local mode): its INFO lines are noise here.
        if (System.getProperty("org.slf4j.simpleLogger.log.org.apache.spark") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.org.apache.spark", "warn");
            System.setProperty("org.slf4j.simpleLogger.log.org.apache.hadoop", "warn");
            System.setProperty("org.slf4j.simpleLogger.log.org.sparkproject", "warn");
            System.setProperty("org.slf4j.simpleLogger.log.org.apache.parquet", "warn");
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(PoolJob.class);

    private PoolJob() {
    }

    public static void main(String[] args) {
        OptionalInt child = SparkJvm.relaunch(PoolJob.class, args);
        if (child.isPresent()) {
            System.exit(child.getAsInt());
        }
        System.exit(run(args));
    }

    /** Runs the job in a session of its own (stopped at the end); returns the exit code. */
    static int run(String[] args) {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            LOG.info(JobOptions.USAGE);
            return OK;
        }
        JobOptions options;
        try {
            options = JobOptions.parse(List.of(args));
            options.stage().config().operation(); // bad params end here, before Spark starts
        } catch (IllegalArgumentException e) {
            return badInput(e);
        }
        SparkSession.Builder b = SparkSession.builder().appName("clpool PoolJob");
        if (options.master() != null) {
            b.master(options.master());
        }
        SparkSession spark = b.getOrCreate();
        try {
            return run(spark, options);
        } finally {
            spark.stop();
        }
    }

    /** Runs the job in {@code spark} (left running; {@code --master} is ignored); returns the exit code. */
    static int run(SparkSession spark, String... args) {
        try {
            return run(spark, JobOptions.parse(List.of(args)));
        } catch (IllegalArgumentException e) {
            return badInput(e);
        }
    }

    private static int run(SparkSession spark, JobOptions o) {
        long t0 = System.nanoTime();
        try {
            Dataset<Row> in = spark.read().format(o.inputFormat()).load(o.input());
            Pooling stage = o.stage();
            Dataset<Row> pooled = stage.transform(in);
            List<Column> keep = new ArrayList<>();
            if (Arrays.asList(in.columns()).contains("origin")) {
                keep.add(pooled.col("origin"));
            } else if (o.inputFormat().equals("image")) {
                keep.add(pooled.col(o.column() + ".origin").as("origin"));
            }
            keep.add(pooled.col("pooled"));
            pooled.select(keep.toArray(new Column[0])).write().format(o.outputFormat()).save(o.output());
        } catch (Exception e) {
            // Scala throws AnalysisException (a missing input path, for one) without declaring it.
            if (e instanceof IllegalArgumentException || e instanceof AnalysisException) {
                return badInput(e);
            }
            throw e;
        }
        LOG.info("pooled {} into {} ({}) in {} ms", o.input(), o.output(), o.outputFormat(),
                (System.nanoTime() - t0) / 1_000_000);
        return OK;
    }

    private static int badInput(Exception e) {
        LOG.error("{}", oneLine(e.getMessage()));
        LOG.info(JobOptions.USAGE);
        return BAD_INPUT;
    }

    private static String oneLine(String s) {
        return s == null ? "(no message)" : s.strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
