package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.Bound;
import io.vitscope.Golden;
import io.vitscope.weights.DType;
import io.vitscope.weights.Npy;
import io.vitscope.weights.NpyArray;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.w3c.dom.Document;

/**
 * {@code vitscope attention} end to end on the golden tiny model (4×4 patch grid, 4 heads, 3 blocks): the weights it
 * saves are PyTorch's, through the model, the probe and the analysis.
 */
class AttentionCommandTest {

    static final String INPUT = Golden.file("tiny/input.npy").toString();
    static final double U = Math.pow(2, -24);

    @TempDir
    Path dir;

    final CommandRunner cli = new CommandRunner();

    /** Runs the command on the goldens' own model (a timm hub folder of tiny/timm.safetensors, LayerNorm eps 1e-6). */
    int attention(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--weights";
        all[1] = Golden.tinyTimmHubFolder(dir.resolve("model")).toString();
        System.arraycopy(args, 0, all, 2, args.length);
        return cli.run(new AttentionCommand(), all);
    }

    @ParameterizedTest(name = "{0} {1} {2} block {3} image {4}")
    @CsvSource({
        "mean, , , 0, 0, patch_mean.npy",
        "mean, , , 2, 1, patch_mean.npy",
        "cls, , , 1, 0, patch_cls.npy",
        "cls, , , 2, 1, patch_cls.npy",
        "rollout, mean, 0, 2, 0, rollout_mean.npy",
        "rollout, mean, 0, 0, 1, rollout_mean.npy",
        "rollout, max, 0, 2, 1, rollout_max.npy",
        "rollout, min, 0, 1, 0, rollout_min.npy",
        "rollout, mean, 0.5, 2, 0, rollout_mean_discard0.5.npy"})
    void savedWeightsArePyTorchsThroughTheProbe(String mode, String fusion, String discard, int block, int image,
                                                String file) {
        Path weights = dir.resolve("w.npy");
        String[] rollout = fusion == null ? new String[0] : new String[] {"--fusion", fusion, "--discard", discard};
        String[] args = concat(new String[] {INPUT, "--index", "" + image, "--block", "" + block, "--mode", mode,
            "--out", dir.resolve("a.png").toString(), "--width", "300", "--save-weights", weights.toString()}, rollout);
        assertEquals(0, attention(args), cli.err.toString());

        NpyArray saved = Npy.read(weights);
        long[] shape = mode.equals("rollout") ? new long[] {1, 4, 4} : new long[] {4, 4, 4}; // [panels, G_h, G_w]
        assertArrayEquals(shape, saved.shape());
        assertEquals(DType.F32, saved.dtype());
        // The saved weights against PyTorch's analysis of the exact attention, within the float32 bound carried from
        // the attention through the analysis (make_goldens.py, io.vitscope.Bound), widened by the analysis' own
        // rounding: at most 2u per block rolled through plus u (a mean rounded to float; see GoldenParityTest).
        String name = "tiny/" + file.replace(".npy", "");
        double used = Bound.of(name).at(block).at(image).plusRelative((2.0 * (block + 1) + 1) * U)
                .check(saved.floats(), mode + " " + fusion + " " + discard + " block " + block + " image " + image);
        System.out.printf("parity command %s %s %s block %d image %d: %.1f%% of the bound%n", mode, fusion, discard,
                block, image, 100 * used);
    }

    @Test
    void headsPickPanelsInTheGivenOrder() {
        Path all = dir.resolve("all.npy");
        Path some = dir.resolve("some.npy");
        assertEquals(0, attention(INPUT, "--block", "1", "--out", dir.resolve("a.png").toString(), "--width", "300",
                "--save-weights", all.toString()), cli.err.toString());
        assertEquals(0, attention(INPUT, "--block", "1", "--out", dir.resolve("b.png").toString(), "--width", "300",
                "--heads", "3,1", "--save-weights", some.toString()), cli.err.toString());
        float[] a = Npy.read(all).floats();
        float[] s = Npy.read(some).floats();
        assertArrayEquals(new long[] {2, 4, 4}, Npy.read(some).shape());
        assertArrayEquals(Arrays.copyOfRange(a, 3 * 16, 4 * 16), Arrays.copyOfRange(s, 0, 16), 0f); // same forward
        assertArrayEquals(Arrays.copyOfRange(a, 16, 32), Arrays.copyOfRange(s, 16, 32), 0f);
    }

