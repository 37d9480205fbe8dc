package io.vitscope.serve;

import io.vitscope.analysis.AttentionMaps;
import io.vitscope.analysis.AttentionRollout;
import io.vitscope.analysis.PatchWeights;
import io.vitscope.probe.CallRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * One kind of map the explorer can lay over an image: the page lists the modes the server has
 * ({@code GET /api/health}), so a new kind of map (relevance, an intervention's effect) is one more {@code MapMode}
 * given to {@link Explorer#withMode(MapMode)}, with no change to the page.
 *
 * <p>Abbreviations: P panels, N heads, T tokens, G_h × G_w the patch grid.
 */
public interface MapMode {

    /** The name in {@code ?mode=} and in the page's mode list. */
    String name();

    /** One line the page shows as the mode's tooltip. */
    String description();

    /**
     * The maps of one input.
     *
     * @param pass runs the model on the input with the request's logit scale and time limit
     * @param block the block the user picked, already checked against the model's depth
     */
    Maps compute(Explorer.Pass pass, int block);

    /**
     * Maps with one title per panel.
     *
     * @param weights (P, G_h, G_w), before any display normalisation
     */
    record Maps(float[][][] weights, List<String> titles) {
        public Maps {
            if (weights.length != titles.size()) {
                throw new IllegalArgumentException(weights.length + " panels but " + titles.size() + " titles");
            }
        }
    }

    /** NoPdb's tutorial map: per head, {@code attn[h, :, 1:]} averaged over the query rows. */
    MapMode MEAN = perHead("mean", "per head, the attention each patch receives averaged over all queries",
            PatchWeights.Mode.MEAN);

    /** Per head, the class token's row {@code attn[h, 0, 1:]}. */
    MapMode CLS = perHead("cls", "per head, the attention the class token pays each patch", PatchWeights.Mode.CLS);

    /** Abnar & Zuidema's rollout of the class token through blocks 0..I, heads fused by their mean. */
    MapMode ROLLOUT = new MapMode() {
        @Override
        public String name() {
            return "rollout";
        }

        @Override
        public String description() {
            return "attention rollout of the class token through blocks 0..I (mean head fusion)";
        }

        @Override
        public Maps compute(Explorer.Pass pass, int block) {
            return pass.run("blocks.*.attn", (logits, calls) -> {
                List<ai.djl.ndarray.NDArray> blocks = new ArrayList<>();
                for (CallRecord c : calls.subList(0, block + 1)) {
                    blocks.add(c.tensor("attn"));                                            // (1, N, T, T)
                }
                float[] r = AttentionRollout.rolloutOf(blocks, AttentionRollout.Fusion.MEAN, 0);  // (L)
                float[][][] w = {AttentionMaps.toGrid(r, pass.gridHeight(), pass.gridWidth())};  // (1, G_h, G_w)
                return new Maps(w, List.of(block == 0 ? "rollout · block 0" : "rollout · blocks 0–" + block));
            });
        }
    };

    /** The modes every explorer starts with. */
    static List<MapMode> builtIn() {
        return List.of(MEAN, CLS, ROLLOUT);
    }

    private static MapMode perHead(String name, String description, PatchWeights.Mode mode) {
        return new MapMode() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public String description() {
                return description;
            }

            @Override
            public Maps compute(Explorer.Pass pass, int block) {
                return pass.run("blocks." + block + ".attn", (logits, calls) -> {
                    float[][][] w = PatchWeights.grid(calls.get(0).tensor("attn"), mode,   // (N, G_h, G_w)
                            pass.gridHeight(), pass.gridWidth());
                    List<String> titles = new ArrayList<>(w.length);
                    for (int h = 0; h < w.length; h++) {
                        titles.add("block " + block + " · head " + h);
                    }
                    return new Maps(w, titles);
                });
            }
        };
    }
}
