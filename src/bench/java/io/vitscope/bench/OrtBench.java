package io.vitscope.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * ONNX Runtime Java's time for a ViT exported by {@code scripts/export_onnx.py}: the peer a Java user would otherwise
 * pick (issue #2 item 7). Built only with {@code mvn -Pbench}; {@code scripts/bench_peers.sh} runs it.
 *
 * <pre>
 * java -cp ... io.vitscope.bench.OrtBench MODEL.onnx [--batch 1 8] [--warmup 2] [--iterations 10] [--threads 2]
 *     [--profile PREFIX]
 * </pre>
 *
 * Prints, per batch size, a human line and a machine line {@code RESULT ort BATCH MEDIAN MIN MAX} (ms/image), with
 * the same conventions as {@code vitscope bench}: wall time of one {@code session.run} (input already built), the
 * median over iterations, divided by the batch size.
 */
public final class OrtBench {

    private OrtBench() {}

    public static void main(String[] args) throws OrtException {
        if (args.length < 1 || args[0].startsWith("-")) {
            System.err.println("usage: OrtBench MODEL.onnx [--batch 1 8] [--warmup 2] [--iterations 10] [--threads 2]"
                    + " [--profile PREFIX]");
            System.exit(2);
        }
        String model = args[0];
        List<Integer> batches = new ArrayList<>(List.of(1, 8));
        int warmup = 2;
        int iterations = 10;
        int threads = Runtime.getRuntime().availableProcessors();
        String profile = null;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--batch" -> {
                    batches.clear();
                    while (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                        batches.add(Integer.parseInt(args[++i]));
                    }
                }
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--iterations" -> iterations = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--profile" -> profile = args[++i];
                default -> throw new IllegalArgumentException("Unknown option " + args[i]);
            }
        }

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = sessionOptions(threads)) {
            if (profile != null) {
                options.enableProfiling(profile);
            }
            try (OrtSession session = env.createSession(model, options)) {
                String input = session.getInputNames().iterator().next();
                long[] shape = ((ai.onnxruntime.TensorInfo) session.getInputInfo().get(input).getInfo()).getShape();
                System.out.printf(Locale.ROOT, "onnxruntime %s, %d intra-op threads, input %s %s%n", env.getVersion(),
                        threads, input, Arrays.toString(shape));
                for (int batch : batches) {
                    long[] s = {batch, shape[1], shape[2], shape[3]};
                    float[] data = input(s);
                    try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), s)) {
                        double[] ms = new double[iterations];
                        for (int r = -warmup; r < iterations; r++) {
                            long t0 = System.nanoTime();
                            try (OrtSession.Result out = session.run(Map.of(input, x))) {
                                long t1 = System.nanoTime();
                                if (r >= 0) {
                                    ms[r] = (t1 - t0) / 1e6 / batch;
                                }
                            }
                        }
                        Arrays.sort(ms);
                        double median = ms.length % 2 == 1 ? ms[ms.length / 2]
                                : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2;
                        System.out.printf(Locale.ROOT, "ort batch %d: %.1f ms/image (median of %d, min %.1f, max %.1f)%n",
                                batch, median, iterations, ms[0], ms[ms.length - 1]);
                        System.out.printf(Locale.ROOT, "RESULT ort %d %.3f %.3f %.3f%n", batch, median, ms[0],
                                ms[ms.length - 1]);
                    }
                }
            }
        }
    }

    /** The session set-up every ORT timing here uses: {@code threads} intra-op threads, all graph optimisations. */
    static OrtSession.SessionOptions sessionOptions(int threads) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(threads);
        options.setInterOpNumThreads(1);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        return options;
    }

    /** A seed-0 uniform [-1, 1) input of {@code shape}: the same numbers in every runner. */
    static float[] input(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] data = new float[Math.toIntExact(n)];
        SplittableRandom random = new SplittableRandom(0);
        for (int j = 0; j < data.length; j++) {
            data[j] = (float) (random.nextDouble() * 2 - 1);
        }
        return data;
    }
}
