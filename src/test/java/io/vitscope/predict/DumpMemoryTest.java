package io.vitscope.predict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vitscope.ResidentMemory;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import io.vitscope.image.DataConfig;
import io.vitscope.model.VisionTransformer;
import io.vitscope.model.VitConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code predict --dump} streams (issue 11, item 6): before, every batch's input and logits arrays were kept until the
 * end and concatenated there, so resident memory grew by the input tensor, 3·224·224·4 = 602,112 bytes, per image
 * (1,000 ViT-Ti images: 4.2 GB). Now memory must not grow with the number of images: native and heap growth per
 * image are each bounded by a tenth of one image's tensor, 60 KB: ten times below what keeping any per-image input
 * array would cost, and above the noise of runs that keep nothing (the estimate of {@link ResidentMemory} measured
 * 5, 18 and 47 KB per image over 640 images here in fresh JVMs: malloc settling after each batch's 4.8 MB input
 * buffer, a fixed amount spread over the run, hence 1,280 images).
 *
 * <p>The model is a ViT with ViT-B's input size but one block of width 16, so that the forward costs little and the
 * inputs are as large as the real ones. The images are a PNG (decoded in Java): ImageIO's JPEG decoder allocates
 * native memory on the reader thread, whose malloc arena was still settling after 60 images in one loaded run
 * (+48 KB per image measured, +5 KB in another); a quarter of the run is warm-up. Runs in a fresh JVM (the
 * {@code memory-soak} execution).
 */
class DumpMemoryTest {

    private static final int IMAGES = 1280;
    private static final long TENSOR_BYTES = 3L * 224 * 224 * Float.BYTES;

    @TempDir
    Path tmp;

    @Test
    void dumpingManyImagesDoesNotGrowMemory() throws IOException {
        assumeTrue(ResidentMemory.available(), "needs Linux's /proc to read resident memory");
        Path dir = Files.createDirectory(tmp.resolve("images"));
        Path image = Path.of("src/test/resources/images/astronaut_257x199.png");
        for (int i = 0; i < IMAGES; i++) {
            Files.createLink(dir.resolve(String.format("%04d.png", i)), image);
        }
        VitConfig config = new VitConfig(224, 224, 16, 3, 10, 16, 1, 1, 2.0, true, 1e-6, false);
        DataConfig data = DataConfig.rgb(224, 0.875, DataConfig.Interpolation.BICUBIC,
                DataConfig.IMAGENET_DEFAULT_MEAN, DataConfig.IMAGENET_DEFAULT_STD);
        try (LoadedModel loaded = new LoadedModel("wide-input", new VisionTransformer(config).initializeRandom(0), data,
                Models.defaultLabels(10), "random weights (seed 0)")) {
            ResidentMemory memory = new ResidentMemory();
            long[] heap = new long[2];
            int warmup = IMAGES / 4;
            int[] seen = {0};
            Path dump = tmp.resolve("dump");
            PredictionRun.Summary s = PredictionRun.builder(new Classifier(loaded)).setInputs(List.of(dir))
                    .optBatch(8).optDump(dump).build().run(r -> {
                        int i = seen[0]++;
                        try {
                            if (i >= warmup && (i - warmup) % 24 == 0) {
                                memory.sample(i);
                            }
                            if (i == warmup || i == IMAGES - 1) {
                                System.gc();
                                heap[i == warmup ? 0 : 1] = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage()
                                        .getUsed();
                            }
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
            assertEquals(IMAGES, s.predicted());
            double nativePerImage = memory.bytesPerIteration();
            double heapPerImage = (heap[1] - heap[0]) / (double) (IMAGES - 1 - warmup);
            System.out.printf("dump of %d images: native resident memory %+.0f bytes per image (Theil-Sen), heap %+.0f "
                    + "bytes per image; one image's tensor is %d bytes%n", IMAGES, nativePerImage, heapPerImage,
                    TENSOR_BYTES);
            assertTrue(nativePerImage < TENSOR_BYTES / 10.0, "native growth " + nativePerImage + " B per image");
            assertTrue(heapPerImage < TENSOR_BYTES / 10.0, "heap growth " + heapPerImage + " B per image");
            assertEquals(128 + IMAGES * TENSOR_BYTES, Files.size(s.inputs()), "128-byte header, then the inputs");
            assertEquals(IMAGES * 10L * Float.BYTES + 128, Files.size(s.logits()), "128-byte header, then the logits");
        }
    }
}
