package io.vitscope.cli;

import io.vitscope.InvalidArgumentException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vitscope.predict.Classifier;
import io.vitscope.predict.Input;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.model.VitConfig;
import java.nio.file.Path;

/** What the intervention commands (ablate, patch, lens, dla) share: option checks with the flags' names, inputs. */
final class Interventions {

    private Interventions() {}

    /** The first image of a file (an image, or the first of an [N, C, H, W] tensor). */
    static Input firstImage(Classifier classifier, Path file) {
        return classifier.read(file).get(0);
    }

    /** The first image of a file as one preprocessed tensor, (1, C, H, W), in {@code manager}. */
    static NDArray tensor(NDManager manager, Classifier classifier, Path file) {
        VitConfig c = classifier.model().config();
        return manager.create(firstImage(classifier, file).tensor(),
                new Shape(1, c.inChans(), c.imgHeight(), c.imgWidth()));                  // (1, C, H, W)
    }

    /** {@code --target}: null for the clean top-1 (-1), else a class of the model. */
    static int target(Integer target, LoadedModel loaded) {
        if (target == null) {
            return -1;
        }
        return requireClass(target, loaded, "--target");
    }

    static int requireClass(int c, LoadedModel loaded, String flag) {
        int k = loaded.config().numClasses();
        if (c < 0 || c >= k) {
            throw new InvalidArgumentException(flag + " " + c + " is out of range: " + loaded.name() + " has " + k
                    + " classes, use 0.." + (k - 1));
        }
        return c;
    }

    /**
     * A comma-separated list of distinct indices in [0, n), in the order given ({@code 0,3,5}); ranges
     * {@code a-b} are allowed. Null for a null spec.
     */
    static int[] indices(String spec, int n, String flag, String what) {
        if (spec == null) {
            return null;
        }
        java.util.List<Integer> out = new java.util.ArrayList<>();
        for (String part : spec.split(",")) {
            String p = part.trim();
            try {
                int dash = p.indexOf('-', 1);
                if (dash > 0) {
                    int lo = Integer.parseInt(p.substring(0, dash).trim());
                    int hi = Integer.parseInt(p.substring(dash + 1).trim());
                    if (hi < lo) {
                        throw new InvalidArgumentException(flag + " range " + p + " runs backwards");
                    }
                    for (int i = lo; i <= hi; i++) {
                        out.add(i);
                    }
                } else {
                    out.add(Integer.parseInt(p));
                }
            } catch (NumberFormatException e) {
                throw new InvalidArgumentException(flag + " must be " + what + " numbers like 0,3,5 or 2-6, got '"
                        + spec + "'");
            }
        }
        int[] r = new int[out.size()];
        for (int i = 0; i < r.length; i++) {
            int v = out.get(i);
            if (v < 0 || v >= n) {
                throw new InvalidArgumentException(flag + " " + v + " is out of range: use 0.." + (n - 1));
            }
            for (int j = 0; j < i; j++) {
                if (r[j] == v) {
                    throw new InvalidArgumentException(flag + " lists " + what + " " + v + " twice");
                }
            }
            r[i] = v;
        }
        return r;
    }

    static void requireBatch(int batch) {
        if (batch < 1) {
            throw new InvalidArgumentException("--batch must be at least 1, got " + batch);
        }
    }
}
