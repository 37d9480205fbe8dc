package io.vitscope.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.vitscope.image.DataConfig.CropMode;
import io.vitscope.image.DataConfig.Interpolation;
import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The size arithmetic of timm/torchvision's eval transform, the inverse for display, and the DJL batch. */
class EvalTransformTest {

    private static EvalTransform square(int size, double cropPct) {
        return new EvalTransform(DataConfig.rgb(size, cropPct, Interpolation.BICUBIC,
                DataConfig.IMAGENET_INCEPTION_MEAN, DataConfig.IMAGENET_INCEPTION_STD));
    }

    @Test
    void shorterSideThenTorchvisionLongSide() {
        // floor(224 / 0.9) = 248; long side int(248 * 500 / 375) = int(330.666..) = 330
        assertArrayEquals(new int[] {330, 248}, square(224, 0.9).resizedSize(500, 375));
        assertArrayEquals(new int[] {248, 330}, square(224, 0.9).resizedSize(375, 500));
        // floor(224 / 0.875) = 256
        assertArrayEquals(new int[] {256, 256}, square(224, 0.875).resizedSize(10, 10));
    }

    @Test
    void anExtremeAspectRatioIsRefusedBeforeTheResizeAllocates() {
        // A 40,000x2 strip (80,000 pixels, well inside the reader's limit) resized to a shorter side of 248 would be
        // 4,960,000x248 = 1.2 billion pixels (3.7 GB): before, the resize tried to allocate it.
        var e = assertThrows(io.vitscope.InvalidInputException.class,
                () -> square(224, 0.9).resize(Image8.blank(40_000, 2, 3)));
        assertTrue(e.getMessage().contains("aspect ratio (20000:1) is too extreme"), e.getMessage());
        assertArrayEquals(new int[] {248 * 300, 248}, square(224, 0.9).resizedSize(600, 2), "300:1 still fits");
    }

    @Test
    void nonSquareInputResizesBothSidesAsTimm() {
        EvalTransform t = new EvalTransform(new DataConfig(3, 64, 96, 0.9, Interpolation.BILINEAR, CropMode.CENTER,
                DataConfig.IMAGENET_DEFAULT_MEAN, DataConfig.IMAGENET_DEFAULT_STD));
        assertArrayEquals(new int[] {106, 71}, t.resizedSize(1000, 10), "(int(64 / 0.9), int(96 / 0.9)) as (W, H)");
    }

    @Test
    void centerCropRoundsHalvesToEvenLikePython() {
        Image8 im = Image8.blank(7, 5, 1);
        for (int i = 0; i < 35; i++) {
            im.pixels()[i] = (byte) i;
        }
        // (7 - 4) / 2 = 1.5 -> round() = 2; (5 - 4) / 2 = 0.5 -> 0
        Image8 c = EvalTransform.centerCrop(im, 4, 4);
        assertEquals(2, c.get(0, 0, 0));
        // a crop larger than the image pads with zeros, (crop - size) // 2 before: 7 -> 10 puts 1 zero column left
        Image8 padded = EvalTransform.centerCrop(im, 5, 10);
        assertEquals(0, padded.get(0, 0, 0));
        assertEquals(0, padded.get(1, 0, 0));
        assertEquals(1, padded.get(2, 0, 0));
        assertEquals(0, padded.get(9, 4, 0));
    }

    @Test
    void denormalizeInvertsTheTensor() {
        EvalTransform t = square(32, 0.9);
        Image8 img = ImageReader.defaults().read(Goldens.IMAGES.resolve("tiny_20x15.png"));
        Image8 crop = t.resizeAndCrop(img);
        BufferedImage back = t.denormalize(t.toTensor(crop));
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                int rgb = back.getRGB(x, y);
                assertEquals(crop.get(x, y, 0), rgb >> 16 & 0xFF, "exact after rounding (tolerance 0)");
                assertEquals(crop.get(x, y, 2), rgb & 0xFF);
            }
        }
    }

    @Test
    void batchIsBchwInInputOrder() {
        EvalTransform t = new EvalTransform(new DataConfig(1, 28, 28, 1.0, Interpolation.BILINEAR, CropMode.CENTER,
                new double[] {0.2860}, new double[] {0.3530}));
        Image8 a = ImageReader.defaults().read(Goldens.IMAGES.resolve("gray_97x75.png"));
        Image8 b = ImageReader.defaults().read(Goldens.IMAGES.resolve("chelsea_200x150.jpg"));
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = t.batch(m, List.of(a, b));
            assertEquals(new Shape(2, 1, 28, 28), x.getShape());
            float[] all = x.toFloatArray();
            float[] second = java.util.Arrays.copyOfRange(all, 28 * 28, 2 * 28 * 28);
            assertArrayEquals(t.apply(b), second, 0f, "batch row 1 is image 1 (tolerance 0)");
        }
    }
}
