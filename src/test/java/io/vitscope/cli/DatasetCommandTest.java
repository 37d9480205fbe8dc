package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vitscope dataset}'s error contract: bad options exit 2 before Spark starts; an input that does not exist
 * exits 3 with one line (Spark's own stack trace stays for --verbose). The full runs are in
 * {@code io.vitscope.dataset.spark.SparkDatasetTest}.
 */
class DatasetCommandTest {

    @TempDir
    Path tmp;

    @Test
    void badOptionsAreUsageErrors() {
        String out = tmp.resolve("out").toString();
        assertTrue(Cli.run("dataset", "images/fashion", "--out", out, "--labels-from", "filename")
                .failsWithOneLine(Main.USAGE).contains("--labels-from must be 'folder' or 'column'"));
        assertTrue(Cli.run("dataset", "images/fashion", "--out", out, "--scale-attn-logits", "1,0")
                .failsWithOneLine(Main.USAGE).contains("--scale-attn-logits"));
        assertTrue(Cli.run("dataset", "images/fashion", "--out", out, "--save-attention", "four")
                .failsWithOneLine(Main.USAGE).contains("--save-attention"));
        assertTrue(Cli.run("dataset", "images/fashion", "--out", out, "--labels-from", "folder", "--truth", "t.csv")
                .failsWithOneLine(Main.USAGE).contains("choose one"));
    }

    @Test
    void aMissingInputIsOneLineAndExit3() {
        Path missing = tmp.resolve("no_such_folder");
        String line = Cli.run("dataset", missing.toString(), "--out", tmp.resolve("out").toString(), "--master",
                "local[1]", "--no-ui").failsWithOneLine(Main.BAD_INPUT);
        assertTrue(line.contains("no_such_folder"), line);
    }
}
