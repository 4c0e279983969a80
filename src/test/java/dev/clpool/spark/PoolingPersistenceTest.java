package dev.clpool.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stage in a Pipeline, saved and loaded with Spark ML's persistence. */
class PoolingPersistenceTest {
    @TempDir
    Path dir;

    @Test
    void pipelineWithTheStage_savesAndLoads_andPoolsTheSame() throws Exception {
        Random random = new Random(3);
        for (int i = 0; i < 3; i++) {
            LocalSpark.png(dir.resolve("images"), i + ".png", 9, 7, java.awt.image.BufferedImage.TYPE_3BYTE_BGR, random);
        }
        Dataset<Row> images = LocalSpark.session().read().format("image").load(dir.resolve("images").toString())
                .orderBy("image.origin");
        Pooling stage = new Pooling().setMode("lp").setP(3).setWindow("2,3").setStride("1").setDilation("1,2")
                .setPadding("0,1,1,0").setCeilMode(true).setHandleInvalid("keep").setOutputCol("small")
                .setBackend("cpu").setBatchSize(7);
        Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {stage});
        pipeline.save(dir.resolve("pipeline").toString());
        PipelineModel model = pipeline.fit(images);
        model.save(dir.resolve("model").toString());

        Pipeline loadedPipeline = Pipeline.load(dir.resolve("pipeline").toString());
        PipelineModel loadedModel = PipelineModel.load(dir.resolve("model").toString());
        Pooling loaded = assertInstanceOf(Pooling.class, loadedModel.stages()[0]);
        assertEquals(stage.uid(), loaded.uid());
        assertEquals(stage.extractParamMap().toString(), loaded.extractParamMap().toString());
        assertEquals(stage.config(), loaded.config());
        assertEquals(stage.config(), ((Pooling) loadedPipeline.getStages()[0]).config());

        List<Row> expected = model.transform(images).select("small").collectAsList();
        assertEquals(expected, loadedModel.transform(images).select("small").collectAsList());
        assertEquals(expected, loadedPipeline.fit(images).transform(images).select("small").collectAsList());
    }
}
