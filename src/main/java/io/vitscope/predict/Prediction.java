package io.vitscope.predict;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.List;

/**
 * One of the top classes for an image: its rank (1 = best), class index, name and softmax probability.
 *
 * <p>Its JSON form, the one every output uses ({@code predict --format json}, the scaling experiment's
 * {@code scale.json}): {@code {"rank": 1, "index": 9, "label": "Ankle boot", "probability": 0.9985407590866089}},
 * the probability widened to a double as it is.
 */
public record Prediction(int rank, int index, String label, float probability) {

    /** {@code {"rank", "index", "label", "probability"}}. */
    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("rank", rank);
        o.addProperty("index", index);
        o.addProperty("label", label);
        // JSON has no NaN or infinity (Gson refuses to write them and the whole line is lost): null says "no number".
        // Classifier never ranks non-finite logits, so this is for predictions made by hand.
        o.addProperty("probability", Float.isFinite(probability) ? (Double) (double) probability : null);
        return o;
    }

    /** A ranked list as a JSON array of {@link #toJson()} objects, best first. */
    public static JsonArray toJson(List<Prediction> predictions) {
        JsonArray a = new JsonArray();
        for (Prediction p : predictions) {
            a.add(p.toJson());
        }
        return a;
    }

    /** One image's result as one line of JSON: {@code {"image", "model", "predictions": [...]}}. */
    public static String jsonLine(String image, String model, List<Prediction> predictions) {
        return new Gson().toJson(toJson(image, model, predictions));
    }

    /** One image's result as a JSON object: {@code {"image", "model", "predictions": [...]}}. */
    public static JsonObject toJson(String image, String model, List<Prediction> predictions) {
        JsonObject o = new JsonObject();
        o.addProperty("image", image);
        o.addProperty("model", model);
        o.add("predictions", toJson(predictions));
        return o;
    }
}
