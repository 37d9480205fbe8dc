package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.vitscope.Bound;
import io.vitscope.Golden;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.weights.Npy;
import io.vitscope.weights.NpyArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code predict}'s good paths through {@link Main#run}: the text and JSON formats, {@code --dump}, and batch runs
 * over folders that mix good and bad files. Model: the golden tiny Hugging Face folder (10 made-up classes).
 */
class PredictOutputTest {

    static final Path IMAGES = CliErrorTest.IMAGES;
    static final List<String> LABELS = List.of("aardvark", "bicycle", "cumulus", "dulcimer", "espresso", "fjord",
            "gazebo", "harmonica", "iguana", "jackfruit");

    @TempDir
    Path tmp;

    static String hf() {
        return CliErrorTest.hf();
    }

    /** Asserts k lines of {@code label<TAB>probability}, known labels, probabilities in (0, 1] and descending. */
    private static void assertTopLines(List<String> lines, int k) {
        assertEquals(k, lines.size(), "lines: " + lines);
        double previous = 1;
        for (String line : lines) {
            String[] parts = line.split("\t", -1);
            assertEquals(2, parts.length, "label<TAB>probability: '" + line + "'");
            assertTrue(LABELS.contains(parts[0]), "a class name: " + parts[0]);
            double p = Double.parseDouble(parts[1]);
            assertTrue(p > 0 && p <= previous, "probabilities descend: " + lines);
            previous = p;
        }
    }

    @Test
    void textIsLabelTabProbabilityWithoutHeaderForOneImage() {
        Cli r = Cli.run("predict", "--weights", hf(), "--top", "3", CliErrorTest.GOOD.toString());
        assertEquals(Main.OK, r.code(), r.err());
        assertEquals("", r.err(), "nothing on stderr on success");
        assertTopLines(r.outLines(), 3);
        assertTopLines(Cli.run("predict", "--weights", hf(), "--top", "50", CliErrorTest.GOOD.toString()).outLines(),
                10); // --top beyond the class count gives every class
    }

    @Test
    void textHasAHeaderPerImageWhenSeveral() {
        Path a = IMAGES.resolve("chelsea_200x150.jpg");
        Path b = IMAGES.resolve("coffee_150x260.jpg");
        Cli r = Cli.run("predict", "--weights", hf(), "--top", "2", "--batch", "1", a.toString(), b.toString());
        assertEquals(Main.OK, r.code(), r.err());
        List<String> lines = r.outLines();
        assertEquals(6, lines.size(), r.out());
        assertEquals("# " + a, lines.get(0));
        assertTopLines(lines.subList(1, 3), 2);
        assertEquals("# " + b, lines.get(3));
        assertTopLines(lines.subList(4, 6), 2);
        // The batch size changes how images are grouped into forwards, never what is printed (≤ 1e-6 apart: a
        // different batch may sum in another order; here the text must be identical or the numbers within 1e-6).
        Cli batched = Cli.run("predict", "--weights", hf(), "--top", "2", "--batch", "8", a.toString(), b.toString());
        assertSameNumbers(lines, batched.outLines());
    }

