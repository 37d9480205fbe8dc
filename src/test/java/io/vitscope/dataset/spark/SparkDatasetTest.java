package io.vitscope.dataset.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.pytorch.jni.JniUtils;
import io.vitscope.dataset.DatasetImage;
import io.vitscope.dataset.DatasetJob;
import io.vitscope.dataset.DatasetResult;
import io.vitscope.dataset.DatasetRow;
import io.vitscope.dataset.DatasetRows;
import io.vitscope.dataset.DatasetSummary;
import io.vitscope.dataset.GroundTruth;
import io.vitscope.dataset.ModelSpec;
import io.vitscope.dataset.ScoreOptions;
import io.vitscope.predict.Classifier;
import io.vitscope.checkpoint.LoadedModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dataset job on Spark {@code local[2]} against the single-JVM library: the ten demo images in an
 * {@code ImageFolder} tree (class names as folder names) plus three files that are not images, two logit scales,
 * one block's attention kept. Every Parquet row must equal the row {@link DatasetRows#score} gives for the same file
 * in this JVM, the bad files must be rows with their error, and a task that fails half-way and is retried must not
 * leave a row twice.
 */
class SparkDatasetTest {

    private static final double[] FACTORS = {1, 3};
    static final ScoreOptions OPTIONS = new ScoreOptions(FACTORS, 5, 4, new int[] {4});

    @TempDir
    static Path tmp;
    static Path in;
    static SparkSession spark;

    @BeforeAll
    static void start() throws IOException {
        in = makeInput(tmp.resolve("in"));
        // local[2, 2]: two task threads, and a failed task is tried once more (the retry test needs that).
        spark = SparkSession.builder().master("local[2,2]").appName("SparkDatasetTest")
                .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").getOrCreate();
    }

