package io.vitscope.notebooks;

import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Locale;

/**
 * Whether a cell's fresh outputs match the ones stored in the notebook.
 *
 * <p>Text must be equal, only line endings normalised: the notebooks print nothing volatile (no timings, no hash
 * codes, probabilities rounded to 4 places), so there is nothing else to mask.
 *
 * <p>Images must have the same size, and two tolerances hold:
 * <ul>
 *   <li>the mean absolute difference over all pixels and the R, G, B channels is at most {@link #MAX_MEAN_DIFF}
 *       levels (of 255), and</li>
 *   <li>averaged over each {@value #TILE}×{@value #TILE}-pixel tile, no tile differs by more than
 *       {@link #MAX_TILE_DIFF} levels.</li>
 * </ul>
 * Rendering is deterministic headless (Java2D's software pipeline, the JDK's own fonts), so what may legitimately move
 * between machines is the data: a float differing in its last bits (another CPU's GEMM kernels) can put a patch's
 * colour one level off on the colour map, over whole tiles at worst. So a tile may differ by at most two levels on
 * average (one level of colour-map quantization, doubled), and the whole image by half a level. A real change is
 * larger: a heatmap dimmed by 5% moves its tiles by about 7 levels, another head or factor by tens.
 */
final class OutputCheck {

    static final double MAX_MEAN_DIFF = 0.5;
    static final double MAX_TILE_DIFF = 2.0;
    static final int TILE = 32;

    private OutputCheck() {
    }

    /** What differs between the stored and fresh outputs of one cell, or null if they match. */
    static String compare(List<Output> stored, List<Output> fresh) {
        if (stored.size() != fresh.size()) {
            return "stored " + stored.size() + " outputs " + kinds(stored) + " but the cell produced " + fresh.size()
                    + " " + kinds(fresh) + firstText(fresh);
        }
        for (int i = 0; i < stored.size(); i++) {
            String d = compare(stored.get(i), fresh.get(i));
            if (d != null) {
                return "output " + (i + 1) + " (" + stored.get(i).describe() + "): " + d;
            }
        }
        return null;
    }

    private static String compare(Output stored, Output fresh) {
        if (stored.getClass() != fresh.getClass()
                || stored instanceof Output.Stream s && !s.name().equals(((Output.Stream) fresh).name())) {
            return "the cell produced " + fresh.describe() + " here";
        }
        if (stored instanceof Output.Stream s) {
            return compareText(s.text(), ((Output.Stream) fresh).text());
        }
        if (stored instanceof Output.Text t) {
            return compareText(t.text(), ((Output.Text) fresh).text());
        }
        return compareImages(((Output.Image) stored).image(), ((Output.Image) fresh).image());
    }

    static String compareText(String stored, String fresh) {
        String a = stored.replace("\r\n", "\n");
        String b = fresh.replace("\r\n", "\n");
        if (a.equals(b)) {
            return null;
        }
        String[] al = a.split("\n", -1);
        String[] bl = b.split("\n", -1);
        for (int i = 0; i < Math.max(al.length, bl.length); i++) {
            String x = i < al.length ? al[i] : "<no line>";
            String y = i < bl.length ? bl[i] : "<no line>";
            if (!x.equals(y)) {
                return "text differs at line " + (i + 1) + ":\n  stored: " + x + "\n  now:    " + y;
            }
        }
        return "text differs";
    }

    static String compareImages(BufferedImage stored, BufferedImage fresh) {
        if (stored.getWidth() != fresh.getWidth() || stored.getHeight() != fresh.getHeight()) {
            return "image is " + fresh.getWidth() + "x" + fresh.getHeight() + ", stored " + stored.getWidth() + "x"
                    + stored.getHeight();
        }
        int w = stored.getWidth();
        int h = stored.getHeight();
        int tilesX = (w + TILE - 1) / TILE;
        int tilesY = (h + TILE - 1) / TILE;
        double[] tileSum = new double[tilesX * tilesY];
        int[] tileCount = new int[tilesX * tilesY];
        double total = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = stored.getRGB(x, y);
                int q = fresh.getRGB(x, y);
                int d = Math.abs(((p >> 16) & 0xff) - ((q >> 16) & 0xff)) + Math.abs(((p >> 8) & 0xff) - ((q >> 8) & 0xff))
                        + Math.abs((p & 0xff) - (q & 0xff));
                total += d;
                int t = (y / TILE) * tilesX + x / TILE;
                tileSum[t] += d;
                tileCount[t] += 3;
            }
        }
        double mean = total / (3.0 * w * h);
        double worst = 0;
        int worstTile = 0;
        for (int t = 0; t < tileSum.length; t++) {
            double m = tileSum[t] / tileCount[t];
            if (m > worst) {
                worst = m;
                worstTile = t;
            }
        }
        if (mean <= MAX_MEAN_DIFF && worst <= MAX_TILE_DIFF) {
            return null;
        }
        return String.format(Locale.ROOT, "image differs: mean absolute difference %.2f levels (at most %.1f), worst "
                        + "%dx%d tile %.1f levels (at most %.1f) at x=%d, y=%d", mean, MAX_MEAN_DIFF, TILE, TILE, worst,
                MAX_TILE_DIFF, (worstTile % tilesX) * TILE, (worstTile / tilesX) * TILE);
    }

    private static String kinds(List<Output> outputs) {
        return outputs.stream().map(Output::describe).toList().toString();
    }

    private static String firstText(List<Output> outputs) {
        for (Output o : outputs) {
            if (o instanceof Output.Stream s) {
                return "; it printed:\n" + s.text();
            }
        }
        return "";
    }
}
