package io.vitscope.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.engine.Engines;
import io.vitscope.model.Attention;
import io.vitscope.model.Block;
import io.vitscope.model.Mlp;
import io.vitscope.model.VisionTransformer;
import io.vitscope.probe.Probe;
import io.vitscope.probe.Site;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Where one forward's time goes between the probe sites of each block: breakpoints that only read the clock at
 * {@code pre_attn}, {@code pre_softmax}, {@code post_softmax}, {@code z}, {@code attn_out}, {@code pre_act},
 * {@code post_act}, {@code mlp_out} and {@code post_mlp}, summed over the blocks, median over rounds. libtorch's CPU ops
 * are synchronous, so the time between two sites is the work between them (plus the probe's own bookkeeping, which
 * the plain forward timed in the same rounds shows).
 *
 * <pre>
 * java -cp ... io.vitscope.bench.SiteProfile CKPT ARCH [--batch 1] [--rounds 20] [--threads 2] [--pack]
 * </pre>
 */
public final class SiteProfile {

    private static final Site[] SITES = {Block.PRE_ATTN, Attention.PRE_SOFTMAX, Attention.POST_SOFTMAX, Attention.Z,
        Block.ATTN_OUT, Mlp.PRE_ACT, Mlp.POST_ACT, Block.MLP_OUT, Block.POST_MLP};
    private static final String[] SPANS = {
        "norm1, qkv linear, q/k/v views, q@k^T, x scale", "softmax", "attn@v", "merge heads (copy), proj linear",
        "residual add, norm2, fc1 linear", "GELU", "fc2 linear", "residual add"};

    private SiteProfile() {}

    public static void main(String[] args) {
        String ckpt = args[0];
        String arch = args[1];
        int batch = 1;
        int rounds = 20;
        int threads = 2;
        boolean pack = false;
        for (int i = 2; i < args.length; i++) {
            switch (args[i]) {
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--pack" -> pack = true;
                default -> throw new IllegalArgumentException("Unknown option " + args[i]);
            }
        }
        Engines.start(threads);
        try (LoadedModel loaded = Models.load(arch, Path.of(ckpt)); NDManager m = NDManager.newBaseManager();
             Probe probe = Probe.on(loaded.model())) {
            VisionTransformer model = loaded.model();
            if (pack) {
                System.out.println("packed linear layers: " + model.packWeights());
            }
            int depth = model.config().depth();
            long[][] stamps = new long[depth][SITES.length];
            for (int s = 0; s < SITES.length; s++) {
                int site = s;
                probe.breakpoint("blocks.*" + (SITES[s].owner() == Attention.class ? ".attn"
                        : SITES[s].owner() == Mlp.class ? ".mlp" : ""), SITES[s].name())
                        .exec(hit -> stamps[blockOf(hit.path())][site] = System.nanoTime());
            }
            var c = loaded.config();
            NDArray x = m.randomNormal(new Shape(batch, c.inChans(), c.imgHeight(), c.imgWidth()));
            double[][] spans = new double[SPANS.length][rounds];
            double[] plain = new double[rounds];
            double[] probed = new double[rounds];
            for (int r = -3; r < rounds; r++) {
                long t0 = System.nanoTime();
                model.forward(x).close();
                long t1 = System.nanoTime();
                probe.start();
                model.forward(x).close();
                probe.stop();
                long t2 = System.nanoTime();
                if (r < 0) {
                    continue;
                }
                plain[r] = (t1 - t0) / 1e6 / batch;
                probed[r] = (t2 - t1) / 1e6 / batch;
                for (int k = 0; k < SPANS.length; k++) {
                    double sum = 0;
                    for (int b = 0; b < depth; b++) {
                        sum += (stamps[b][k + 1] - stamps[b][k]) / 1e6;
                    }
                    spans[k][r] = sum / batch;
                }
            }
            System.out.printf(Locale.ROOT, "%s, batch %d, %d threads, %d rounds; load %.2f%n", arch, batch, threads,
                    rounds, Bench.loadAverage());
            System.out.printf(Locale.ROOT, "forward %.1f ms/image plain, %.1f with the timing breakpoints%n",
                    median(plain), median(probed));
            double total = 0;
            for (int k = 0; k < SPANS.length; k++) {
                double med = median(spans[k]);
                total += med;
                System.out.printf(Locale.ROOT, "  %-50s %8.2f ms/image (all %d blocks)%n", SPANS[k], med, depth);
            }
            System.out.printf(Locale.ROOT, "  %-50s %8.2f ms/image%n", "sum of the spans", total);
        }
    }

    private static int blockOf(String path) {
        int dot = path.indexOf('.', "blocks.".length());
        return Integer.parseInt(path.substring("blocks.".length(), dot < 0 ? path.length() : dot));
    }

    private static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
