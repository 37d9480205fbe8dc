package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.Golden;
import io.vitscope.weights.DType;
import io.vitscope.weights.Npy;
import io.vitscope.weights.NpyArray;
import io.vitscope.weights.Npz;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code attention --mode chefer|grad-rollout|attn-gradcam|integrated-gradients} and {@code faithfulness} end to end on
 * the golden tiny model, against {@code scripts/make_relevance_goldens.py}.
 */
class RelevanceCommandsTest {

    /**
     * The commands load the goldens' own model (a timm hub folder of tiny/timm.safetensors, {@link
     * Golden#tinyTimmHubFolder}) and compute what RelevanceGoldenTest checks through the library, so its derived bound
     * holds here too: float32 rounding through ≤ 2·depth + 3 products of inner length ≤ 96, ≲ 9 · 96 · 2^-24 ≈ 5e-5 of
     * the map's largest magnitude, taken as 2e-4 (a wrong block or head moves the map by 1e-1 of its scale).
     * Integrated gradients' terms cancel, so there the scale is the per-patch sum of their magnitudes
     * ({@code ig_abs.npy}).
     */
    static final double REL = 2e-4;

    @TempDir
    Path dir;

    final CommandRunner cli = new CommandRunner();

    int run(Object command, String... args) {
        String[] all = AttentionCommandTest.concat(new String[] {"--weights",
            Golden.tinyTimmHubFolder(dir.resolve("model")).toString()}, args);
        return cli.run(command, all);
    }

    @ParameterizedTest(name = "{0} image {1} target {2}")
    @CsvSource({
        "chefer, 0, , chefer.npy",
        "chefer, 1, 2, chefer.npy",
        "grad-rollout, 0, , grad_rollout.npy",
        "attn-gradcam, 1, 2, attn_gradcam.npy",
        "integrated-gradients, 0, , integrated_gradients.npy"})
    void savedMapsArePyTorchs(String mode, int image, Integer target, String file) {
        Path weights = dir.resolve("w.npy");
        String[] args = {AttentionCommandTest.INPUT, "--index", "" + image, "--mode", mode, "--out",
            dir.resolve("m.png").toString(), "--width", "300", "--save-weights", weights.toString()};
        if (target != null) {
            args = AttentionCommandTest.concat(args, new String[] {"--target", "" + target});
        }
        assertEquals(0, run(new AttentionCommand(), args), cli.err.toString());
        assertTrue(cli.out.toString().contains("Wrote " + dir.resolve("m.png")), cli.out.toString());

        NpyArray saved = Npy.read(weights);
        assertArrayEquals(new long[] {1, 4, 4}, saved.shape());
        assertEquals(DType.F32, saved.dtype());
        float[] expected = Arrays.copyOfRange(Golden.npy("relevance/tiny/" + file).floats(), image * 16, image * 16 + 16);
        float[] scale = new float[16];
        if (mode.equals("integrated-gradients")) {
            scale = Arrays.copyOfRange(Golden.npy("relevance/tiny/ig_abs.npy").floats(), image * 16, image * 16 + 16);
            assertTrue(cli.out.toString().contains("completeness gap"), cli.out.toString());
        } else {
            float max = 0;
            for (float v : expected) {
                max = Math.max(max, Math.abs(v));
            }
            Arrays.fill(scale, max);
        }
        for (int j = 0; j < 16; j++) {
            double d = Math.abs(saved.floats()[j] - expected[j]);
            assertTrue(d <= REL * scale[j] + 1e-7, mode + " patch " + j + ": " + saved.floats()[j] + " vs " + expected[j]);
        }
        assertTrue(Files.isRegularFile(dir.resolve("m.png")));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--mode chefer --block 1|--block applies to --mode mean, cls and rollout|every block",
        "--mode mean|--block is required|--block 4",
        "--mode chefer --target 10|--target 10 is out of range|0..9",
        "--mode chefer --ig-steps 8|--ig-steps applies to --mode integrated-gradients only|integrated-gradients",
        "--mode attn-gradcam --discard 0.5|--discard applies to --mode rollout and grad-rollout only|grad-rollout",
        "--mode gradcam|--mode must be one of|attn-gradcam",
        "--mode mean --block 0 --target 1|--target and --ig-steps apply to the gradient modes|chefer"})
    void usageErrorsExitTwo(String options, String message, String hint) {
        String[] args = AttentionCommandTest.concat(new String[] {AttentionCommandTest.INPUT, "--out",
            dir.resolve("x.png").toString()}, options.split(" "));
        int code = run(new AttentionCommand(), args);
        String[] lines = cli.errLines();
        assertEquals(1, lines.length, cli.err.toString());
        assertEquals(Main.USAGE, code);
        assertTrue(lines[0].contains(message) && lines[0].contains(hint), lines[0]);
        assertTrue(Files.notExists(dir.resolve("x.png")));
    }

    @Test
    void faithfulnessReproducesPyTorchsCurvesAndWritesItsFiles() throws Exception {
        Path out = dir.resolve("faith");
        String input = Golden.file("relevance/tiny/faith_input.npy").toString();
        assertEquals(0, run(new FaithfulnessCommand(), input, "--methods", "chefer,rollout,random", "--out",
                out.toString()), cli.err.toString());
        String text = cli.out.toString();
        assertTrue(text.contains("6 images") && text.contains("positive AUC") && text.contains("rollout"), text);

        List<String> csv = Files.readAllLines(out.resolve("faithfulness.csv"));
        assertEquals(1 + 3 * 2 * 10, csv.size());
        var curves = Npz.read(Golden.file("relevance/tiny/faith_curves.npz"));
        for (String method : List.of("chefer", "rollout")) {
            for (String direction : List.of("positive", "negative")) {
                double[] expected = curves.get(method + "/" + direction).doubles();
                for (int p = 0; p < 10; p++) {
                    String row = method + "," + direction + "," + (10 * p) + ",";
                    String line = csv.stream().filter(l -> l.startsWith(row)).findFirst().orElseThrow();
                    assertEquals(expected[p], Double.parseDouble(line.substring(row.length())), 1e-6, line);
                }
            }
        }
        assertTrue(Files.readString(out.resolve("faithfulness.json")).contains("\"random\""));
        assertTrue(Files.size(out.resolve("faithfulness.png")) > 5000);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--out OUT|name the images|2",
        "IMG --methods chefer,nope --out OUT|unknown relevance method 'nope'|2",
        "IMG --methods chefer,chefer --out OUT|names a method twice|2",
        "--idx MISSING --out OUT|MISSING|3"})
    void faithfulnessErrors(String options, String message, int code) {
        String img = Golden.file("relevance/tiny/faith_input.npy").toString();
        String missing = dir.resolve("nothing.gz").toString();
        String[] args = options.replace("IMG", img).replace("OUT", dir.resolve("o").toString())
                .replace("MISSING", missing).split(" ");
        assertEquals(code, run(new FaithfulnessCommand(), args), cli.err.toString());
        String[] lines = cli.errLines();
        assertEquals(1, lines.length, cli.err.toString());
        assertTrue(lines[0].contains(message.replace("MISSING", missing)), lines[0]);
    }
}
