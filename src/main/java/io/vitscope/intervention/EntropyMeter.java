package io.vitscope.intervention;

import ai.djl.ndarray.NDArray;
import io.vitscope.model.Attention;
import io.vitscope.model.VisionTransformer;
import io.vitscope.probe.Probe;
import java.util.Map;

/**
 * The mean attention entropy (nats, over heads and query rows, {@code 0 · ln 0 = 0}, as
 * {@link io.vitscope.analysis.AttentionEntropy}) of every block, per batch element, read at each attention's
 * {@code post_softmax} site of the forwards a probe sees. Only B numbers per block leave the forward.
 */
final class EntropyMeter {

    private final Map<String, Integer> blockOf;
    private double[][] entropy; // (L, B) of the last forward

    private EntropyMeter(VisionTransformer model) {
        this.blockOf = Runs.blockOfPath(model);
        this.entropy = new double[model.config().depth()][0];
    }

    static EntropyMeter install(Probe probe, VisionTransformer model) {
        EntropyMeter m = new EntropyMeter(model);
        probe.breakpoint(Attention.POST_SOFTMAX).exec(hit -> {
            NDArray p = hit.get("attn");                                                  // (B, N, T, T)
            // p · ln max(p, smallest normal float): exactly 0 where p = 0, p ln p elsewhere (p is never subnormal
            // and positive in practice; there the two differ by less than 1e-36).
            float rows = p.getShape().get(1) * p.getShape().get(2);                      // N · T
            float[] h = p.mul(p.maximum(Float.MIN_NORMAL).log()).sum(new int[] {1, 2, 3})  // (B)
                    .div(-rows).toFloatArray();                                            // (B)
            double[] row = new double[h.length];
            for (int i = 0; i < h.length; i++) {
                row[i] = h[i];
            }
            m.entropy[m.blockOf.get(hit.path())] = row;
        });
        return m;
    }

    /** Entropy per block of batch element {@code e} in the last forward, (L). */
    double[] element(int e) {
        double[] out = new double[entropy.length];
        for (int l = 0; l < out.length; l++) {
            out[l] = entropy[l][e];
        }
        return out;
    }
}
