package io.vitscope.experiment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One of the top classes for an image: its rank (1 = best), class index, name and softmax probability. */
public record Prediction(int rank, int index, String label, float probability) {

    /**
     * The JSON object of one image's top classes, as {@code predict --format json} prints it and
     * {@code POST /api/predict} answers: {@code {"image", "model", "predictions": [{"rank", "index", "label",
     * "probability"}]}} in that order (serialise with Gson).
     */
    public static Map<String, Object> jsonObject(String image, String model, List<Prediction> top) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("image", image);
        o.put("model", model);
        List<Map<String, Object>> list = new ArrayList<>();
        for (Prediction p : top) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("rank", p.rank());
            m.put("index", p.index());
            m.put("label", p.label());
            m.put("probability", (double) p.probability());
            list.add(m);
        }
        o.put("predictions", list);
        return o;
    }
}
