package io.vitscope.checkpoint;

import io.vitscope.image.DataConfig;
import io.vitscope.model.VitConfig;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitscope.InvalidInputException;
import io.vitscope.image.DataConfig.CropMode;
import io.vitscope.image.DataConfig.Interpolation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfModelDirTest {

    @TempDir
    Path dir;

    /** A small ViTForImageClassification config as save_pretrained writes one (label keys out of order). */
    static final String CONFIG = """
            {
              "architectures": ["ViTForImageClassification"],
              "attention_probs_dropout_prob": 0.0,
              "hidden_act": "gelu",
              "hidden_dropout_prob": 0.0,
              "hidden_size": 64,
              "id2label": {"1": "goldfish", "0": "tench", "2": "great white shark"},
              "label2id": {"tench": 0, "goldfish": 1, "great white shark": 2},
              "image_size": 32,
              "initializer_range": 0.02,
              "intermediate_size": 256,
              "layer_norm_eps": 1e-12,
              "model_type": "vit",
              "num_attention_heads": 4,
              "num_channels": 3,
              "num_hidden_layers": 2,
              "patch_size": 8,
              "qkv_bias": true,
              "torch_dtype": "float32",
              "transformers_version": "4.40.0"
            }
            """;

    static final String PREPROCESSOR = """
            {
              "do_normalize": true,
              "do_rescale": true,
              "do_resize": true,
              "image_mean": [0.5, 0.5, 0.5],
              "image_processor_type": "ViTImageProcessor",
              "image_std": [0.5, 0.5, 0.5],
              "resample": 2,
              "rescale_factor": 0.00392156862745098,
              "size": {"height": 32, "width": 32}
            }
            """;

    Path model(String config, String preprocessor) throws IOException {
        Files.writeString(dir.resolve("config.json"), config);
        if (preprocessor != null) {
            Files.writeString(dir.resolve("preprocessor_config.json"), preprocessor);
        }
        Files.write(dir.resolve("model.safetensors"), new byte[0]); // only its presence matters here
        return dir;
    }

    InvalidInputException invalid(String config, String preprocessor, String file, String... fragments)
            throws IOException {
        Path d = model(config, preprocessor);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> HfModelDir.read(d));
        assertEquals(d.resolve(file), e.file(), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
        }
        return e;
    }

    static String with(String json, String key, String value) {
        String replaced = json.replaceFirst("\"" + key + "\": [^\\n]*?(,?)\\n", "\"" + key + "\": " + value + "$1\n");
        if (replaced.equals(json)) {
            throw new IllegalArgumentException("no key " + key);
        }
        return replaced;
    }

    static String without(String json, String key) {
        return json.replaceFirst("\\s*\"" + key + "\": [^\\n]*?,\\n", "\n");
    }

    @Test
    void readsArchitectureClassesAndDataConfig() throws IOException {
        HfModelDir m = HfModelDir.read(model(CONFIG, PREPROCESSOR));
        VitConfig c = m.config();
        assertEquals(new VitConfig(32, 32, 8, 3, 3, 64, 2, 4, 4.0, true, 1e-12), c);
        assertEquals(List.of("tench", "goldfish", "great white shark"), m.classNames());
        DataConfig d = m.dataConfig();
        assertEquals(new DataConfig(3, 32, 32, 1.0, Interpolation.BILINEAR, CropMode.SQUASH,
                new double[] {0.5, 0.5, 0.5}, new double[] {0.5, 0.5, 0.5}), d);
        assertEquals(dir.resolve("model.safetensors"), m.weights());
        assertTrue(HfModelDir.looksLike(dir));
    }

    @Test
    void missingKeysTakeViTConfigDefaults() throws IOException {
        String minimal = "{\"image_size\": 32, \"patch_size\": 16, \"hidden_size\": 48, \"num_attention_heads\": 3,"
                + " \"intermediate_size\": 96, \"num_hidden_layers\": 1, \"num_labels\": 5}";
        HfModelDir m = HfModelDir.read(model(minimal, null));
        assertEquals(new VitConfig(32, 32, 16, 3, 5, 48, 1, 3, 2.0, true, 1e-12), m.config());
        assertEquals(List.of("LABEL_0", "LABEL_1", "LABEL_2", "LABEL_3", "LABEL_4"), m.classNames());
        // ViTImageProcessor's defaults at the model's size.
        assertEquals(new DataConfig(3, 32, 32, 1.0, Interpolation.BILINEAR, CropMode.SQUASH,
                new double[] {0.5, 0.5, 0.5}, new double[] {0.5, 0.5, 0.5}), m.dataConfig());
        // No id2label and no num_labels: transformers' PretrainedConfig default of two labels.
        assertEquals(List.of("LABEL_0", "LABEL_1"), HfModelDir.read(model("{\"image_size\": 32}", null)).classNames());
    }

    @Test
    void qkvBiasEpsAndNonSquareImagesAreRead() throws IOException {
        String c = with(with(with(CONFIG, "qkv_bias", "false"), "layer_norm_eps", "1e-6"), "image_size", "[16, 32]");
        HfModelDir m = HfModelDir.read(model(c, with(PREPROCESSOR, "size", "{\"height\": 16, \"width\": 32}")));
        assertFalse(m.config().qkvBias());
        assertEquals(1e-6, m.config().layerNormEps(), 0);
        assertEquals(16, m.config().imgHeight());
        assertEquals(32, m.config().imgWidth());
        assertEquals(16, m.dataConfig().height());
        assertEquals(32, m.dataConfig().width());
    }

    @Test
    void oldFeatureExtractorConfigsWithAnIntSizeAndBicubic() throws IOException {
        String pre = "{\"feature_extractor_type\": \"ViTFeatureExtractor\", \"size\": 32, \"resample\": 3,"
                + " \"do_normalize\": true, \"image_mean\": [0.485, 0.456, 0.406], \"image_std\": [0.229, 0.224, 0.225]}";
        DataConfig d = HfModelDir.read(model(CONFIG, pre)).dataConfig();
        assertEquals(Interpolation.BICUBIC, d.interpolation());
        assertEquals(CropMode.SQUASH, d.cropMode());
        assertArrayEquals(DataConfig.IMAGENET_DEFAULT_MEAN, d.mean(), 0);
        assertArrayEquals(DataConfig.IMAGENET_DEFAULT_STD, d.std(), 0);
        assertEquals(Interpolation.NEAREST, HfModelDir.read(model(CONFIG, with(PREPROCESSOR, "resample", "0")))
                .dataConfig().interpolation());
    }

    @Test
    void noNormalizeMeansMeanZeroStdOne() throws IOException {
        DataConfig d = HfModelDir.read(model(CONFIG, with(PREPROCESSOR, "do_normalize", "false"))).dataConfig();
        assertArrayEquals(new double[] {0, 0, 0}, d.mean(), 0);
        assertArrayEquals(new double[] {1, 1, 1}, d.std(), 0);
    }

    @Test
    void noRescaleFoldsTheMissing255IntoMeanAndStd() throws IOException {
        // (X − 0.5) / 0.5 on 0..255 pixels = (X/255 − 0.5/255) / (0.5/255).
        DataConfig d = HfModelDir.read(model(CONFIG, with(PREPROCESSOR, "do_rescale", "false"))).dataConfig();
        assertArrayEquals(new double[] {0.5 / 255, 0.5 / 255, 0.5 / 255}, d.mean(), 1e-15);
        assertArrayEquals(new double[] {0.5 / 255, 0.5 / 255, 0.5 / 255}, d.std(), 1e-15);
    }

    @Test
    void cropKeysSelectTimmsCenterCrop() throws IOException {
        // DeiT's processor: resize to 37, center crop 32.
        String deit = with(PREPROCESSOR, "size", "{\"height\": 37, \"width\": 37}, \"crop_size\": {\"height\": 32, "
                + "\"width\": 32}, \"do_center_crop\": true");
        DataConfig d = HfModelDir.read(model(CONFIG, deit)).dataConfig();
        assertEquals(CropMode.CENTER, d.cropMode());
        assertEquals(32.0 / 37, d.cropPct(), 1e-12);
        assertEquals(32, d.height());
        // ConvNeXt-style: shortest_edge and crop_pct.
        String convnext = with(PREPROCESSOR, "size", "{\"shortest_edge\": 32}, \"crop_pct\": 0.875");
        DataConfig c = HfModelDir.read(model(CONFIG, convnext)).dataConfig();
        assertEquals(CropMode.CENTER, c.cropMode());
        assertEquals(0.875, c.cropPct(), 0);
        assertEquals(32, c.width());
        // do_center_crop false: the crop key is ignored, as the processor ignores it.
        String noCrop = with(PREPROCESSOR, "size", "32, \"crop_size\": 16, \"do_center_crop\": false");
        assertEquals(CropMode.SQUASH, HfModelDir.read(model(CONFIG, noCrop)).dataConfig().cropMode());
    }

    // ------------------------------------------------------------------------------------------ errors

    @Test
    void missingFiles() throws IOException {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> HfModelDir.read(dir));
        assertEquals(dir.resolve("config.json"), e.file());
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
        Files.writeString(dir.resolve("config.json"), CONFIG);
        e = assertThrows(InvalidInputException.class, () -> HfModelDir.read(dir));
        assertEquals(dir.resolve("model.safetensors"), e.file());
        assertTrue(e.getMessage().contains("needs its weights in model.safetensors"), e.getMessage());
        Files.writeString(dir.resolve("pytorch_model.bin"), "");
        e = assertThrows(InvalidInputException.class, () -> HfModelDir.read(dir));
        assertTrue(e.getMessage().contains("safe_serialization=True"), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> HfModelDir.read(dir.resolve("nope")));
        assertTrue(e.getMessage().contains("is not a directory"), e.getMessage());
    }

    @Test
    void malformedJson() throws IOException {
        invalid("{\"hidden_size\": ", null, "config.json", "is not valid JSON");
        invalid("[1, 2]", null, "config.json", "must hold a JSON object");
        invalid(CONFIG, "{\"size\": [", "preprocessor_config.json", "is not valid JSON");
    }

    @Test
    void wrongTypesNameTheKey() throws IOException {
        invalid(with(CONFIG, "hidden_size", "\"64\""), null, "config.json", "key 'hidden_size' must be an integer",
                "\"64\"");
        invalid(with(CONFIG, "hidden_size", "64.5"), null, "config.json", "key 'hidden_size' must be an integer");
        invalid(with(CONFIG, "qkv_bias", "1"), null, "config.json", "key 'qkv_bias' must be true or false");
        invalid(with(CONFIG, "image_size", "[32, 32, 3]"), null, "config.json", "key 'image_size' must be an integer "
                + "or [height, width]");
        invalid(with(CONFIG, "layer_norm_eps", "\"tiny\""), null, "config.json", "key 'layer_norm_eps' must be a number");
        invalid(CONFIG, with(PREPROCESSOR, "size", "{\"longest_edge\": 32}"), "preprocessor_config.json",
                "key 'size' must be an integer, {\"height\", \"width\"}");
        invalid(CONFIG, with(PREPROCESSOR, "do_normalize", "\"yes\""), "preprocessor_config.json",
                "key 'do_normalize' must be true or false");
    }

    @Test
    void unsupportedValuesNameTheKey() throws IOException {
        invalid(with(CONFIG, "hidden_act", "\"gelu_new\""), null, "config.json", "key 'hidden_act' is 'gelu_new'",
                "only 'gelu'");
        invalid(with(CONFIG, "model_type", "\"deit\""), null, "config.json", "key 'model_type' is 'deit'");
        invalid(with(CONFIG, "patch_size", "[8, 4]"), null, "config.json", "key 'patch_size' is 8x4");
        invalid(with(CONFIG, "num_attention_heads", "5"), null, "config.json",
                "key 'num_attention_heads' 5 does not divide key 'hidden_size' 64");
        invalid(with(CONFIG, "intermediate_size", "0"), null, "config.json",
                "key 'intermediate_size' must be an integer from 1 to 4194304, found 0");
        invalid(CONFIG, with(PREPROCESSOR, "resample", "1"), "preprocessor_config.json", "key 'resample' is 1",
                "0 (nearest), 2 (bilinear) and 3 (bicubic)");
        invalid(CONFIG, with(PREPROCESSOR, "image_mean", "[0.5, 0.5]"), "preprocessor_config.json",
                "key 'image_mean' has 2 values for a 3-channel model");
        invalid(CONFIG, with(PREPROCESSOR, "size", "{\"height\": 224, \"width\": 224}"), "preprocessor_config.json",
                "key 'size' ({\"height\":224,\"width\":224}) gives 224x224 inputs but config.json's image_size is 32x32");
        invalid(CONFIG, with(PREPROCESSOR, "image_std", "[0.5, 0, 0.5]"), "preprocessor_config.json",
                "key 'image_std' must hold positive finite numbers");
    }

    @Test
    void badLabelMaps() throws IOException {
        invalid(with(CONFIG, "id2label", "{\"0\": \"a\", \"2\": \"c\"}"), null, "config.json",
                "key 'id2label' has 2 entries but no class 1");
        invalid(with(CONFIG, "id2label", "{\"zero\": \"a\"}"), null, "config.json", "key 'id2label' has key 'zero'");
        invalid(with(CONFIG, "id2label", "{\"0\": 5}"), null, "config.json", "key 'id2label' entry 0 must be a string");
        invalid(with(CONFIG, "id2label", "[\"a\"]"), null, "config.json", "key 'id2label' must be an object");
        invalid(with(CONFIG, "id2label", "{}"), null, "config.json", "key 'id2label' is empty");
    }
}
