package io.vitscope.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.Golden;
import io.vitscope.image.DataConfig;
import io.vitscope.InvalidInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Values in model configs and labels files (issue 11, cases 10 and 13): every refusal names the file, the key and
 * what would be accepted; class names are single-line whatever the config held.
 */
class ConfigValuesTest {

    @TempDir
    Path tmp;

    /** A timm hub folder of the golden tiny model whose config is {@code config}. */
    private Path timmFolder(String name, String config) throws IOException {
        Path dir = Files.createDirectory(tmp.resolve(name));
        Files.writeString(dir.resolve("config.json"), config);
        Files.copy(Golden.file("tiny/timm.safetensors"), dir.resolve("model.safetensors"));
        return dir;
    }

    private InvalidInputException refused(Path dir, String file) {
        InvalidInputException e = assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> assertThrows(InvalidInputException.class, () -> Models.load(null, dir)));
        assertEquals(dir.resolve(file), e.file(), e.getMessage());
        return e;
    }

    private static void assertMentions(InvalidInputException e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void tinyCropPctIsRefusedNamingTheKeyAndTheRange() throws IOException {
        // Before: 1e-9 asked for a resize to 2147483647 pixels, 1e-4 threw ArithmeticException (exit 1), 1e-3 took
        // 1 GB of memory per image; none named the file.
        int i = 0;
        for (String v : new String[] {"1e-9", "1e-4", "1e-3", "0", "-0.5", "1.5", "\"0.9\"", "null"}) {
            String config = ModelsTest.TIMM_HUB_CONFIG.replace("\"crop_pct\": 0.875", "\"crop_pct\": " + v);
            InvalidInputException e = v.equals("null") ? null : refused(timmFolder("crop" + i++, config), "config.json");
            if (e != null) {
                assertMentions(e, "key 'pretrained_cfg.crop_pct' must be a number from 0.1 to 1");
            }
        }
        // HF preprocessor configs: the same bound, named by their key.
        Path hf = Files.createDirectory(tmp.resolve("hf"));
        Files.copy(Golden.dir("tiny/hf").resolve("model.safetensors"), hf.resolve("model.safetensors"));
        Files.copy(Golden.dir("tiny/hf").resolve("config.json"), hf.resolve("config.json"));
        String pre = Files.readString(Golden.dir("tiny/hf").resolve("preprocessor_config.json"));
        Files.writeString(hf.resolve("preprocessor_config.json"), pre.replace("\"resample\": 3,",
                "\"resample\": 3, \"crop_pct\": 1e-4,"));
        assertMentions(refused(hf, "preprocessor_config.json"), "key 'crop_pct' must be a number from 0.1 to 1");
        Files.writeString(hf.resolve("preprocessor_config.json"), pre.replace("\"resample\": 3,",
                "\"resample\": 3, \"crop_size\": 32, \"size\": 1000,").replaceAll("\"size\": \\{[^}]*},", ""));
        assertMentions(refused(hf, "preprocessor_config.json"), "key 'crop_size'", "from 0.1 to 1");
        // The library's own constructor bounds it too, naming the parameter.
        var e = assertThrows(IllegalArgumentException.class, () -> new DataConfig(3, 32, 32, 1e-4,
                DataConfig.Interpolation.BICUBIC, DataConfig.CropMode.CENTER, new double[3], new double[] {1, 1, 1}));
        assertTrue(e.getMessage().contains("crop_pct must be from 0.1 to 1"), e.getMessage());
    }

    @Test
    void unknownCropModeAndInterpolationListTheChoices() throws IOException {
        // Before: "No enum constant io.vitscope.model.DataConfig.CropMode.BOGUS".
        String config = ModelsTest.TIMM_HUB_CONFIG.replace("\"crop_pct\": 0.875",
                "\"crop_pct\": 0.875, \"crop_mode\": \"bogus\"");
        assertMentions(refused(timmFolder("mode", config), "config.json"),
                "key 'pretrained_cfg.crop_mode' is 'bogus'; it must be one of center, squash");
        config = ModelsTest.TIMM_HUB_CONFIG.replace("\"bicubic\"", "\"lanczos\"");
        assertMentions(refused(timmFolder("interp", config), "config.json"),
                "key 'pretrained_cfg.interpolation' is 'lanczos'; it must be one of nearest, bilinear, bicubic");
        config = ModelsTest.TIMM_HUB_CONFIG.replace("\"bicubic\"", "7");
        assertMentions(refused(timmFolder("interp7", config), "config.json"),
                "key 'pretrained_cfg.interpolation' must be a string, found 7");
    }

    @Test
    void nonIntegerDepthsAreRefusedWithTheRange() throws IOException {
        // Before: "twelve" gave Gson's NumberFormatException text, 1e10 an overflow, 12.7 was silently 12.
        int i = 0;
        for (String v : new String[] {"\"twelve\"", "1e10", "12.7", "0", "-3", "null", "[3]", "2000"}) {
            String config = ModelsTest.TIMM_HUB_CONFIG.replace("\"depth\": 3", "\"depth\": " + v);
            if (v.equals("null")) {
                // null is "absent": an architecture that is not a preset needs it.
                assertMentions(refused(timmFolder("depth" + i++, config), "config.json"), "key 'model_args.depth' is required");
                continue;
            }
            assertMentions(refused(timmFolder("depth" + i++, config), "config.json"),
                    "key 'model_args.depth' must be an integer from 1 to 1024, found " + v);
        }
        String config = ModelsTest.TIMM_HUB_CONFIG.replace("\"mlp_ratio\": 2.0", "\"mlp_ratio\": \"2\"");
        assertMentions(refused(timmFolder("mlp", config), "config.json"), "key 'model_args.mlp_ratio' must be a number");
        config = ModelsTest.TIMM_HUB_CONFIG.replace("\"num_classes\": 10", "\"num_classes\": 10.5");
        assertMentions(refused(timmFolder("classes", config), "config.json"),
                "key 'num_classes' must be an integer from 1 to 1048576, found 10.5");
        config = ModelsTest.TIMM_HUB_CONFIG.replace("\"model_args\": {", "\"model_args\": [1], \"x\": {");
        assertMentions(refused(timmFolder("args", config), "config.json"), "key 'model_args' must be an object, found [1]");
        config = ModelsTest.TIMM_HUB_CONFIG.replace("\"std\": [0.229, 0.224, 0.225]", "\"std\": [0.229, 0, 0.225]");
        assertMentions(refused(timmFolder("std", config), "config.json"), "key 'pretrained_cfg.std' must hold positive");
    }

    @Test
    void labelNamesOfNullsOrTheWrongCountAreRefusedByKey() throws IOException {
        // Before: "JsonNull" (a Gson exception's text).
        String config = ModelsTest.TIMM_HUB_CONFIG.replace("\"aardvark\"", "null");
        assertMentions(refused(timmFolder("nulls", config), "config.json"),
                "key 'label_names' entry 0 must be a string, found null");
        config = ModelsTest.TIMM_HUB_CONFIG.replace("\"aardvark\", ", "");
        assertMentions(refused(timmFolder("nine", config), "config.json"),
                "key 'label_names' has 9 names but the model has 10 classes");
    }

    @Test
    void classNamesWithControlCharactersBecomeOneLine() throws IOException {
        // Before: a tab or newline in id2label broke predict's line output (--top 1000 printed 1001 lines).
        Path hf = Files.createDirectory(tmp.resolve("hf-labels"));
        for (String f : new String[] {"model.safetensors", "preprocessor_config.json"}) {
            Files.copy(Golden.dir("tiny/hf").resolve(f), hf.resolve(f));
        }
        Files.writeString(hf.resolve("config.json"), Files.readString(Golden.dir("tiny/hf").resolve("config.json"))
                .replace("\"aardvark\"", "\"aard\\tvark\\nsecond line\\r\\u2028\\u0085 back\\\\slash\""));
        try (LoadedModel loaded = Models.load(null, hf)) {
            assertEquals("aard\\tvark\\nsecond line\\r\\u2028\\u0085 back\\slash", loaded.labels().get(0));
            assertEquals("bicycle", loaded.labels().get(1), "ordinary names are untouched");
        }
    }

    @Test
    void labelsFilesLoseTheirBomAndRefuseBlankLines() throws IOException {
        Path bom = tmp.resolve("bom.txt");
        Files.write(bom, ("\uFEFFcat\ndog\n\n").getBytes(StandardCharsets.UTF_8));
        // Before: the first label was "\uFEFFcat", which prints like "cat" and compares unequal to it.
        assertEquals(List.of("cat", "dog"), Models.readLabels(bom, 2));

        Path blank = Files.writeString(tmp.resolve("blank.txt"), "cat\n\ndog\n");
        // Before: the blank line became an empty label (and the count still matched a 3-class model).
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Models.readLabels(blank, 3));
        assertEquals(blank, e.file());
        assertTrue(e.getMessage().contains("line 2 is blank"), e.getMessage());
        Path spaces = Files.writeString(tmp.resolve("spaces.txt"), "cat\n  \t \ndog\n");
        assertTrue(assertThrows(InvalidInputException.class, () -> Models.readLabels(spaces, 3)).getMessage()
                .contains("line 2 is blank"));
    }
}