    /**
     * The demo images in an ImageFolder tree named by class ({@code ankle_boot/fashion_0_ankle_boot.png}), three bad
     * files under {@code bag/} and a README that is not an image.
     */
    static Path makeInput(Path in) throws IOException {
        try (Stream<Path> s = Files.list(Path.of("images/fashion"))) {
            for (Path p : s.filter(f -> f.toString().endsWith(".png")).toList()) {
                String cls = p.getFileName().toString().replaceFirst("^fashion_\\d+_", "").replace(".png", "");
                Files.createDirectories(in.resolve(cls));
                Files.copy(p, in.resolve(cls).resolve(p.getFileName()));
            }
        }
        Path bad = Files.createDirectories(in.resolve("bag"));
        Files.writeString(bad.resolve("not_an_image.png"), "not an image");
        Files.write(bad.resolve("empty.jpg"), new byte[0]);
        byte[] png = Files.readAllBytes(Path.of("images/fashion/fashion_0_ankle_boot.png"));
        Files.write(bad.resolve("truncated.png"), Arrays.copyOf(png, 100));
        Files.writeString(in.resolve("README.txt"), "not an image ending: not a row");
        return in;
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    private static DatasetJob job(String out, int partitions) {
        return new DatasetJob(in.toString(), out, null, partitions, OPTIONS, "folder", null, ModelSpec.embedded(),
                false, Map.of());
    }

    private static Map<String, DatasetRow> read(String out) {
        return read(spark, out);
    }

    /** The Parquet rows by "path @factor"; fails on a duplicate. */
    static Map<String, DatasetRow> read(SparkSession spark, String out) {
        Map<String, DatasetRow> rows = new HashMap<>();
        for (Row r : spark.read().parquet(out + "/predictions").collectAsList()) {
            DatasetRow row = RowSchema.fromRow(r, OPTIONS.attentionBlocks());
            DatasetRow before = rows.put(row.path() + " @" + row.factor(), row);
            assertNull(before, "a row appears twice: " + row.path() + " factor " + row.factor());
        }
        return rows;
    }

    /** The single-JVM reference: the same files, read in this JVM and scored in one call. */
    static List<DatasetRow> reference(LoadedModel model, Path in) throws IOException {
        GroundTruth truth = GroundTruth.fromFolder(model.labels());
        List<DatasetImage> images = new ArrayList<>();
        try (Stream<Path> s = Files.walk(in)) {
            for (Path p : s.filter(Files::isRegularFile).filter(p -> !p.toString().endsWith(".txt")).sorted()
                    .toList()) {
                String name = "file:" + p.toAbsolutePath();
                images.add(p.toFile().length() == 0
                        ? DatasetImage.unreadable(name, truth.labelOf(name), name + ": the file is empty (0 bytes)")
                        : DatasetImage.read(p, name, truth.labelOf(name)));
            }
        }
        // One thread, as each Spark task uses here (spark.task.cpus = 1): only the batch composition differs.
        JniUtils.setNumThreads(1);
        return DatasetRows.score(new Classifier(model), images, OPTIONS);
    }

    @Test
    void everyRowMatchesTheSingleJvmLibrary() throws IOException {
        String out = tmp.resolve("out").toString();
        DatasetResult result = SparkDataset.run(spark, job(out, 3), null, DatasetJob.Progress.NONE, System.nanoTime());
        Map<String, DatasetRow> rows = read(out);
        assertEquals(13 * FACTORS.length, rows.size(), "13 files (10 images, 3 bad) x 2 factors, README.txt skipped");
        assertEquals(rows.size(), result.rows());

        List<DatasetRow> expected;
        int tokens;
        try (LoadedModel model = ModelSpec.embedded().load()) {
            expected = reference(model, in);
            tokens = model.config().numTokens();
        }
        assertSameRows(expected, rows, tokens);

        // ImageFolder labels from class names, punctuation ignored: independent of GroundTruth's own code.
        assertEquals(9, rows.get("file:" + in.toAbsolutePath() + "/ankle_boot/fashion_0_ankle_boot.png @1.0").label());
        assertEquals(0, rows.get("file:" + in.toAbsolutePath() + "/t_shirt_top/fashion_19_t_shirt_top.png @1.0")
                .label());
        assertTrue(rows.get("file:" + in.toAbsolutePath() + "/bag/empty.jpg @3.0").error().contains("empty"));

        DatasetSummary s = result.summary();
        assertEquals(13, s.images());
        assertEquals(3, s.errors());
        assertEquals(13, s.labelled());
        DatasetSummary.Builder b = new DatasetSummary.Builder(s.model(), s.weightsSha256(), FACTORS);
        expected.forEach(b::add);
        DatasetSummary ref = b.build();
        for (int f = 0; f < FACTORS.length; f++) {
            assertEquals(ref.factors().get(f).accuracy(), s.factors().get(f).accuracy());
            assertEquals(ref.factors().get(f).flipRate(), s.factors().get(f).flipRate());
            assertArrayEquals(ref.factors().get(f).meanEntropy(), s.factors().get(f).meanEntropy(), 2e-3);
        }
        assertEquals(0.0, s.factors().get(0).flipRate(), "factor 1 against itself");
        for (String f : new String[] {"summary.json", "entropy_heads.png", "accuracy_vs_factor.png"}) {
            assertTrue(Files.size(Path.of(out, f)) > 0, f);
        }
    }

    /** Every expected row is in {@code rows} with the same values (within the stated tolerances). */
    static void assertSameRows(List<DatasetRow> expected, Map<String, DatasetRow> rows, int tokens) {
        assertEquals(rows.size(), expected.size());
        double maxProb = 0;
        double maxEntropy = 0;
        int errors = 0;
        for (DatasetRow e : expected) {
            DatasetRow a = rows.get(e.path() + " @" + e.factor());
            assertNotNull(a, "no Spark row for " + e.path() + " factor " + e.factor());
            assertEquals(e.sha256(), a.sha256(), e.path());
            assertEquals(e.label(), a.label(), e.path());
            assertEquals(e.error(), a.error(), e.path());
            if (!e.ok()) {
                errors++;
                assertNull(a.topIndex());
                assertNull(a.entropy());
                continue;
            }
            assertArrayEquals(e.topIndex(), a.topIndex(), e.path() + " factor " + e.factor());
            assertArrayEquals(e.topLabel(), a.topLabel(), e.path());
            // Both sides run the same code on the same pixels with one thread each; only the batch a file shares a
            // forward with differs (partitions of ~4 vs consecutive fours of the sorted list), which can change
            // MKL's GEMM blocking and so the summation order. Each float32 dot product (length <= 128 here) is then
            // off by at most ~128 * 2^-24 relative ~ 8e-6 of its terms' magnitude; through LayerNorm-renormalised
            // blocks that stays ~1e-5 of the logits (|logit| < 20), and softmax is 1-Lipschitz in the max norm:
            // |dp| <= 2e-5 * 20 = 4e-4 at worst. Entropy: |dH| <= sum |dp| (|ln p| + 1), over 17 keys with
            // attention logits ~O(1): 4e-4 * T * ~3 ~ 6e-2 at worst (T = 50 keys); we allow 2e-3, a thirtieth of it.
            for (int k = 0; k < e.topProb().length; k++) {
                double d = Math.abs(e.topProb()[k] - a.topProb()[k]);
                maxProb = Math.max(maxProb, d);
                assertTrue(d <= 4e-5, e.path() + " top_prob[" + k + "] differs by " + d);
            }
            assertEquals(e.entropy().length, a.entropy().length);
            maxEntropy = Math.max(maxEntropy, maxDiff(e.entropy(), a.entropy()));
            maxEntropy = Math.max(maxEntropy, maxDiff(e.attention().get(0), a.attention().get(0)));
            assertTrue(maxEntropy <= 2e-3, e.path() + ": entropy/attention differ by " + maxEntropy);
            assertEquals(12, a.entropy().length, "blocks");
            assertEquals(4, a.entropy()[0].length, "heads");
            assertEquals(4, a.attention().get(0).length, "heads of blocks.4's class-token row");
            assertEquals(tokens, a.attention().get(0)[0].length, "tokens of blocks.4's class-token row");
        }
        assertEquals(3 * FACTORS.length, errors, "the three bad files, under each factor");
        System.out.printf("spark vs single JVM: max |d top_prob| = %.3g, max |d entropy or attention| = %.3g%n",
                maxProb, maxEntropy);

    }

    private static double maxDiff(float[][] a, float[][] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i].length, b[i].length);
            for (int j = 0; j < a[i].length; j++) {
                m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
            }
        }
        return m;
    }

    static final AtomicInteger INJECTED = new AtomicInteger();

    /**
     * Fails the first attempt of partition 0 at its fifth image, after the first batch (four images, eight rows) went
     * to Spark's Parquet writer; labels come from the folder as usual.
     */
    static final class FailOnce extends GroundTruth {
        private static final long serialVersionUID = 1L;
        private final GroundTruth inner;
        private int seen;

        FailOnce(GroundTruth inner) {
            this.inner = inner;
        }

        @Override
        public Integer labelOf(String path) {
            TaskContext t = TaskContext.get();
            if (t != null && t.partitionId() == 0 && t.attemptNumber() == 0 && ++seen == 5) {
                INJECTED.incrementAndGet();
                throw new IllegalStateException("injected failure of the first attempt, after a batch of rows");
            }
            return inner.labelOf(path);
        }
    }

    @Test
    void aRetriedTaskLeavesNoDuplicateRows() {
        String out = tmp.resolve("retry").toString();
        GroundTruth truth;
        try (LoadedModel model = ModelSpec.embedded().load()) {
            truth = new FailOnce(GroundTruth.fromFolder(model.labels()));
        }
        DatasetResult result = SparkDataset.run(spark, job(out, 2), truth, DatasetJob.Progress.NONE, System.nanoTime());
        assertEquals(1, INJECTED.get(), "partition 0 (6 or 7 of the 13 files) failed once, then was retried");
        Map<String, DatasetRow> rows = read(out);                   // fails on a duplicate
        assertEquals(13 * FACTORS.length, rows.size());
        assertEquals(13 * FACTORS.length, result.rows());
    }
}
