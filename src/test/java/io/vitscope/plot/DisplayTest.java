package io.vitscope.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jfree.chart.JFreeChart;
import org.junit.jupiter.api.Test;

class DisplayTest {

    @Test
    void showsImagesChartsAndFiguresThroughTheTargetAtTheirSize() {
        List<BufferedImage> shown = new ArrayList<>();
        Display.to(shown::add);
        BufferedImage image = new BufferedImage(7, 5, BufferedImage.TYPE_INT_RGB);
        Display.show(image);
        JFreeChart chart = LogitScalingChart.create("t", new double[] {1, 2}, Map.of("a", new double[] {0.2, 0.8}));
        Display.show(chart, 300, 200);
        AttentionGrid grid = AttentionGrid.builder().setImage(new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB))
                .setWeights(new float[][][] {{{1, 2}, {3, 4}}}).build();
        Display.show(grid, 400);

        assertEquals(3, shown.size());
        assertSame(image, shown.get(0));
        assertEquals(300, shown.get(1).getWidth());
        assertEquals(200, shown.get(1).getHeight());
        assertEquals(400, shown.get(2).getWidth());
        assertEquals(grid.heightFor(400), shown.get(2).getHeight());
    }

    @Test
    void refusesNulls() {
        assertThrows(IllegalArgumentException.class, () -> Display.to(null));
        Display.to(image -> { });
        assertThrows(IllegalArgumentException.class, () -> Display.show((BufferedImage) null));
    }
}
