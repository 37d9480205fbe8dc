package io.vitscope.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.engine.Engines;
import io.vitscope.model.VisionTransformer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * vitscope against ONNX Runtime Java in one process, on the same weights and the same input, interleaved: each round
 * runs one forward of each (the order alternating from round to round), and the figure of merit is the median over
 * rounds of the round's ratio vitscope / ORT, with a distribution-free 95 % confidence interval
 * ({@link Bench#medianInterval}). Both engines see the same load at nearly the same moment, so a busy machine slows
 * both and their ratio stays readable where two separate runs minutes apart are not.
 *
 * <pre>
 * java -cp ... io.vitscope.bench.PeerBench MODEL.onnx CKPT.safetensors ARCH [--batch 1 8] [--warmup 3] [--rounds 30]
 *      [--threads 2] [--ort-spinning on|off] [--block K]
 * </pre>
 *
 * With {@code --block K} (K ≥ 2) each variant runs K forwards back to back in its turn: the first one absorbs the
 * hand-over of the cores from the other engine's thread pool (ORT's spinning workers, libgomp's bounded spin) and is
 * not timed, the round's time is the median of the other K − 1. That lets ORT run as it ships (spinning on) and still
 * pairs the engines within seconds of each other, so the machine's minute-to-minute drift cancels in the ratio.
 *
 * Prints a human table and machine lines
 * {@code RESULT peer BATCH VITSCOPE_MS PACKED_MS ORT_MS RATIO LO HI PACKED_RATIO LO HI EVERY_MS EVERY_RATIO LO HI}
 * (ms/image medians, each ratio's median and interval): vitscope is timed with its weights as loaded; a second copy
 * of the model with its linear weights packed for MKL ({@code VisionTransformer.packWeights}; used up to
 * {@code PackedGemm.MAX_ROWS} rows); and that copy computing the last block's MLP for every token, as ORT's graph
 * does ({@code forwardEveryToken}). ORT's intra-op threads spin after each run by default; its spinning would steal
 * the two cores from the next vitscope forward, so {@code --ort-spinning off} (the default here) makes them block —
 * the setting that is fair to both when they alternate one forward at a time; {@code on} shows what it costs ORT,
 * and is fair with
 * {@code --block}.
 */
public final class PeerBench {

    private PeerBench() {}

    public static void main(String[] args) throws OrtException {
        if (args.length < 3 || args[0].startsWith("-")) {
            System.err.println("usage: PeerBench MODEL.onnx CKPT ARCH [--batch 1 8] [--warmup 3] [--rounds 30] "
                    + "[--threads 2] [--ort-spinning on|off]");
            System.exit(2);
        }
        String onnx = args[0];
        String ckpt = args[1];
        String arch = args[2];
        List<Integer> batches = new ArrayList<>(List.of(1, 8));
        int warmup = 3;
        int rounds = 30;
        int threads = Runtime.getRuntime().availableProcessors();
        boolean spinning = false;
        int block = 1;
        for (int i = 3; i < args.length; i++) {
            switch (args[i]) {
                case "--batch" -> {
                    batches.clear();
                    while (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                        batches.add(Integer.parseInt(args[++i]));
                    }
                }
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--ort-spinning" -> spinning = "on".equals(args[++i]);
                case "--block" -> block = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("Unknown option " + args[i]);
            }
        }
        String mkl = Engines.start(threads);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = OrtBench.sessionOptions(threads);
             LoadedModel loaded = Models.load(arch, java.nio.file.Path.of(ckpt));
             LoadedModel loadedPacked = Models.load(arch, java.nio.file.Path.of(ckpt))) {
            options.addConfigEntry("session.intra_op.allow_spinning", spinning ? "1" : "0");
            VisionTransformer model = loaded.model();
            // A second copy of the model, packed once: packing and unpacking one model every round left glibc
            // handing the forward fresh pages (25,000 page faults per batch-8 forward, +2-12 %).
            VisionTransformer packed = loadedPacked.model();
            packed.packWeights();
            var c = loaded.config();
            try (OrtSession session = env.createSession(onnx, options)) {
                String input = session.getInputNames().iterator().next();
                System.out.printf(Locale.ROOT, "%s; onnxruntime %s (spinning %s); %d threads each; %s; %s; load %.2f%n",
                        arch, env.getVersion(), spinning ? "on" : "off", threads, mkl,
                        block > 1 ? "blocks of " + block + " forwards, the first untimed" : "one forward per turn",
                        Bench.loadAverage());
                System.out.printf(Locale.ROOT, "%5s %9s %9s %9s %9s %9s %17s %9s %17s %9s %17s %7s%n", "batch",
                        "vitscope", "packed", "every", "ORT", "plain/ORT", "95% interval", "packed/ORT", "95% interval",
                        "every/ORT", "95% interval", "rounds");
                for (int batch : batches) {
                    long[] s = {batch, c.inChans(), c.imgHeight(), c.imgWidth()};
                    float[] data = OrtBench.input(s);
                    double[] vit = new double[rounds];
                    double[] pack = new double[rounds];
                    double[] ort = new double[rounds];
                    double[] every = new double[rounds];
                    try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), s);
                         NDManager manager = NDManager.newBaseManager()) {
                        NDArray images = manager.create(data, new Shape(s)); // (B, C, H, W)
                        for (int r = -warmup; r < rounds; r++) {
                            // Four variants, their order rotated each round: ORT, vitscope, vitscope's second copy
                            // with packed weights (which products past PackedGemm.MAX_ROWS rows leave aside), and
                            // that copy computing the last block's MLP for every token, as ORT does.
                            for (int j = 0; j < 4; j++) {
                                int v = Math.floorMod(j + r, 4);
                                double[] ts = new double[block];
                                for (int k = 0; k < block; k++) {
                                    ts[k] = v == 0 ? timeOrt(session, input, x)
                                            : timeVit(v == 1 ? model : packed, images, v == 3);
                                }
                                double t = block == 1 ? ts[0]
                                        : Bench.Stats.of(java.util.Arrays.copyOfRange(ts, 1, block)).median();
                                if (r >= 0) {
                                    (v == 0 ? ort : v == 1 ? vit : v == 2 ? pack : every)[r] = t / batch;
                                }
                            }
                        }
                    }
                    double[] ratio = new double[rounds];
                    double[] ratioPacked = new double[rounds];
                    double[] ratioEvery = new double[rounds];
                    for (int r = 0; r < rounds; r++) {
                        ratio[r] = vit[r] / ort[r];
                        ratioPacked[r] = pack[r] / ort[r];
                        ratioEvery[r] = every[r] / ort[r];
                    }
                    Bench.Stats v = Bench.Stats.of(vit);
                    Bench.Stats p = Bench.Stats.of(pack);
                    Bench.Stats o = Bench.Stats.of(ort);
                    Bench.Stats q = Bench.Stats.of(ratio);
                    Bench.Stats qp = Bench.Stats.of(ratioPacked);
                    Bench.Stats e = Bench.Stats.of(every);
                    Bench.Stats qe = Bench.Stats.of(ratioEvery);
                    double[] ci = Bench.medianInterval(ratio);
                    double[] cp = Bench.medianInterval(ratioPacked);
                    double[] ce = Bench.medianInterval(ratioEvery);
                    System.out.printf(Locale.ROOT, "%5d %9.1f %9.1f %9.1f %9.1f %8.3fx %8.3f..%.3fx %8.3fx %8.3f..%.3fx "
                            + "%8.3fx %8.3f..%.3fx %7d%n", batch, v.median(), p.median(), e.median(), o.median(),
                            q.median(), ci[0], ci[1], qp.median(), cp[0], cp[1], qe.median(), ce[0], ce[1], rounds);
                    System.out.printf(Locale.ROOT, "RESULT peer %d %.3f %.3f %.3f %.4f %.4f %.4f %.4f %.4f %.4f %.3f %.4f "
                            + "%.4f %.4f%n", batch, v.median(), p.median(), o.median(), q.median(), ci[0], ci[1],
                            qp.median(), cp[0], cp[1], e.median(), qe.median(), ce[0], ce[1]);
                }
                System.out.printf(Locale.ROOT, "load after %.2f%n", Bench.loadAverage());
            }
        }
    }

    private static double timeOrt(OrtSession session, String input, OnnxTensor x) throws OrtException {
        long t0 = System.nanoTime();
        try (OrtSession.Result out = session.run(Map.of(input, x))) {
            return (System.nanoTime() - t0) / 1e6;
        }
    }

    private static double timeVit(VisionTransformer model, NDArray images, boolean everyToken) {
        long t0 = System.nanoTime();
        (everyToken ? model.forwardEveryToken(images) : model.forward(images)).close();
        return (System.nanoTime() - t0) / 1e6;
    }
}
