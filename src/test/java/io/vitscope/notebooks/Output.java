package io.vitscope.notebooks;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;

/** One output of a code cell, as nbformat 4 stores it: printed text, or something shown with {@code display}. */
sealed interface Output {

    /** Text printed to {@code stdout} or {@code stderr}; consecutive prints to one stream form one output. */
    record Stream(String name, String text) implements Output {
        @Override
        public String describe() {
            return name;
        }
    }

    /** An image shown with {@code display}, stored as {@code image/png}. */
    record Image(BufferedImage image, String base64Png) implements Output {
        static Image of(BufferedImage image) {
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            try {
                ImageIO.write(image, "png", png);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return new Image(image, Base64.getEncoder().encodeToString(png.toByteArray()));
        }

        static Image ofBase64(String base64Png) {
            try {
                byte[] bytes = Base64.getMimeDecoder().decode(base64Png);
                return new Image(ImageIO.read(new ByteArrayInputStream(bytes)), base64Png.strip());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public String describe() {
            return "image " + image.getWidth() + "x" + image.getHeight();
        }
    }

    /** Anything else shown with {@code display}: its {@code text/plain} form. */
    record Text(String text) implements Output {
        @Override
        public String describe() {
            return "display text";
        }
    }

    /** A few words for messages, e.g. "stdout" or "image 900x460". */
    String describe();

    default JsonObject toJson() {
        JsonObject o = new JsonObject();
        if (this instanceof Stream s) {
            o.addProperty("output_type", "stream");
            o.addProperty("name", s.name());
            o.add("text", Notebook.lines(s.text()));
        } else {
            JsonObject data = new JsonObject();
            if (this instanceof Image i) {
                data.addProperty("image/png", i.base64Png());
            } else {
                data.add("text/plain", Notebook.lines(((Text) this).text()));
            }
            o.addProperty("output_type", "display_data");
            o.add("data", data);
            o.add("metadata", new JsonObject());
        }
        return o;
    }

    static JsonArray toJson(List<Output> outputs) {
        JsonArray a = new JsonArray();
        outputs.forEach(o -> a.add(o.toJson()));
        return a;
    }

    /**
     * A cell's stored outputs. Consecutive stream outputs of one name are merged (Jupyter may split a print over
     * several), and a {@code display_data} with an {@code image/png} is read as that image alone (a kernel adds a
     * {@code text/plain} with the object's identity hash, which says nothing).
     */
    static List<Output> fromJson(JsonArray outputs) {
        List<Output> out = new ArrayList<>();
        for (JsonElement e : outputs == null ? new JsonArray() : outputs) {
            JsonObject o = e.getAsJsonObject();
            String type = o.get("output_type").getAsString();
            switch (type) {
                case "stream" -> {
                    Stream s = new Stream(o.get("name").getAsString(), Notebook.joined(o.get("text")));
                    if (!out.isEmpty() && out.get(out.size() - 1) instanceof Stream last && last.name().equals(s.name())) {
                        out.set(out.size() - 1, new Stream(s.name(), last.text() + s.text()));
                    } else {
                        out.add(s);
                    }
                }
                case "display_data", "execute_result" -> {
                    JsonObject data = o.getAsJsonObject("data");
                    if (data.has("image/png")) {
                        out.add(Image.ofBase64(Notebook.joined(data.get("image/png"))));
                    } else {
                        out.add(new Text(Notebook.joined(data.get("text/plain"))));
                    }
                }
                default -> out.add(new Text("<" + type + " output: " + o + ">"));
            }
        }
        return out;
    }
}
