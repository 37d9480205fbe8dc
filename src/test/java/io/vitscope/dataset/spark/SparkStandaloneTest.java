package io.vitscope.dataset.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.dataset.DatasetJob;
import io.vitscope.dataset.DatasetResult;
import io.vitscope.dataset.DatasetRow;
import io.vitscope.dataset.ModelSpec;
import io.vitscope.dataset.ScoreOptions;
import io.vitscope.checkpoint.LoadedModel;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dataset job on a real Spark standalone cluster on 127.0.0.1, every part its own JVM from the Maven jars: a
 * Master, two Workers (one core each), and the executors those Workers launch; this JVM is the driver. The rows must
 * equal the single-JVM library's, and each Worker's executor must have fetched the model's files (so both executor
 * JVMs loaded and ran it).
 *
 * <p>Standalone Workers launch executors with {@code $SPARK_HOME/jars/*} on their class path; the test makes a
 * SPARK_HOME whose {@code jars/} links to Spark's jars in the local Maven repository (target/spark-classpath.txt) and
 * gives the executors vitscope through {@code spark.executor.extraClassPath}. Five JVMs on two cores take minutes on
 * a loaded machine, so the test runs on request: {@code mvn test -Dtest=SparkStandaloneTest
 * -Dvitscope.sparkStandalone=true}.
 */
@EnabledIfSystemProperty(named = "vitscope.sparkStandalone", matches = "true")
class SparkStandaloneTest {

    @TempDir
    Path tmp;

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stopCluster() throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            p.waitFor();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private Process start(Path log, Path home, String cp, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", cp));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARK_HOME", home.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    private static void waitFor(Path log, String text, int times, int seconds) throws Exception {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            if (Files.exists(log)) {
                long n = Files.readAllLines(log).stream().filter(l -> l.contains(text)).count();
                if (n >= times) {
                    return;
                }
            }
            Thread.sleep(500);
        }
        throw new AssertionError("'" + text + "' did not appear " + times + " times in " + log + " within " + seconds
                + " s:\n" + (Files.exists(log) ? Files.readString(log) : "(no log)"));
    }

    @Test
    void twoWorkersInTheirOwnJvmsGiveTheSingleJvmRows() throws Exception {
        String vitscope = Path.of("target/classes").toAbsolutePath() + File.pathSeparator
                + Files.readString(Path.of("target/classpath.txt")).strip();
        String spark = Files.readString(Path.of("target/spark-classpath.txt")).strip();
        Path home = Files.createDirectories(tmp.resolve("spark-home/jars"));
        for (String jar : spark.split(File.pathSeparator)) {
            Path j = Path.of(jar);
            Files.createSymbolicLink(home.resolve(j.getFileName()), j);
        }
        Path sparkHome = home.getParent();
        String cp = vitscope + File.pathSeparator + spark;
        int port = freePort();
        Path masterLog = tmp.resolve("master.log");
        start(masterLog, sparkHome, cp, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                String.valueOf(port), "--webui-port", String.valueOf(freePort()));
        String url = "spark://127.0.0.1:" + port;
        for (int w = 1; w <= 2; w++) {
            start(tmp.resolve("worker" + w + ".log"), sparkHome, cp, "org.apache.spark.deploy.worker.Worker",
                    "--host", "127.0.0.1", "--cores", "1", "--memory", "1g", "--webui-port", "0", "--work-dir",
                    tmp.resolve("work" + w).toString(), url);
        }
        waitFor(masterLog, "Registering worker", 2, 300);

        Path in = SparkDatasetTest.makeInput(tmp.resolve("in"));
        String out = tmp.resolve("out").toString();
        ScoreOptions options = SparkDatasetTest.OPTIONS;
        DatasetResult result = SparkDataset.run(new DatasetJob(in.toString(), out, url, 4, options, "folder", null,
                ModelSpec.embedded(), false, Map.of("spark.driver.host", "127.0.0.1",
                        "spark.executor.extraClassPath", vitscope, "spark.executor.memory", "1g")),
                DatasetJob.Progress.NONE);
        assertEquals(26, result.rows(), "13 files x 2 factors");

        // Each Worker ran an executor JVM of its own, which fetched the model's files to load it.
        for (int w = 1; w <= 2; w++) {
            try (Stream<Path> logs = Files.walk(tmp.resolve("work" + w))) {
                List<Path> stderr = logs.filter(p -> p.getFileName().toString().equals("stderr")).toList();
                assertEquals(1, stderr.size(), "worker " + w + " launched one executor");
                String log = Files.readString(stderr.get(0));
                assertTrue(log.contains("CoarseGrainedExecutorBackend"), "worker " + w + "'s executor is a JVM");
                assertTrue(log.contains("files/model.safetensors"), "worker " + w + "'s executor fetched the weights");
            }
        }

        SparkSession local = SparkSession.builder().master("local[1]").appName("read back")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            Map<String, DatasetRow> rows = SparkDatasetTest.read(local, out);
            List<DatasetRow> expected;
            int tokens;
            try (LoadedModel model = ModelSpec.embedded().load()) {
                expected = SparkDatasetTest.reference(model, in);
                tokens = model.config().numTokens();
            }
            SparkDatasetTest.assertSameRows(expected, rows, tokens);
        } finally {
            local.stop();
        }
    }
}
