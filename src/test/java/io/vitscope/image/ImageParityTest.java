package io.vitscope.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Decoding, resizing and normalizing every fixture image against Pillow 9.4 / torchvision 0.14 outputs
 * (scripts/make_image_goldens.py). Exactness is the contract: decoded and resized uint8 images must match to the
 * last level, normalized tensors to 1e-6 (in practice 0, the float32 operations being the same).
 */
class ImageParityTest {

    private static final JsonObject MANIFEST = Goldens.manifest();
    private static final ImageReader READER = ImageReader.defaults();
    private static int worstDecoded;
    private static int worstResized;
    private static double worstTensor;
    private static int resizedChecked;
    private static int tensorsChecked;

    @TestFactory
    List<DynamicTest> decodedMatchesPillowConvertRgb() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Map.Entry<String, com.google.gson.JsonElement> e : MANIFEST.getAsJsonObject("images").entrySet()) {
            String name = e.getKey();
            JsonObject info = e.getValue().getAsJsonObject();
            tests.add(DynamicTest.dynamicTest(name, () -> {
                Image8 im = READER.read(Goldens.IMAGES.resolve(name)).toRgb();
                assertEquals(info.get("width").getAsInt(), im.width(), "width");
                assertEquals(info.get("height").getAsInt(), im.height(), "height");
                int d = Goldens.maxDiff(Goldens.u8(name, "decoded.u8.gz"), im.pixels());
                worstDecoded = Math.max(worstDecoded, d);
                assertEquals(0, d, "max |decoded - Pillow convert('RGB')| in levels (tolerance 0)");
            }));
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> resizeAndTensorMatchTorchvision() {
        List<DynamicTest> tests = new ArrayList<>();
        JsonObject configs = MANIFEST.getAsJsonObject("configs");
        for (Map.Entry<String, com.google.gson.JsonElement> e : MANIFEST.getAsJsonObject("images").entrySet()) {
            String name = e.getKey();
            JsonObject perImage = e.getValue().getAsJsonObject().getAsJsonObject("configs");
            for (String cname : perImage.keySet()) {
                JsonObject expect = perImage.getAsJsonObject(cname);
                EvalTransform t = new EvalTransform(Goldens.config(configs.getAsJsonObject(cname)));
                tests.add(DynamicTest.dynamicTest(name + " / " + cname, () -> {
                    Image8 src = READER.read(Goldens.IMAGES.resolve(name));
                    Image8 resized = t.resize(src);
                    assertEquals(expect.get("resizedWidth").getAsInt(), resized.width(), "resized width");
                    assertEquals(expect.get("resizedHeight").getAsInt(), resized.height(), "resized height");
                    int d = Goldens.maxDiff(Goldens.u8(name, cname + ".resized.u8.gz"), resized.pixels());
                    worstResized = Math.max(worstResized, d);
                    resizedChecked++;
                    assertEquals(0, d, "max |resized - Pillow resize| in levels (tolerance 0)");
                    if (expect.get("tensor").getAsBoolean()) {
                        float[] x = t.apply(src);
                        float[] ref = Goldens.f32(name, cname + ".tensor.f32.gz");
                        double dt = Goldens.maxDiff(ref, x);
                        worstTensor = Math.max(worstTensor, dt);
                        tensorsChecked++;
                        assertTrue(dt <= 1e-6, "max |tensor - torchvision| = " + dt + " (tolerance 1e-6)");
                    }
                }));
            }
        }
        return tests;
    }

    @AfterAll
    static void report() {
        System.out.printf("image parity: max |decoded diff| = %d, max |resized diff| = %d over %d resizes, "
                + "max |tensor diff| = %g over %d tensors%n", worstDecoded, worstResized, resizedChecked, worstTensor,
                tensorsChecked);
    }
}
