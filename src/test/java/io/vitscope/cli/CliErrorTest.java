package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.Golden;
import io.vitscope.hub.ModelCache;
import io.vitscope.image.ImageReader;
import io.vitscope.model.Presets;
import io.vitscope.weights.Npy;
import io.vitscope.weights.NpyArray;
import io.vitscope.weights.Safetensors;
import io.vitscope.weights.SafetensorsWriter;
import io.vitscope.weights.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's error contract end to end through {@link Main#run}: usage errors exit 2, unusable input files exit 3
 * with one line on stderr naming the file and the problem, and a stack trace only with {@code --verbose}.
 * The model is the golden tiny one as a Hugging Face folder (32×32 inputs, 10 classes), so each case takes
 * milliseconds after the engine has started.
 */
class CliErrorTest {

    static final Path IMAGES = Path.of("src/test/resources/images");
    static final Path GOOD = IMAGES.resolve("chelsea_200x150.jpg");

    @TempDir
    Path tmp;

    static String hf() {
        return Golden.dir("tiny/hf").toString();
    }

    /** {@code predict --weights tiny/hf FILE}, expected to fail with exit 3 and one line naming {@code file}. */
    private static String refusedInput(Path file, String... extraArgs) {
        String[] args = concat(new String[] {"predict", "--weights", hf()}, extraArgs, new String[] {file.toString()});
        String line = Cli.run(args).failsWithOneLine(Main.BAD_INPUT);
        assertTrue(line.startsWith("vitscope: " + file + ": "), "the line names the file first: " + line);
        return line;
    }

    private static void assertMentions(String line, String... words) {
        for (String w : words) {
            assertTrue(line.contains(w), "should mention '" + w + "': " + line);
        }
    }

    private static String[] concat(String[]... parts) {
        return Arrays.stream(parts).flatMap(Arrays::stream).toArray(String[]::new);
    }

    // ------------------------------------------------------------------------------------------ usage: exit 2

    @Test
    void unknownFlagIsAUsageError() {
        Cli r = Cli.run("predict", "--weights", hf(), "--colour", "red", GOOD.toString());
        assertEquals(Main.USAGE, r.code());
        assertMentions(r.errLines().get(0), "Unknown option", "--colour");
        assertMentions(r.errLines().get(1), "Run 'vitscope predict --help' for usage.");
        r.assertNoStackTrace();
        assertEquals(Main.USAGE, Cli.run("--no-such-flag").code());
        assertEquals(Main.USAGE, Cli.run("no-such-command").code());
    }

    @Test
    void unknownPresetIsAUsageErrorListingTheValidOnes() {
        String line = Cli.run("predict", "--model", "vit_huge_patch99", "--weights", hf(), GOOD.toString())
                .failsWithOneLine(Main.USAGE);
        assertMentions(line, "vit_huge_patch99");
        for (String name : Presets.names()) {
            assertMentions(line, name);
        }
    }

    @Test
    void missingImageArgumentIsAUsageError() {
        Cli r = Cli.run("predict", "--weights", hf());
        assertEquals(Main.USAGE, r.code());
        assertMentions(r.err(), "Missing required parameter: 'IMAGE'");
        r.assertNoStackTrace();
    }

    @Test
    void nonPositiveTopOrBatchIsAUsageError() {
        assertMentions(Cli.run("predict", "--weights", hf(), "--top", "0", GOOD.toString())
                .failsWithOneLine(Main.USAGE), "--top must be at least 1, got 0");
        assertMentions(Cli.run("predict", "--weights", hf(), "--batch", "-3", GOOD.toString())
                .failsWithOneLine(Main.USAGE), "--batch must be at least 1");
        assertEquals(Main.USAGE, Cli.run("predict", "--weights", hf(), "--top", "five", GOOD.toString()).code());
    }

    // ------------------------------------------------------------------------------------------ images: exit 3

    @Test
    void missingOrUnreadableImage() throws IOException {
        assertMentions(refusedInput(tmp.resolve("nowhere.jpg")), "no such file");
        // As root every permission check passes, so an unreadable file is one whose read fails in the kernel.
        Path mem = Path.of("/proc/self/mem");
        if (Files.exists(mem)) {
            Path link = Files.createSymbolicLink(tmp.resolve("unreadable.jpg"), mem);
            assertMentions(refusedInput(link), "cannot read the file");
            Files.delete(link);
        }
    }