    @Test
    void pngHasTheRequestedWidthAndAHeightFromTheLayout() throws Exception {
        Path wide = dir.resolve("wide.png");
        Path tall = dir.resolve("tall.png");
        assertEquals(0, attention(INPUT, "--block", "0", "--out", wide.toString(), "--width", "640"), cli.err.toString());
        assertTrue(cli.out.toString().contains("4 panels on a 4x4 patch grid"), cli.out.toString());
        assertEquals(0, attention(INPUT, "--block", "0", "--out", tall.toString(), "--width", "640", "--columns", "2"));
        BufferedImage w = ImageIO.read(wide.toFile());
        BufferedImage t = ImageIO.read(tall.toFile());
        assertEquals(640, w.getWidth());
        assertEquals(640, t.getWidth());
        // 4 square panels in one row of 4 vs two rows of 2: the second is about twice as tall (each panel twice as
        // wide, and twice as many rows); titles and bars add a fixed amount, hence the loose bounds.
        assertTrue(w.getHeight() > 640 / 4 && w.getHeight() < 640 / 2, "height " + w.getHeight());
        assertTrue(t.getHeight() > 2 * w.getHeight(), w.getHeight() + " vs " + t.getHeight());
    }

    @Test
    void imageFilesWorkAndNonSquareImagesAreCropped() throws Exception {
        Path out = dir.resolve("plot.png");
        BufferedImage photo = new BufferedImage(60, 40, BufferedImage.TYPE_INT_RGB); // 3:2, a gradient
        for (int y = 0; y < 40; y++) {
            for (int x = 0; x < 60; x++) {
                photo.setRGB(x, y, (x * 4) << 16 | (y * 6) << 8 | 128);
            }
        }
        Path image = dir.resolve("photo.png");
        ImageIO.write(photo, "png", image.toFile());
        assertEquals(0, attention(image.toString(), "--block", "2", "--mode", "cls", "--out", out.toString(), "--width", "400",
                "--scale-attn-logits", "3"), cli.err.toString());
        assertEquals(400, ImageIO.read(out.toFile()).getWidth());
        assertTrue(cli.out.toString().contains("top-1 "), cli.out.toString());
    }

    @Test
    void svgFormatFromTheExtensionOrTheOption() throws Exception {
        Path svg = dir.resolve("a.svg");
        assertEquals(0, attention(INPUT, "--block", "2", "--mode", "rollout", "--out", svg.toString()),
                cli.err.toString());
        Path forced = dir.resolve("b.image");
        assertEquals(0, attention(INPUT, "--block", "2", "--out", forced.toString(), "--format", "svg"),
                cli.err.toString());
        for (Path p : new Path[] {svg, forced}) {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            Document doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(Files.readAllBytes(p)));
            assertEquals("svg", doc.getDocumentElement().getTagName());
            assertTrue(Files.readString(p).contains("input.npy[0]"), "the title names the image");
        }
        assertTrue(Files.readString(svg).contains("rollout through blocks 0–2 (mean fusion)"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--block 3|is out of range|0..2",
        "--block -1|is out of range|0..2",
        "--block 0 --heads 4|--heads 4 is out of range|0..3",
        "--block 0 --heads 1,x|--heads must be 'all'|0,3,5",
        "--block 0 --heads 1,1|twice|1",
        "--block 0 --mode rollout --heads 1|--heads applies|--fusion",
        "--block 0 --fusion max|--mode rollout only|--fusion",
        "--block 0 --mode rollout --discard 1|--discard must be in [0, 1)|1.0",
        "--block 0 --index 2|--index 2 is out of range|0..1",
        "--block 0 --scale-attn-logits 0|positive|0"})
    void usageErrorsExitTwoWithOneLine(String options, String message, String hint) {
        String[] args = concat(new String[] {INPUT, "--out", dir.resolve("x.png").toString()}, options.split(" "));
        assertEquals(Main.USAGE, attention(args));
        String[] lines = cli.errLines();
        assertEquals(1, lines.length, cli.err.toString());
        assertTrue(lines[0].startsWith("vitscope: ") && lines[0].contains(message) && lines[0].contains(hint),
                lines[0]);
        assertTrue(Files.notExists(dir.resolve("x.png")));
    }

    @Test
    void unknownOutputExtensionSaysWhatToDo() {
        assertEquals(Main.USAGE, attention(INPUT, "--block", "0", "--out", dir.resolve("x.jpg").toString()));
        assertTrue(cli.err.toString().contains("--format png|svg"), cli.err.toString());
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
