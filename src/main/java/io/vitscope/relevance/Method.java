package io.vitscope.relevance;

import io.vitscope.InvalidArgumentException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The relevance maps vitscope computes, by the names the commands take. A map has one value per patch (L = G_h × G_w);
 * A_l is block l's post-softmax attention (N, T, T) of one image, ∇A_l = ∂y/∂A_l and y the target class's logit.
 */
public enum Method {
    /** Chefer, Gur &amp; Wolf 2021 (ICCV): R = I; R ← R + mean_h((∇A_l ⊙ A_l)⁺)·R for l = 0..L−1; map = R[0, 1:]. */
    CHEFER("chefer", true),
    /** vit-explain's gradient rollout, corrected: fused_l = mean_h(A_l ⊙ ∇A_l)⁺ with each block's own gradient, rolled out. */
    GRAD_ROLLOUT("grad-rollout", true),
    /** Chefer's baseline: last block, ReLU(mean_h(w_h · A_L[h, 0, 1:])), w_h = mean_j ∇A_L[h, 0, 1:]. */
    ATTN_GRADCAM("attn-gradcam", true),
    /** Sundararajan et al. 2017 with x′ = 0 (normalised), a Gauss–Legendre rule, summed over channels and each patch. */
    INTEGRATED_GRADIENTS("integrated-gradients", true),
    /** Abnar &amp; Zuidema's attention rollout through every block, mean head fusion, no discard. */
    ROLLOUT("rollout", false),
    /** Last block: attention received by each patch, {@code attn[h, :, 1:]} averaged over queries, then over heads. */
    MEAN("mean", false),
    /** Last block: the class token's row {@code attn[h, 0, 1:]} averaged over heads (Chefer's "raw attention"). */
    CLS("cls", false),
    /** Uniform random values per patch from a seeded generator: the floor any method must beat. */
    RANDOM("random", false);

    private final String cliName;
    private final boolean gradient;

    Method(String cliName, boolean gradient) {
        this.cliName = cliName;
        this.gradient = gradient;
    }

    /** The name the commands and files use ({@code grad-rollout}). */
    public String cliName() {
        return cliName;
    }

    /** Whether the map needs a backward pass. */
    public boolean usesGradients() {
        return gradient;
    }

    /** The method called {@code name} ({@code chefer}, {@code grad-rollout}, …); fails listing the valid names. */
    public static Method parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (Method m : values()) {
            if (m.cliName.equals(n)) {
                return m;
            }
        }
        throw new InvalidArgumentException("method", "unknown relevance method '" + name + "'; valid: " + names());
    }

    /** Every name, comma-separated. */
    public static String names() {
        return Arrays.stream(values()).map(Method::cliName).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return cliName;
    }
}
