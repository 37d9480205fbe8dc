package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import io.vitscope.predict.Prediction;
import io.vitscope.weights.Npy;
import io.vitscope.weights.Safetensors;
import io.vitscope.weights.SafetensorsWriter;
import io.vitscope.weights.TensorInfo;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11, case 4: numbers that leave float32's range. Flags are checked in the type they are used in; a forward
 * whose logits overflow is a per-input error, never NaN probabilities ranked in class order; JSON never dies on a
 * value. The embedded model and its 28×28 images; the overflowing model is the embedded one with every weight
 * scaled by 1e30 (finite, so the loader's NaN/Inf check passes it), written with the project's SafetensorsWriter.
 */
class NonFiniteNumbersTest {

    private static final String GOOD = "images/fashion/fashion_0_ankle_boot.png";
    private static final String GOOD2 = "images/fashion/fashion_13_dress.png";

    @TempDir
    static Path tmp;

    private static Path huge;
    private static Path blownUp;

    @BeforeAll
    static void inputs() throws Exception {
        // A finite input near float32's maximum: the patch embedding overflows.
        huge = tmp.resolve("huge.npy");
        float[] data = new float[28 * 28];
        Arrays.fill(data, 3e38f);
        Npy.write(huge, new long[] {1, 1, 28, 28}, data);

        blownUp = Files.createDirectories(tmp.resolve("blown_up"));
        Files.copy(Path.of("models/fashion_vit/config.json"), blownUp.resolve("config.json"));
        SafetensorsWriter w = new SafetensorsWriter();
        try (Safetensors st = Safetensors.open(Path.of("models/fashion_vit/model.safetensors"))) {
            for (TensorInfo t : st.tensors()) {
                FloatBuffer b = st.readFloats(t.name());
                float[] v = new float[b.remaining()];
                b.get(v);
                for (int i = 0; i < v.length; i++) {
                    v[i] *= 1e30f;
                }
                w.add(t.name(), t.shape(), v);
            }
        }
        w.write(blownUp.resolve("model.safetensors"));
    }

    @Test
    void aLogitScaleBeyondFloat32IsAUsageError() {
        for (String s : List.of("1e39", "3.5e38", "1e-50")) {
            String line = Cli.run("predict", "--scale-attn-logits", s, GOOD).failsWithOneLine(Main.USAGE);
            assertTrue(line.contains("--scale-attn-logits must be a positive float32 number, from 1.4E-45 to "
                    + "3.4028235E38, got " + Double.parseDouble(s)), line);
        }
        String line = Cli.run("experiment", "scale", GOOD, "--out", tmp.resolve("e").toString(), "--factors", "1,1e39")
                .failsWithOneLine(Main.USAGE);
        assertTrue(line.contains("float32"), line);
    }

    @Test
    void anOverflowingInputIsReportedAndTheOthersArePredicted() {
        for (String batch : List.of("1", "8")) {
            Cli r = Cli.run("predict", "--top", "2", "--batch", batch, GOOD, huge.toString(), GOOD2);
            assertEquals(Main.BAD_INPUT, r.code(), r.err());
            r.assertNoStackTrace();
            assertEquals(List.of("vitscope: " + huge + "[0]: " + io.vitscope.predict.NonFiniteLogitsException.PROBLEM,
                    "vitscope: 1 of 3 files could not be used"), r.errLines());
            assertFalse(r.out().contains("NaN"), r.out());
            assertTrue(r.out().contains("# " + GOOD) && r.out().contains("# " + GOOD2), r.out());
            assertFalse(r.out().contains("# " + huge), "no ranking for the overflowing input: " + r.out());
        }
    }

    @Test
    void jsonOutputGoesOnPastAnOverflowingInput() {
        Cli r = Cli.run("predict", "--format", "json", GOOD, huge.toString(), GOOD2);
        assertEquals(Main.BAD_INPUT, r.code(), r.err());
        assertEquals(2, r.outLines().size(), r.out());
        for (String line : r.outLines()) {
            JsonParser.parseString(line); // each line is valid JSON
        }
        assertTrue(r.outLines().get(1).contains(GOOD2), "the image after the bad one is printed: " + r.out());
        // And a Prediction made by hand with a NaN writes no number (JSON has none for it), not an exception.
        String json = Prediction.jsonLine("x", "m", List.of(new Prediction(1, 0, "a", Float.NaN)));
        assertFalse(JsonParser.parseString(json).getAsJsonObject().getAsJsonArray("predictions").get(0)
                .getAsJsonObject().has("probability"), json);
    }

    @Test
    void weightsThatOverflowGiveAClearPerInputErrorInEveryCommand() {
        Cli p = Cli.run("predict", "--weights", blownUp.toString(), GOOD, GOOD2);
        assertEquals(Main.BAD_INPUT, p.code(), p.err());
        assertEquals(3, p.errLines().size(), p.err());
        assertTrue(p.errLines().get(0).contains("NaN or infinite"), p.err());
        assertEquals("", p.out());

        Cli a = Cli.run("attention", "--weights", blownUp.toString(), GOOD, "--block", "0", "--out",
                tmp.resolve("a.png").toString());
        String line = a.failsWithOneLine(Main.BAD_INPUT);
        assertTrue(line.contains("NaN or infinite") && !line.contains("internal"), line);

        Cli e = Cli.run("experiment", "scale", "--weights", blownUp.toString(), GOOD, "--out",
                tmp.resolve("e2").toString());
        line = e.failsWithOneLine(Main.BAD_INPUT);
        assertTrue(line.contains("NaN or infinite") && !line.contains("internal"), line);
    }
}
