package io.vitscope.intervention;

import io.vitscope.InvalidArgumentException;
import ai.djl.ndarray.NDArray;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.model.VisionTransformer;
import io.vitscope.probe.Probe;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What an intervention did to one prediction: a clean run against a probed one.
 *
 * <ul>
 *   <li>{@code kl} = KL(clean ‖ probed) = Σ_k p_clean(k) (ln p_clean(k) − ln p_probed(k)) of the class
 *       distributions, in nats (log-softmax in double precision);</li>
 *   <li>the top-1 class of each run, and whether it flipped;</li>
 *   <li>Δ logit and Δ probability of the target class (probed − clean);</li>
 *   <li>Δ mean attention entropy per block (probed − clean), in nats, as {@link io.vitscope.analysis.AttentionEntropy}.</li>
 * </ul>
 *
 * <pre>{@code
 * Effect e = Effect.measure(model, image, -1, probe -> LogitScaling.install(probe, 3));
 * e.kl(); e.flipped(); e.deltaEntropy()[4];
 * }</pre>
 *
 * @param target the class whose logit and probability are compared
 * @param targetLabel its name
 * @param kl KL(clean ‖ probed), nats
 * @param top1Clean the clean run's top-1 class
 * @param top1Probed the probed run's top-1 class
 * @param logitClean the target's clean logit
 * @param deltaLogit probed − clean logit of the target
 * @param probabilityClean the target's clean probability
 * @param deltaProbability probed − clean probability of the target
 * @param deltaEntropy probed − clean mean attention entropy of each block, (L)
 */
public record Effect(int target, String targetLabel, double kl, int top1Clean, int top1Probed, double logitClean,
                     double deltaLogit, double probabilityClean, double deltaProbability, double[] deltaEntropy) {

    public boolean flipped() {
        return top1Clean != top1Probed;
    }

    /** The effect between two runs' logits (K) and attention entropies (L). */
    public static Effect compare(float[] clean, float[] probed, double[] cleanEntropy, double[] probedEntropy,
                                 int target, List<String> labels) {
        if (clean.length != probed.length || clean.length == 0) {
            throw new InvalidArgumentException("effect: the two runs have " + clean.length + " and " + probed.length
                    + " logits; compare runs of the same model");
        }
        if (target < 0 || target >= clean.length) {
            throw new InvalidArgumentException("effect: target " + target + " is not a class of a " + clean.length
                    + "-class model");
        }
        if (cleanEntropy.length != probedEntropy.length) {
            throw new InvalidArgumentException("effect: " + cleanEntropy.length + " and " + probedEntropy.length
                    + " blocks of attention entropy; compare runs of the same model");
        }
        double[] lp = Runs.logSoftmax(clean);
        double[] lq = Runs.logSoftmax(probed);
        double kl = 0;
        for (int k = 0; k < lp.length; k++) {
            double p = Math.exp(lp[k]);
            if (p > 0) {
                kl += p * (lp[k] - lq[k]);
            }
        }
        double[] dh = new double[cleanEntropy.length];
        for (int l = 0; l < dh.length; l++) {
            dh[l] = probedEntropy[l] - cleanEntropy[l];
        }
        return new Effect(target, labels.get(target), Math.max(0, kl), Runs.argmax(clean), Runs.argmax(probed),
                clean[target], (double) probed[target] - clean[target], Math.exp(lp[target]),
                Math.exp(lq[target]) - Math.exp(lp[target]), dh);
    }

    /**
     * Runs {@code image} twice — unprobed, then with {@code intervention} installed on a probe — and compares.
     *
     * @param image (1, C, H, W) or (C, H, W), preprocessed
     * @param target a class index, or -1 for the clean run's top-1
     * @param intervention adds breakpoints to the probe, e.g. {@code p -> LogitScaling.install(p, 3)}
     */
    public static Effect measure(LoadedModel model, NDArray image, int target, Consumer<Probe> intervention) {
        NDArray x = Runs.image(model, image, "image");
        Runs.requireClass(target, model, "target", true);
        VisionTransformer vit = model.model();
        Runs.Observed clean = Runs.observe(vit, x, p -> { });
        Runs.Observed probed = Runs.observe(vit, x, intervention);
        int c = target < 0 ? Runs.argmax(clean.logits()) : target;
        return compare(clean.logits(), probed.logits(), clean.entropy(), probed.entropy(), c, model.labels());
    }

    /** The fields as JSON-ready values (entropy as a list), for {@code effects.json}. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("target", target);
        m.put("target_label", targetLabel);
        m.put("kl_clean_probed", kl);
        m.put("top1_clean", top1Clean);
        m.put("top1_probed", top1Probed);
        m.put("top1_flipped", flipped());
        m.put("logit_clean", logitClean);
        m.put("delta_logit", deltaLogit);
        m.put("probability_clean", probabilityClean);
        m.put("delta_probability", deltaProbability);
        List<Double> dh = new ArrayList<>();
        for (double v : deltaEntropy) {
            dh.add(v);
        }
        m.put("delta_attention_entropy", dh);
        return m;
    }

    /** A few lines for a terminal, class names from {@code labels}. */
    public String describe(List<String> labels) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "KL(clean || probed) = %.6g nats%n", kl));
        sb.append("top-1: ").append(labels.get(top1Clean)).append(" -> ").append(labels.get(top1Probed))
                .append(flipped() ? " (flipped)" : " (unchanged)").append(System.lineSeparator());
        sb.append(String.format(Locale.ROOT, "target %s: logit %.5g %+.5g, probability %.5g %+.5g%n", targetLabel,
                logitClean, deltaLogit, probabilityClean, deltaProbability));
        sb.append("delta attention entropy per block (nats):");
        for (double v : deltaEntropy) {
            sb.append(String.format(Locale.ROOT, " %+.4f", v));
        }
        return sb.toString();
    }

    /** {@code effects.json}: what was compared with what, and one effect per intervention under its name. */
    static Map<String, Object> json(String reference, List<String> names, List<Effect> effects) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("reference", reference);
        List<Map<String, Object>> list = new ArrayList<>();
        for (int i = 0; i < effects.size(); i++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("intervention", names.get(i));
            m.putAll(effects.get(i).toMap());
            list.add(m);
        }
        root.put("effects", list);
        return root;
    }
}
