package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.Golden;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Engine-side fixes of issue 11 seen through the commands (cases 10, 13's resize sibling, 15's '(root)'). */
class EngineReliabilityCliTest {

    @TempDir
    Path tmp;

    @Test
    void classNamesWithNewlinesAndTabsKeepOnePredictionPerLine() throws IOException {
        Path hf = Files.createDirectory(tmp.resolve("hf"));
        for (String f : new String[] {"model.safetensors", "preprocessor_config.json"}) {
            Files.copy(Golden.dir("tiny/hf").resolve(f), hf.resolve(f));
        }
        String config = Files.readString(Golden.dir("tiny/hf").resolve("config.json"));
        Files.writeString(hf.resolve("config.json"), config.replace("\"aardvark\"", "\"aard\\nvark\"")
                .replace("\"bicycle\"", "\"bi\\tcycle\\r\""));
        String image = CliErrorTest.GOOD.toString();
        Cli plain = Cli.run("predict", "--weights", CliErrorTest.hf(), "--top", "10", image);
        Cli odd = Cli.run("predict", "--weights", hf.toString(), "--top", "10", image);
        assertEquals(Main.OK, odd.code(), odd.err());
        // Before: each newline in a name added a line, so --top 10 printed more lines than 10 predictions.
        assertEquals(plain.outLines().size(), odd.outLines().size(), odd.out());
        assertTrue(odd.out().contains("aard\\nvark") && odd.out().contains("bi\\tcycle\\r"), odd.out());
    }

    @Test
    void captureAcceptsTheRootUnderTheNameItListsItBy() {
        Path out = tmp.resolve("root.npz");
        Cli r = Cli.run("capture", "--weights", CliErrorTest.hf(), "--call", "(root)", "--out", out.toString(),
                CliErrorTest.GOOD.toString());
        // Before: "No module at path '(root)'. Valid paths: (root), patch_embed, ..."
        assertEquals(Main.OK, r.code(), r.err());
        assertTrue(Files.isRegularFile(out));
        assertTrue(r.out().startsWith("(root) (VisionTransformer)"), r.out());
    }

    @Test
    void anImageTooElongatedToResizeIsRefusedByName() throws IOException {
        Path strip = tmp.resolve("strip.png");
        // The embedded model resizes the shorter side to 28 (crop_pct 1): a 120,000x1 strip would become
        // 3,360,000x28 = 94 million pixels, beyond the reader's 89,478,485. (The HF test model squashes: no issue.)
        ImageIO.write(new BufferedImage(120_000, 1, BufferedImage.TYPE_INT_RGB), "png", strip.toFile());
        String line = Cli.run("predict", strip.toString()).failsWithOneLine(Main.BAD_INPUT);
        assertTrue(line.contains(strip.toString()) && line.contains("aspect ratio"), line);
    }
}
