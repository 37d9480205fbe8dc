package io.vitscope.relevance;

import io.vitscope.plot.AttentionGrid;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * Several methods' maps of one image and class, side by side.
 *
 * @param maps in the order asked for
 */
public record Comparison(List<RelevanceMap> maps) {

    public Comparison {
        if (maps == null || maps.isEmpty()) {
            throw new IllegalArgumentException("maps: a comparison needs at least one map");
        }
        maps = List.copyOf(maps);
    }

    /**
     * One panel per method, each scaled to its own largest value (the methods' units differ); integrated gradients
     * shows its positive part.
     *
     * @param image the input as displayed, e.g. {@code AttentionPlots.forDisplay(transform.denormalize(x))}
     */
    public AttentionGrid plot(BufferedImage image, String title) {
        float[][][] panels = new float[maps.size()][][];
        List<String> titles = new ArrayList<>();
        for (int i = 0; i < maps.size(); i++) {
            panels[i] = maps.get(i).displayGrid();
            titles.add(maps.get(i).panelTitle());
        }
        return AttentionGrid.builder().setImage(image).setWeights(panels).optPanelTitles(titles).optTitle(title)
                .optColumns(maps.size()).build();
    }

    /** The map of one method. */
    public RelevanceMap get(Method m) {
        for (RelevanceMap r : maps) {
            if (r.method() == m) {
                return r;
            }
        }
        throw new IllegalArgumentException("no " + m + " map in this comparison; it holds " + maps.stream()
                .map(r -> r.method().cliName()).toList());
    }
}
