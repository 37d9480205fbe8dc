package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * README's exit-code contract, command by command, through the root as users run it: a bad flag value is a usage
 * error (2), an input file that cannot be used is 3 — each one line on stderr, no stack trace. {@code NOWHERE} stands
 * for a file that does not exist, {@code TMP} for a scratch folder.
 */
class ExitCodeTest {

    private static final String IMAGE = "images/fashion/fashion_0_ankle_boot.png";

    @TempDir
    static Path tmp;

    private static String[] args(String line) {
        List<String> out = new ArrayList<>();
        for (String a : line.trim().split("\\s+")) {
            out.add(a.replace("NOWHERE", tmp.resolve("nowhere").toString()).replace("TMP", tmp.toString())
                    .replace("IMAGE", IMAGE));
        }
        return out.toArray(String[]::new);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "predict --top 0 IMAGE|--top must be at least 1",
        "capture IMAGE --call blocks.0.attn --out TMP/c.npz --scale-attn-logits -1|--scale-attn-logits must be a positive",
        "attention IMAGE --block 0 --out TMP/a.png --width 10|--width must be in 100..16384 pixels, got 10",
        "experiment scale IMAGE --out TMP/e --top 0|--top must be at least 1",
        "bench --model vit_tiny_patch16_224 --threads 0|--threads must be from 1 to 1024",
        "eval --threads 0|--threads must be from 1 to 1024",
        "faithfulness IMAGE --out TMP/f --threads 0|--threads must be from 1 to 1024",
        "train --threads 0 --out TMP/t|--threads must be from 1 to 1024",
        "fetch vit_tiny_patch16_224 --cache TMP/cache --endpoint ftp://example.org|is not an http(s) URL",
        "inspect NOWHERE.pth --model no_such_arch|no_such_arch"})
    void aBadFlagValueExitsTwo(String line, String message) {
        Cli r = Cli.run(args(line));
        String err = r.failsWithOneLine(Main.USAGE);
        assertTrue(err.contains(message), err);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "predict NOWHERE.png|no such file",
        "capture NOWHERE.png --call blocks.0.attn --out TMP/c.npz|no such file",
        "attention NOWHERE.png --block 0 --out TMP/a.png|no such file",
        "experiment scale NOWHERE.png --out TMP/e|no such file",
        "bench --model vit_tiny_patch16_224 --weights NOWHERE.safetensors|no such file",
        "eval --data NOWHERE|not found",
        "train --data NOWHERE --out TMP/t|not found",
        "inspect NOWHERE.pth|no such file"})
    void anUnreadableInputExitsThree(String line, String message) {
        Cli r = Cli.run(args(line));
        String err = r.failsWithOneLine(Main.BAD_INPUT);
        assertTrue(err.contains(message), err);
        assertFalse(err.contains("internal error"), err);
    }
}