    private static void assertSameNumbers(List<String> expected, List<String> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            String[] e = expected.get(i).split("\t");
            String[] a = actual.get(i).split("\t");
            assertEquals(e[0], a[0]);
            if (e.length == 2) {
                assertEquals(Double.parseDouble(e[1]), Double.parseDouble(a[1]), 1e-6, expected.get(i));
            }
        }
    }

    @Test
    void jsonLinesParseWithGson() {
        Path npy = Golden.file("tiny/input.npy");
        Cli r = Cli.run("predict", "--weights", hf(), "--format", "json", "--top", "4", CliErrorTest.GOOD.toString(),
                npy.toString());
        assertEquals(Main.OK, r.code(), r.err());
        List<String> lines = r.outLines();
        assertEquals(3, lines.size(), "one line per image; the .npy holds 2: " + r.out());
        List<String> images = List.of(CliErrorTest.GOOD.toString(), npy + "[0]", npy + "[1]");
        for (int i = 0; i < 3; i++) {
            JsonObject o = JsonParser.parseString(lines.get(i)).getAsJsonObject();
            assertEquals(List.of("image", "model", "predictions"), List.copyOf(o.keySet()));
            assertEquals(images.get(i), o.get("image").getAsString());
            assertEquals("hf", o.get("model").getAsString(), "an HF folder's model is named after the folder");
            JsonArray preds = o.getAsJsonArray("predictions");
            assertEquals(4, preds.size());
            double previous = 1;
            for (int rank = 1; rank <= 4; rank++) {
                JsonObject p = preds.get(rank - 1).getAsJsonObject();
                assertEquals(List.of("rank", "index", "label", "probability"), List.copyOf(p.keySet()));
                assertEquals(rank, p.get("rank").getAsInt());
                int index = p.get("index").getAsInt();
                assertEquals(LABELS.get(index), p.get("label").getAsString());
                double prob = p.get("probability").getAsDouble();
                assertTrue(prob > 0 && prob <= previous);
                previous = prob;
            }
        }
    }

    @Test
    void dumpWritesTheInputsTheClassifierMakesAndTheGoldenLogits() throws IOException {
        Path dir = tmp.resolve("dump");
        Path image = IMAGES.resolve("astronaut_257x199.png");
        Path npy = Golden.file("tiny/input.npy");
        Cli r = Cli.run("predict", "--weights", hf(), "--dump", dir.toString(), "--batch", "2", npy.toString(),
                image.toString());
        assertEquals(Main.OK, r.code(), r.err());
        NpyArray input = Npy.read(dir.resolve("input.npy"));
        NpyArray logits = Npy.read(dir.resolve("logits.npy"));
        assertArrayEquals(new long[] {3, 3, 32, 32}, input.shape(), "[N, C, H, W]");
        assertArrayEquals(new long[] {3, 10}, logits.shape(), "[N, K]");
        int per = 3 * 32 * 32;
        float[] in = input.floats();
        assertArrayEquals(Golden.npy("tiny/input.npy").floats(), Arrays.copyOf(in, 2 * per),
                "a .npy input reaches the model unchanged");
        try (LoadedModel loaded = Models.load(null, Golden.dir("tiny/hf"))) {
            List<Input> made = new Classifier(loaded).read(image);
            assertArrayEquals(made.get(0).tensor(), Arrays.copyOfRange(in, 2 * per, 3 * per),
                    "the image's tensor is exactly what Classifier makes");
        }
        // The two golden images' logits, within the derived float32 bound (io.vitscope.Bound).
        Bound.of("tiny/logits_hf").check(Arrays.copyOf(logits.floats(), 20), "logits.npy rows 0-1");
    }

    @Test
    void anUnwritableDumpFolderIsAUsageErrorBeforeAnyPrediction() throws IOException {
        Path file = Files.writeString(tmp.resolve("plain.txt"), "a file, not a folder");
        for (Path dump : List.of(file, file.resolve("sub"), Path.of("/proc/vitscope-dump"))) {
            Cli r = Cli.run("predict", "--weights", hf(), "--dump", dump.toString(), IMAGES.toString());
            String line = r.failsWithOneLine(Main.USAGE);
            assertTrue(line.startsWith("vitscope: --dump " + dump + " "), line);
            assertEquals("", r.out(), "refused before the first image was predicted");
        }
    }

    // ------------------------------------------------------------------------------------------ batch runs

    /** A folder of the good images a_*.png, c_*.jpg and bad files b_empty.png, d_cut.jpg, between them. */
    private Path mixedFolder() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("mixed"));
        Files.copy(IMAGES.resolve("tiny_20x15.png"), dir.resolve("a_tiny.png"));
        Files.write(dir.resolve("b_empty.png"), new byte[0]);
        Files.copy(IMAGES.resolve("chelsea_200x150.jpg"), dir.resolve("c_chelsea.jpg"));
        byte[] jpg = Files.readAllBytes(IMAGES.resolve("coffee_150x260.jpg"));
        Files.write(dir.resolve("d_cut.jpg"), Arrays.copyOf(jpg, jpg.length / 3));
        Files.copy(IMAGES.resolve("gray_97x75.png"), dir.resolve("e_gray.png"));
        Files.writeString(dir.resolve("notes.txt"), "not an image ending: skipped when listing the folder");
        return dir;
    }

    private static List<String> headers(Cli r) {
        return r.outLines().stream().filter(l -> l.startsWith("# ")).map(l -> l.substring(2)).toList();
    }

    @Test
    void batchRunKeepsGoingPastBadFilesAndExits3AtTheEnd() throws IOException {
        Path dir = mixedFolder();
        Cli r = Cli.run("predict", "--weights", hf(), "--top", "1", "--batch", "2", dir.toString());
        assertEquals(Main.BAD_INPUT, r.code());
        r.assertNoStackTrace();
        assertEquals(List.of(dir.resolve("a_tiny.png").toString(), dir.resolve("c_chelsea.jpg").toString(),
                dir.resolve("e_gray.png").toString()), headers(r), "every good file, in order");
        assertEquals(6, r.outLines().size(), r.out());
        List<String> err = r.errLines();
        assertEquals(3, err.size(), r.err());
        assertTrue(err.get(0).startsWith("vitscope: " + dir.resolve("b_empty.png") + ": the file is empty"), err.get(0));
        assertTrue(err.get(1).startsWith("vitscope: " + dir.resolve("d_cut.jpg") + ": "), err.get(1));
        assertTrue(err.get(1).contains("truncated"), err.get(1));
        assertEquals("vitscope: 2 of 5 files could not be used", err.get(2));
    }

    @Test
    void failFastStopsAtTheFirstBadFileWhateverTheBatchSize() throws IOException {
        Path dir = mixedFolder();
        for (String batch : new String[] {"1", "8"}) {
            Cli r = Cli.run("predict", "--weights", hf(), "--top", "1", "--batch", batch, "--fail-fast",
                    dir.toString());
            assertEquals(Main.BAD_INPUT, r.code());
            assertEquals(List.of(dir.resolve("a_tiny.png").toString()), headers(r),
                    "the file before the bad one is predicted, nothing after it (batch " + batch + ")");
            String line = r.failsWithOneLine(Main.BAD_INPUT);
            assertTrue(line.startsWith("vitscope: " + dir.resolve("b_empty.png") + ": the file is empty"), line);
        }
    }

    @Test
    void everyTestImageKindPredictsThroughTheCli() throws IOException {
        // 16-bit, gray, bilevel, gray+alpha, palette (PNG and BMP), RGBA, CMYK JPEG, EXIF-rotated, animated GIF,
        // progressive and 4:4:4 JPEGs: all end as a prediction.
        List<Path> all;
        try (Stream<Path> s = Files.list(IMAGES)) {
            all = s.sorted().toList();
        }
        Cli r = Cli.run("predict", "--weights", hf(), "--top", "1", IMAGES.toString());
        assertEquals(Main.OK, r.code(), r.err());
        List<String> expected = new ArrayList<>();
        for (Path p : all) {
            expected.add(p.toString());
        }
        assertEquals(expected, headers(r));
        assertFalse(r.out().contains("NaN"), r.out());
    }
}