    @Test
    void emptyTruncatedAndNotAnImage() throws IOException {
        Path empty = Files.write(tmp.resolve("empty.png"), new byte[0]);
        assertMentions(refusedInput(empty), "the file is empty");

        byte[] jpg = Files.readAllBytes(GOOD);
        Path cut = Files.write(tmp.resolve("cut.jpg"), Arrays.copyOf(jpg, jpg.length / 2));
        assertMentions(refusedInput(cut), "truncated");
        byte[] png = Files.readAllBytes(IMAGES.resolve("chelsea_200x150.png"));
        Path cutPng = Files.write(tmp.resolve("cut.png"), Arrays.copyOf(png, png.length * 2 / 3));
        assertMentions(refusedInput(cutPng), "PNG");

        Path text = Files.writeString(tmp.resolve("notes.png"), "these are my holiday notes\n");
        assertMentions(refusedInput(text), "the file starts with bytes 74 68 65 73");
    }

    @Test
    void wrongExtensionIsDecodedByContentAndRefusedWhenTheContentIsNoImage() throws IOException {
        Path pngAsJpg = Files.copy(IMAGES.resolve("chelsea_200x150.png"), tmp.resolve("really_a_png.jpg"));
        assertEquals(Main.OK, Cli.run("predict", "--weights", hf(), pngAsJpg.toString()).code(),
                "a PNG named .jpg is read as the PNG it is");
        Path npyAsJpg = Files.copy(Golden.file("tiny/input.npy"), tmp.resolve("tensor.jpg"));
        assertMentions(refusedInput(npyAsJpg), "a .npy tensor file, not an image");
        Path webp = Files.write(tmp.resolve("photo.jpg"), "RIFF\0\0\0\0WEBPVP8 ".getBytes(StandardCharsets.ISO_8859_1));
        assertMentions(refusedInput(webp), "WebP", "convert it to PNG");
    }

    static byte[] pngClaiming(int width, int height) throws IOException {
        byte[] png = Files.readAllBytes(IMAGES.resolve("tiny_20x15.png"));
        ByteBuffer.wrap(png, 16, 8).putInt(width).putInt(height);
        CRC32 crc = new CRC32();
        crc.update(png, 12, 17);
        ByteBuffer.wrap(png, 29, 4).putInt((int) crc.getValue());
        return png;
    }

    static byte[] jpegClaiming(int width, int height) {
        // SOI, then a baseline frame header (SOF0) of 8-bit samples and 3 components, then EOI: no pixel data at all.
        ByteBuffer b = ByteBuffer.allocate(2 + 19 + 2);
        b.put((byte) 0xFF).put((byte) 0xD8);
        b.put((byte) 0xFF).put((byte) 0xC0).putShort((short) 17).put((byte) 8);
        b.putShort((short) height).putShort((short) width).put((byte) 3);
        for (int c = 1; c <= 3; c++) {
            b.put((byte) c).put((byte) 0x11).put((byte) 0);
        }
        b.put((byte) 0xFF).put((byte) 0xD9);
        return b.array();
    }

