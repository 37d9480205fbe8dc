package io.vitscope.image;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** The fixtures written by scripts/make_image_goldens.py (Pillow 9.4 + torchvision 0.14). */
final class Goldens {

    static final Path IMAGES = Path.of("src/test/resources/images");
    static final Path GOLDEN = Path.of("src/test/resources/golden/image");

    private Goldens() {
    }

    static JsonObject manifest() {
        try (InputStreamReader r = new InputStreamReader(Files.newInputStream(GOLDEN.resolve("manifest.json")),
                StandardCharsets.UTF_8)) {
            return new Gson().fromJson(r, JsonObject.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static DataConfig config(JsonObject c) {
        double[] mean = new Gson().fromJson(c.get("mean"), double[].class);
        double[] std = new Gson().fromJson(c.get("std"), double[].class);
        return new DataConfig(c.get("inChans").getAsInt(), c.get("height").getAsInt(), c.get("width").getAsInt(),
                c.get("cropPct").getAsDouble(), DataConfig.Interpolation.parse(c.get("interpolation").getAsString()),
                DataConfig.CropMode.valueOf(c.get("cropMode").getAsString().toUpperCase()), mean, std);
    }

    static byte[] u8(String image, String file) {
        return gunzip(GOLDEN.resolve(image).resolve(file));
    }

    static float[] f32(String image, String file) {
        ByteBuffer bb = ByteBuffer.wrap(gunzip(GOLDEN.resolve(image).resolve(file))).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[bb.remaining() / 4];
        bb.asFloatBuffer().get(out);
        return out;
    }

    static byte[] gunzip(Path p) {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(p))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Largest |a - b| over unsigned bytes; -1 when the lengths differ. */
    static int maxDiff(byte[] a, byte[] b) {
        if (a.length != b.length) {
            return -1;
        }
        int m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((a[i] & 0xFF) - (b[i] & 0xFF)));
        }
        return m;
    }

    static double maxDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            return Double.POSITIVE_INFINITY;
        }
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }
}
