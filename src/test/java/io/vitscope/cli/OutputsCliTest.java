package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vitscope.Golden;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.experiment.ScalingExperiment;
import io.vitscope.image.DataConfig;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11 items 7 and 12 through {@code Main.run}: an output that cannot be written is one line and exit 2 before
 * any work, figure sizes are bounded, a failed run writes nothing, and every output file gets the usual mode.
 */
class OutputsCliTest {

    static final String HF = Golden.dir("tiny/hf").toString();
    static final String INPUT = Golden.file("tiny/input.npy").toString();

    @TempDir
    Path dir;

    static List<String> names(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Runs with System.err captured too: ImageIO printed its stack trace there, not to the command's writer. */
    static Cli runCapturingStderr(String... args) {
        PrintStream saved = System.err;
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        System.setErr(new PrintStream(raw, true));
        Cli r;
        try {
            r = Cli.run(args);
        } finally {
            System.setErr(saved);
        }
        assertEquals("", raw.toString().lines().filter(l -> !l.contains("ai.djl")).reduce("", String::concat),
                "nothing on the process's stderr");
        return r;
    }

    @Test
    void attentionToAnUnwritablePlaceIsOneLineAndExit2() {
        String line = runCapturingStderr("attention", "--weights", HF, INPUT, "--block", "0", "--out", "/proc/a.png")
                .failsWithOneLine(Main.USAGE);
        assertTrue(line.startsWith("vitscope: --out /proc/a.png cannot be written: "), line);
        line = runCapturingStderr("attention", "--weights", HF, INPUT, "--block", "0", "--out", "/proc/a.svg")
                .failsWithOneLine(Main.USAGE);
        assertTrue(line.startsWith("vitscope: --out /proc/a.svg cannot be written: "), line);
    }

    @Test
    void attentionChecksSaveWeightsBeforeWritingTheFigure() throws Exception {
        Path png = dir.resolve("a.png");
        String line = Cli.run("attention", "--weights", HF, INPUT, "--block", "0", "--out", png.toString(),
                "--save-weights", "/proc/w.npy").failsWithOneLine(Main.USAGE);
        assertTrue(line.startsWith("vitscope: --save-weights /proc/w.npy cannot be written: "), line);
        Path aFile = Files.writeString(dir.resolve("plain"), "x");
        Cli.run("attention", "--weights", HF, INPUT, "--block", "0", "--out", aFile.resolve("a.png").toString())
                .failsWithOneLine(Main.USAGE);
        Cli.run("attention", "--weights", HF, INPUT, "--block", "0", "--out", dir.toString() + "/")
                .failsWithOneLine(Main.USAGE);
        assertEquals(List.of("plain"), names(dir));
    }

    @Test
    void figureWidthsAreBounded() throws Exception {
        for (String w : new String[] {"100000", "16385", String.valueOf(Integer.MAX_VALUE), "99", "-1"}) {
            String line = Cli.run("attention", "--weights", HF, INPUT, "--block", "0", "--width", w, "--out",
                    dir.resolve("a.png").toString()).failsWithOneLine(Main.USAGE);
            assertTrue(line.contains("--width must be in 100..16384 pixels, got " + w), line);
        }
        for (String cmd : new String[] {"ablate", "lens", "dla"}) {
            String line = Cli.run(cmd, "--weights", HF, INPUT, "--width", "100000", "--out",
                    dir.resolve(cmd).toString()).failsWithOneLine(Main.USAGE);
            assertTrue(line.contains("--width must be in 200..16384 pixels"), line);
        }
        String line = Cli.run("experiment", "scale", "--weights", HF, INPUT, "--width", "100000", "--out",
                dir.resolve("exp").toString()).failsWithOneLine(Main.USAGE);
        assertTrue(line.contains("--width must be in 100..16384"), line);
        // a height that follows the width past the limit: one panel a row at the widest width
        line = Cli.run("attention", "--weights", HF, INPUT, "--block", "0", "--columns", "1", "--width", "16384",
                "--out", dir.resolve("tall.png").toString()).failsWithOneLine(Main.USAGE);
        assertTrue(line.startsWith("vitscope: height must be in 1..16384 pixels, got "), line);
        assertEquals(List.of(), names(dir));
    }

    @Test
    void everyFileWritingCommandRefusesAnUnwritableOutBeforeWorking() throws Exception {
        Path aFile = Files.writeString(dir.resolve("plain"), "x");
        String[][] runs = {
            {"capture", "--weights", HF, INPUT, "--call", "blocks.0", "--out", "/proc/c.npz"},
            {"experiment", "scale", "--weights", HF, INPUT, "--out", "/proc/exp"},
            {"experiment", "scale", "--weights", HF, INPUT, "--out", aFile.toString()},
            {"ablate", "--weights", HF, INPUT, "--out", "/proc/abl"},
            {"lens", "--weights", HF, INPUT, "--out", aFile.resolve("lens").toString()},
            {"dla", "--weights", HF, INPUT, "--out", "/proc/dla"},
            {"faithfulness", "--weights", HF, Golden.file("relevance/tiny/faith_input.npy").toString(), "--out",
                "/proc/faith"},
            {"inspect", HF, "--json", "/proc/i.json"},
        };
        for (String[] args : runs) {
            String line = Cli.run(args).failsWithOneLine(Main.USAGE);
            assertTrue(line.contains(" cannot be written: "), String.join(" ", args) + " -> " + line);
        }
        assertEquals(List.of("plain"), names(dir));
    }

    /**
     * The experiment's folder used to be created first and filled file by file, so a figure that failed left
     * scale.csv, scale.json and probabilities.png behind. A width over the limit fails at the first attention
     * grid, after three files were written: the folder must not appear.
     */
    @Test
    void anExperimentThatFailsMidWayLeavesNoFolder() throws Exception {
        DataConfig data = DataConfig.rgb(32, 0.875, DataConfig.Interpolation.BICUBIC,
                DataConfig.IMAGENET_DEFAULT_MEAN, DataConfig.IMAGENET_DEFAULT_STD);
        try (LoadedModel loaded = new LoadedModel("tiny", Golden.model("tiny"), data,
                Models.readLabels(Golden.file("tiny/labels.txt"), 10), "golden")) {
            Classifier classifier = new Classifier(loaded);
            Input input = classifier.read(Golden.file("tiny/input.npy")).get(0);
            ScalingExperiment.Result r = new ScalingExperiment(classifier).run(input, new double[] {1, 3}, 3, -1);
            Path out = dir.resolve("run");
            io.vitscope.InvalidArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                    io.vitscope.InvalidArgumentException.class, () -> r.save(out, classifier, input, 20_000));
            assertEquals("width", e.parameter());
            assertEquals(List.of(), names(dir), "no folder and no staging folder");
            List<Path> written = r.save(out, classifier, input, 400);
            assertEquals(out.resolve("scale.csv"), written.get(0));
            for (Path p : written) {
                assertTrue(Files.isRegularFile(p), p.toString());
            }
            assertEquals(List.of("run"), names(dir));
        }
    }

    @Test
    void outputFilesHaveTheDefaultModeNot0600() throws Exception {
        assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"), "POSIX file modes");
        Path ref = dir.resolve("reference");
        Files.newOutputStream(ref).close();
        Set<PosixFilePermission> expected = Files.getPosixFilePermissions(ref);
        Files.delete(ref);
        Path png = dir.resolve("a.png");
        Path npy = dir.resolve("w.npy");
        Path npz = dir.resolve("c.npz");
        assertEquals(Main.OK, Cli.run("attention", "--weights", HF, INPUT, "--block", "0", "--out", png.toString(),
                "--save-weights", npy.toString()).code());
        assertEquals(Main.OK, Cli.run("capture", "--weights", HF, INPUT, "--call", "blocks.0", "--out",
                npz.toString()).code());
        for (Path p : List.of(png, npy, npz)) {
            assertEquals(expected, Files.getPosixFilePermissions(p), p.toString());
        }
        assertFalse(names(dir).stream().anyMatch(n -> n.startsWith(".")), names(dir).toString());
    }
}