    @Test
    void absurdDimensionsAreRefusedFromTheHeaderBeforeDecoding() throws IOException {
        Path png = Files.write(tmp.resolve("bomb.png"), pngClaiming(60000, 60000));
        Path jpg = Files.write(tmp.resolve("bomb.jpg"), jpegClaiming(60000, 60000));
        // Decoding 3.6 gigapixels would take minutes and gigabytes; refusing from the header takes no time.
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            assertMentions(refusedInput(png), "PNG header declares 60000x60000", "above the limit",
                    "-D" + ImageReader.MAX_PIXELS_PROPERTY + "=N");
            assertMentions(refusedInput(jpg), "JPEG header declares 60000x60000", "above the limit");
        });
    }

    @Test
    void thePixelLimitIsOverridable() {
        String old = System.getProperty(ImageReader.MAX_PIXELS_PROPERTY);
        try {
            System.setProperty(ImageReader.MAX_PIXELS_PROPERTY, "29999"); // chelsea is 200x150 = 30,000 pixels
            assertMentions(refusedInput(GOOD), "200x150 = 30000 pixels, above the limit of 29999");
            System.setProperty(ImageReader.MAX_PIXELS_PROPERTY, "30000");
            assertEquals(Main.OK, Cli.run("predict", "--weights", hf(), GOOD.toString()).code());
            System.setProperty(ImageReader.MAX_PIXELS_PROPERTY, "lots");
            assertMentions(Cli.run("predict", "--weights", hf(), GOOD.toString()).failsWithOneLine(Main.USAGE),
                    "-Dvitscope.maxImagePixels=lots is not a whole number");
        } finally {
            if (old == null) {
                System.clearProperty(ImageReader.MAX_PIXELS_PROPERTY);
            } else {
                System.setProperty(ImageReader.MAX_PIXELS_PROPERTY, old);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ tensors: exit 3

    @Test
    void npyOfTheWrongShapeOrDtype() throws IOException {
        Path small = tmp.resolve("small.npy");
        Npy.write(small, new long[] {1, 3, 16, 16}, new float[3 * 16 * 16]);
        assertMentions(refusedInput(small), "shape [1, 3, 16, 16]", "the model takes [3, 32, 32] or [N, 3, 32, 32]");
        Path flat = tmp.resolve("flat.npy");
        Npy.write(flat, new long[] {3 * 32 * 32}, new float[3 * 32 * 32]);
        assertMentions(refusedInput(flat), "shape [3072]");
        Path ints = tmp.resolve("ints.npy");
        Npy.write(ints, NpyArray.ofInts(new long[] {3, 32, 32}, new int[3 * 32 * 32]));
        assertMentions(refusedInput(ints), "int32", "float32");
        Path nan = tmp.resolve("nan.npy");
        float[] values = new float[3 * 32 * 32];
        values[77] = Float.NaN;
        Npy.write(nan, new long[] {3, 32, 32}, values);
        assertMentions(refusedInput(nan), "NaN");
        Path garbage = Files.writeString(tmp.resolve("garbage.npy"), "not numpy");
        refusedInput(garbage);
    }

    // ------------------------------------------------------------------------------------------ weights: exit 3

    /** A copy of the golden HF folder whose model.safetensors is replaced by {@code weights}. */
    private Path hfWith(byte[] weights) throws IOException {
        Path dir = Files.createTempDirectory(tmp, "hf");
        for (String f : new String[] {"config.json", "preprocessor_config.json"}) {
            Files.copy(Golden.dir("tiny/hf").resolve(f), dir.resolve(f));
        }
        Files.write(dir.resolve("model.safetensors"), weights);
        return dir;
    }

    private static byte[] goldenWeights() throws IOException {
        return Files.readAllBytes(Golden.dir("tiny/hf").resolve("model.safetensors"));
    }

    /** {@code predict --weights W image}, failing with exit 3 and one line naming {@code named}. */
    private static String refusedWeights(Path weights, Path named, String... extraArgs) {
        String[] args = concat(new String[] {"predict", "--weights", weights.toString()}, extraArgs,
                new String[] {GOOD.toString()});
        String line = Cli.run(args).failsWithOneLine(Main.BAD_INPUT);
        assertTrue(line.startsWith("vitscope: " + named + ": "), "the line names " + named + " first: " + line);
        return line;
    }

    @Test
    void weightsMissingOrTruncated() throws IOException {
        Path missing = tmp.resolve("model.safetensors");
        assertMentions(refusedWeights(missing, missing), "no such file");
        byte[] w = goldenWeights();
        Path dir = hfWith(Arrays.copyOf(w, w.length - 1000));
        assertMentions(refusedWeights(dir, dir.resolve("model.safetensors")), "truncated");
        Path stub = hfWith(Arrays.copyOf(w, 5));
        assertMentions(refusedWeights(stub, stub.resolve("model.safetensors")), "shorter than the 8-byte header");
    }

    @Test
    void weightsWithAMalformedHeader() throws IOException {
        byte[] w = goldenWeights();
        long headerLength = ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(w, 8, (int) headerLength, StandardCharsets.UTF_8);
        // Drop the colon after the first "dtype" and pad with a space: same length, broken JSON.
        String broken = header.replaceFirst("\"dtype\":", "\"dtype\" ");
        byte[] bad = w.clone();
        System.arraycopy(broken.getBytes(StandardCharsets.UTF_8), 0, bad, 8, (int) headerLength);
        Path dir = hfWith(bad);
        assertMentions(refusedWeights(dir, dir.resolve("model.safetensors")), "header is not valid JSON");

        byte[] huge = w.clone();
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40);
        Path dir2 = hfWith(huge);
        assertMentions(refusedWeights(dir2, dir2.resolve("model.safetensors")), "header length 1099511627776",
                "limit");

        byte[] unknownDtype = w.clone();
        String f99 = header.replaceFirst("\"F32\"", "\"F99\"");
        System.arraycopy(f99.getBytes(StandardCharsets.UTF_8), 0, unknownDtype, 8, (int) headerLength);
        Path dir3 = hfWith(unknownDtype);
        assertMentions(refusedWeights(dir3, dir3.resolve("model.safetensors")), "unknown dtype 'F99'", "tensor '");
    }

    @Test
    void weightsOfAnotherArchitectureAreNamedTensorByTensor() {
        Path timm = Golden.file("tiny/timm.safetensors");
        assertMentions(refusedWeights(timm, timm, "--model", "vit_tiny_patch16_224"),
                "does not fit vit_tiny_patch16_224", "pos_embed is (1, 17, 32) in the file, the model needs (1, 197, 192)",
                "missing (blocks.3.");
    }

    @Test
    void weightsWithNaNNameTheTensor() throws IOException {
        Path src = Golden.dir("tiny/hf").resolve("model.safetensors");
        String poisoned = "vit.encoder.layer.1.attention.attention.key.weight";
        Path dir = Files.createTempDirectory(tmp, "nan");
        for (String f : new String[] {"config.json", "preprocessor_config.json"}) {
            Files.copy(Golden.dir("tiny/hf").resolve(f), dir.resolve(f));
        }
        try (Safetensors st = Safetensors.open(src)) {
            SafetensorsWriter w = new SafetensorsWriter();
            for (TensorInfo t : st.tensors()) {
                if (t.name().equals(poisoned)) {
                    FloatBuffer fb = st.readFloats(t.name());
                    float[] v = new float[fb.remaining()];
                    fb.get(v);
                    v[5] = Float.NaN;
                    v[9] = Float.POSITIVE_INFINITY;
                    w.add(t.name(), t.shape(), v);
                } else {
                    w.add(t.name(), st.sources().get(t.name()));
                }
            }
            w.write(dir.resolve("model.safetensors"));
        }
        assertMentions(refusedWeights(dir, dir.resolve("model.safetensors")),
                "tensor '" + poisoned + "' holds 1 NaN and 1 infinite values", "first at flat index 5");
    }

    @Test
    void malformedModelConfig() throws IOException {
        Path dir = hfWith(goldenWeights());
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"vit\", \"hidden_size\": ");
        assertMentions(refusedWeights(dir, dir.resolve("config.json")), "not valid JSON");
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"swin\"}");
        assertMentions(refusedWeights(dir, dir.resolve("config.json")), "model_type", "swin");
    }

    @Test
    void labelsFileWithTheWrongLineCount() throws IOException {
        Path labels = Files.writeString(tmp.resolve("labels.txt"), "cat\ndog\nbird\n");
        String line = Cli.run("predict", "--weights", hf(), "--labels", labels.toString(), GOOD.toString())
                .failsWithOneLine(Main.BAD_INPUT);
        assertMentions(line, labels.toString(), "has 3 lines but the model has 10 classes");
        Path ok = Files.writeString(tmp.resolve("ten.txt"), "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n");
        assertEquals(Main.OK, Cli.run("predict", "--weights", hf(), "--labels", ok.toString(), GOOD.toString()).code(),
                "trailing blank lines are not classes");
    }

    @Test
    void presetWithoutCachedWeightsSaysHowToFetchThem() throws IOException {
        Path home = Files.createDirectory(tmp.resolve("empty-home"));
        String old = System.getProperty(ModelCache.PROPERTY);
        System.setProperty(ModelCache.PROPERTY, home.toString());
        try {
            String line = Cli.run("predict", "--model", "vit_base_patch16_224", GOOD.toString())
                    .failsWithOneLine(Main.BAD_INPUT);
            assertMentions(line, "No weights for vit_base_patch16_224 in " + home.resolve("models"),
                    "Get them with: scripts/vitscope fetch vit_base_patch16_224.orig_in21k_ft_in1k ",
                    "(or pass --weights FILE)");
        } finally {
            if (old == null) {
                System.clearProperty(ModelCache.PROPERTY);
            } else {
                System.setProperty(ModelCache.PROPERTY, old);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ --verbose

    @Test
    void stackTraceOnlyWithVerbose() {
        Path missing = tmp.resolve("gone.safetensors");
        Cli quiet = Cli.run("predict", "--weights", missing.toString(), GOOD.toString());
        quiet.failsWithOneLine(Main.BAD_INPUT);
        Cli verbose = Cli.run("predict", "--verbose", "--weights", missing.toString(), GOOD.toString());
        assertEquals(Main.BAD_INPUT, verbose.code());
        assertTrue(verbose.err().startsWith(quiet.err()), "the same first line: " + verbose.err());
        assertTrue(verbose.err().contains("InvalidInputException") && verbose.err().contains("\tat io.vitscope."),
                "a stack trace with --verbose: " + verbose.err());
    }

    @Test
    void unreadableFolderOfImages() throws IOException {
        Path none = Files.createDirectory(tmp.resolve("no-images"));
        Files.writeString(none.resolve("readme.txt"), "nothing here");
        assertMentions(refusedInput(none), "the folder holds no images");
    }
}
