package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.vitscope.Prerequisites;
import io.vitscope.checkpoint.Models;
import io.vitscope.train.FashionMnist;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TrainEvalCommandTest {

    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {}

    private static Run run(Object command, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(command);
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void trainWritesAModelDirThatEvalReads() throws IOException {
        Prerequisites.require(FashionMnist.isInstalled(FashionMnist.DEFAULT_DIR), "Fashion-MNIST",
                "apt-get install dataset-fashion-mnist");
        Path dir = tmp.resolve("model");
        // 12 blocks as shipped, but 16 wide and 256 images: a couple of seconds.
        Run t = run(new TrainCommand(false), "--limit", "256", "--epochs", "1", "--batch", "64", "--embed-dim", "16",
                "--heads", "2", "--no-test", "--out", dir.toString());
        assertEquals(0, t.code, t.err);
        assertTrue(t.out.contains("epoch  1/1") && t.out.contains("Wrote"), t.out);
        assertTrue(Files.size(dir.resolve("model.safetensors")) > 0);

        JsonObject config = JsonParser.parseString(Files.readString(dir.resolve("config.json"))).getAsJsonObject();
        assertEquals("vit_fashion_mnist", config.get("architecture").getAsString());
        assertEquals(16, config.getAsJsonObject("model_args").get("embed_dim").getAsInt());
        assertEquals(12, config.getAsJsonObject("model_args").get("depth").getAsInt());
        assertEquals("[1,28,28]", config.getAsJsonObject("pretrained_cfg").get("input_size").toString());
        assertEquals(0.286, config.getAsJsonObject("pretrained_cfg").getAsJsonArray("mean").get(0).getAsDouble(), 0);
        assertEquals("Ankle boot", config.getAsJsonArray("label_names").get(9).getAsString());
        assertTrue(config.getAsJsonObject("training").get("command").getAsString()
                .startsWith("scripts/vitscope train --limit 256"), config.toString());

        Run e = run(new EvalCommand(false), "--weights", dir.toString(), "--limit", "300");
        assertEquals(0, e.code, e.err);
        assertTrue(e.out.contains("on 300 Fashion-MNIST test images") && e.out.contains("top-1 ")
                && e.out.contains("top-5 ") && e.out.contains("Ankle boot"), e.out);
    }

    @Test
    void evalWithoutAModelSaysWhatToDo() {
        // Through the root, as users run it: an unusable model folder is an input error (exit 3).
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"eval", "--weights", tmp.resolve("none").toString()},
                new PrintWriter(out), new PrintWriter(err));
        assertEquals(Main.BAD_INPUT, code);
        assertTrue(err.toString().contains("config.json not found") && err.toString().contains("scripts/vitscope train"),
                err.toString());
    }

    /** The tiny run the refusal tests train: 12 blocks of width 16 on 64 images, about a second. */
    private static final String[] TINY_RUN = {"train", "--limit", "64", "--epochs", "1", "--batch", "64",
        "--embed-dim", "16", "--heads", "2", "--no-test", "-q"};

    private static String[] tiny(String... more) {
        String[] all = java.util.Arrays.copyOf(TINY_RUN, TINY_RUN.length + more.length);
        System.arraycopy(more, 0, all, TINY_RUN.length, more.length);
        return all;
    }

    /** A stand-in for a shipped model folder: two files whose bytes must survive. */
    private static Path fakeModel(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), "{\"shipped\": true}\n");
        Files.write(dir.resolve("model.safetensors"), new byte[] {1, 2, 3});
        return dir;
    }

    private static void assertUntouched(Path dir) throws IOException {
        assertEquals("{\"shipped\": true}\n", Files.readString(dir.resolve("config.json")));
        assertTrue(java.util.Arrays.equals(new byte[] {1, 2, 3}, Files.readAllBytes(dir.resolve("model.safetensors"))));
    }

    @Test
    void trainWithoutOutWritesANewFolderNotTheShippedModel() throws IOException {
        Prerequisites.require(FashionMnist.isInstalled(FashionMnist.DEFAULT_DIR), "Fashion-MNIST",
                "apt-get install dataset-fashion-mnist");
        // Issue 11 item 2: `train --epochs 1 --limit 256 --no-test -q` used to replace models/fashion_vit.
        Path shipped = fakeModel(tmp.resolve("models/fashion_vit"));
        String was = System.getProperty(Models.HOME_PROPERTY);
        System.setProperty(Models.HOME_PROPERTY, tmp.toString());
        try {
            Cli c = Cli.run(tiny());
            assertEquals(0, c.code(), c.err());
        } finally {
            if (was == null) {
                System.clearProperty(Models.HOME_PROPERTY);
            } else {
                System.setProperty(Models.HOME_PROPERTY, was);
            }
        }
        assertUntouched(shipped);
        try (var runs = Files.list(tmp.resolve("runs"))) {
            java.util.List<Path> made = runs.toList();
            assertEquals(1, made.size(), made.toString());
            assertTrue(made.get(0).getFileName().toString().startsWith("fashion_vit-"), made.toString());
            assertTrue(Files.size(made.get(0).resolve("model.safetensors")) > 0);
        }
    }

    @Test
    void trainRefusesToReplaceAModelUnlessForced() throws IOException {
        Path dir = fakeModel(tmp.resolve("model"));
        Cli c = Cli.run(tiny("--out", dir.toString()));
        assertEquals(Main.USAGE, c.code(), c.err());
        c.assertNoStackTrace();
        assertEquals("vitscope: --out DIR holds a model already; pass --force to replace it, or choose another folder",
                c.errLines().get(0).replace(dir.toString(), "DIR"));
        assertTrue(c.out().isEmpty(), "refused before training: " + c.out());
        assertUntouched(dir);

        Prerequisites.require(FashionMnist.isInstalled(FashionMnist.DEFAULT_DIR), "Fashion-MNIST",
                "apt-get install dataset-fashion-mnist");
        Cli forced = Cli.run(tiny("--out", dir.toString(), "--force"));
        assertEquals(0, forced.code(), forced.err());
        // The record names the command once, also when run through Main (it said "train train" before).
        assertTrue(Files.readString(dir.resolve("config.json")).contains("\"scripts/vitscope train --limit 64 "),
                Files.readString(dir.resolve("config.json")));
        assertTrue(Files.size(dir.resolve("model.safetensors")) > 3);
        assertTrue(Files.readString(dir.resolve("config.json")).contains("\"architecture\""));
    }

    @Test
    void trainRejectsABadPatchSize() {
        Run t = run(new TrainCommand(false), "--patch-size", "5", "--out", tmp.toString());
        assertEquals(Main.USAGE, t.code, "a flag value the model cannot take is a usage error (was 1 before issue 10)");
        assertTrue(t.err.contains("not a multiple of the patch size 5"), t.err);
    }
}
