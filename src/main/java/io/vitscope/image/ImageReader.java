package io.vitscope.image;

import io.vitscope.InvalidArgumentException;
import io.vitscope.InvalidInputException;
import io.vitscope.image.ImageHeader.Format;
import io.vitscope.image.ImageHeader.GifFrame;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Decodes JPEG (baseline, progressive, grayscale, CMYK and YCCK), PNG (1- to 16-bit, gray, RGB, palette, alpha),
 * GIF (first frame) and BMP files into the pixels Pillow 9.4 gives timm: {@code Image.open(f)}, optionally
 * {@code ImageOps.exif_transpose}, then {@code convert('RGB')} — see {@link PillowConvert} for each mapping.
 * Gray sources come back with one channel (Pillow's {@code L}; {@code convert('RGB')} of it is
 * {@link Image8#toRgb()}), colour sources with three.
 *
 * <p>Untrusted input is expected: the format is sniffed from the content (never the extension), the header is read
 * before decoding and images above {@link #maxPixels()} are refused (Pillow's {@code MAX_IMAGE_PIXELS} default,
 * 89,478,485, overridable with {@code -Dvitscope.maxImagePixels=N} or {@link #withMaxPixels}), and every failure —
 * empty, truncated, corrupt, unsupported — ends as an {@link InvalidInputException} that names the file and the
 * problem.
 *
 * <p>Thread-safe and immutable; {@code with*} methods return a changed copy.
 */
public final class ImageReader {

    /** Pillow's {@code Image.MAX_IMAGE_PIXELS}: {@code 1024 * 1024 * 1024 // 4 // 3}. */
    public static final long DEFAULT_MAX_IMAGE_PIXELS = 89_478_485L;
    /** System property overriding {@link #DEFAULT_MAX_IMAGE_PIXELS}. */
    public static final String MAX_PIXELS_PROPERTY = "vitscope.maxImagePixels";
    /** Files above this size are refused before being read into memory. */
    private static final long MAX_FILE_BYTES = 1L << 30;

    private final long maxPixels;
    private final boolean exifOrientation;

    private ImageReader(long maxPixels, boolean exifOrientation) {
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("the pixel limit must be positive, got " + maxPixels);
        }
        this.maxPixels = maxPixels;
        this.exifOrientation = exifOrientation;
    }

    /** EXIF orientation applied; pixel limit from {@value #MAX_PIXELS_PROPERTY} or Pillow's default. */
    public static ImageReader defaults() {
        String p = System.getProperty(MAX_PIXELS_PROPERTY);
        long limit = DEFAULT_MAX_IMAGE_PIXELS;
        if (p != null && !p.isBlank()) {
            try {
                limit = Long.parseLong(p.trim().replace("_", ""));
            } catch (NumberFormatException e) {
                throw new InvalidArgumentException(MAX_PIXELS_PROPERTY, "-D" + MAX_PIXELS_PROPERTY + "=" + p
                        + " is not a whole number of pixels (e.g. 200000000)");
            }
        }
        return new ImageReader(limit, true);
    }

    /** A reader refusing images with more than {@code maxPixels} pixels (width × height). */
    public ImageReader withMaxPixels(long maxPixels) {
        return new ImageReader(maxPixels, exifOrientation);
    }

    /**
     * An already decoded image (for instance a DJL {@code Image}'s wrapped {@code BufferedImage}) as Pillow would
     * hold it: 8-bit, grey or RGB, alpha dropped. No EXIF orientation: the pixels are taken as they are.
     */
    public Image8 convert(BufferedImage image) {
        if (image == null) {
            throw new IllegalArgumentException("no image to convert");
        }
        long pixels = (long) image.getWidth() * image.getHeight();
        if (pixels > maxPixels) {
            throw new io.vitscope.InvalidInputException(null, "the image has " + pixels + " pixels, more than the limit of "
                    + maxPixels + " (raise it with -D" + MAX_PIXELS_PROPERTY + ")");
        }
        return PillowConvert.fromBufferedImage(image, true);
    }

    /**
     * Whether to apply the EXIF orientation tag ({@code ImageOps.exif_transpose}). timm's eval transform does not, so
     * pass {@code false} to reproduce timm's numbers on phone photos; the default ({@code true}) shows the model the
     * picture the way a viewer displays it.
     */
    public ImageReader withExifOrientation(boolean apply) {
        return new ImageReader(maxPixels, apply);
    }

    public long maxPixels() {
        return maxPixels;
    }

    public boolean exifOrientation() {
        return exifOrientation;
    }

    public Image8 read(Path file) {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw InvalidInputException.missing(file, "no such file");
        } catch (IOException e) {
            throw new InvalidInputException(file, "cannot read the file: " + e.getMessage(), e);
        }
        if (size > MAX_FILE_BYTES) {
            throw new InvalidInputException(file, "the file is " + size + " bytes, more than the "
                    + MAX_FILE_BYTES + " an image may have here");
        }
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new InvalidInputException(file, "cannot read the file: " + e.getMessage(), e);
        }
        return decode(data, file);
    }

    /** Decodes an in-memory file; {@code displayName} names it in error messages. */
    public Image8 read(byte[] data, String displayName) {
        return decode(data, pathOf(displayName));
    }

    /** Reads the whole stream (not closed here) and decodes it; {@code displayName} names it in errors. */
    public Image8 read(InputStream in, String displayName) {
        Path name = pathOf(displayName);
        byte[] data;
        try {
            data = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, MAX_FILE_BYTES + 1));
        } catch (IOException e) {
            throw new InvalidInputException(name, "cannot read the stream: " + e.getMessage(), e);
        }
        if (data.length > MAX_FILE_BYTES) {
            throw new InvalidInputException(name, "the stream holds more than " + MAX_FILE_BYTES + " bytes");
        }
        return decode(data, name);
    }

    // ------------------------------------------------------------------ decoding

    private Image8 decode(byte[] data, Path file) {
        ImageHeader h;
        try {
            h = ImageHeader.parse(data);
        } catch (ImageHeader.HeaderException e) {
            throw new InvalidInputException(file, e.getMessage());
        }
        long pixels = (long) h.width() * h.height();
        if (pixels > maxPixels) {
            throw new InvalidInputException(file, String.format(Locale.ROOT,
                    "the %s header declares %dx%d = %d pixels, above the limit of %d (a guard against "
                            + "decompression bombs, as Pillow's MAX_IMAGE_PIXELS): if the image is genuine, raise it "
                            + "with -D%s=N", h.format(), h.width(), h.height(), pixels, maxPixels, MAX_PIXELS_PROPERTY));
        }
        Image8 im;
        try {
            im = decodePixels(data, h);
        } catch (IOException e) {
            String why = e instanceof java.io.EOFException ? "the file ends early"
                    : e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new InvalidInputException(file, "corrupt or truncated " + h.format() + " data: " + why, e);
        } catch (RuntimeException e) {
            // ImageIO's decoders report some corruptions as runtime exceptions (index errors, illegal states)
            throw new InvalidInputException(file, "corrupt " + h.format() + " data: the decoder failed with "
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()), e);
        } catch (OutOfMemoryError e) {
            // within the pixel limit; a corrupt field elsewhere (e.g. a chunk length) asked for a huge buffer
            throw new InvalidInputException(file, "corrupt " + h.format() + " data: decoding it needs more memory "
                    + "than available, although the image is only " + h.width() + "x" + h.height());
        }
        return exifOrientation ? Exif.transpose(im, h.exifOrientation()) : im;
    }

    private static Image8 decodePixels(byte[] data, ImageHeader h) throws IOException {
        Iterator<javax.imageio.ImageReader> readers = ImageIO.getImageReadersByFormatName(h.format().imageIoName);
        if (!readers.hasNext()) {
            throw new IOException("this Java runtime has no " + h.format() + " decoder");
        }
        javax.imageio.ImageReader reader = readers.next();
        List<String> warnings = new ArrayList<>();
        try (MemoryCacheImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
            reader.setInput(in, true, true);
            reader.addIIOReadWarningListener(collect(warnings));
            Image8 im;
            if (h.format() == Format.JPEG && h.jpegComponents() == 4) {
                // ImageIO refuses to turn CMYK into a BufferedImage, but hands out the raw samples
                Raster raster = reader.readRaster(0, null);
                failOnTruncation(h, warnings);
                im = PillowConvert.fromCmykJpeg(raster, h.adobeTransform() == 2);
            } else {
                BufferedImage bi = reader.read(0);
                failOnTruncation(h, warnings);
                im = h.format() == Format.GIF ? gifCanvas(bi, h) : PillowConvert.fromBufferedImage(bi, true);
            }
            if (im.width() != h.width() || im.height() != h.height()) {
                throw new IOException("the header declares " + h.width() + "x" + h.height()
                        + " but the decoder produced " + im.width() + "x" + im.height());
            }
            return im;
        } finally {
            reader.dispose();
        }
    }

    /**
     * libjpeg reports a truncated JPEG only as a warning and fills the rest with gray; Pillow raises "image file is
     * truncated" instead. Other JPEG warnings (e.g. extraneous bytes) are tolerated, as Pillow tolerates them; the
     * other decoders' warnings all mean broken data.
     */
    private static void failOnTruncation(ImageHeader h, List<String> warnings) throws IOException {
        for (String w : warnings) {
            String lw = w.toLowerCase(Locale.ROOT);
            if (h.format() != Format.JPEG || lw.contains("premature end") || lw.contains("truncated")
                    || lw.contains("missing eoi")) {
                throw new IOException(w);
            }
        }
    }

    private static IIOReadWarningListener collect(List<String> warnings) {
        return (source, warning) -> warnings.add(warning);
    }

    /**
     * Pillow's first GIF frame: a canvas of the logical screen filled with the transparent index (or index 0), the
     * frame's indices pasted at its offset, then looked up in the frame's palette (GifImagePlugin
     * {@code load_prepare}); the canvas grows when the frame sticks out of the screen, as Pillow's does.
     */
    private static Image8 gifCanvas(BufferedImage frame, ImageHeader h) throws IOException {
        GifFrame f = h.gifFrame();
        if (!(frame.getColorModel() instanceof IndexColorModel icm)) {
            return PillowConvert.fromBufferedImage(frame, true);
        }
        if (frame.getWidth() != f.width() || frame.getHeight() != f.height()) {
            throw new IOException("the frame header declares " + f.width() + "x" + f.height()
                    + " but the decoder produced " + frame.getWidth() + "x" + frame.getHeight());
        }
        if (f.left() == 0 && f.top() == 0 && f.width() == h.width() && f.height() == h.height()) {
            return PillowConvert.fromBufferedImage(frame, true);
        }
        WritableRaster canvas = icm.createCompatibleWritableRaster(h.width(), h.height()); // (H, W) indices
        int fill = f.transparency() >= 0 ? f.transparency() : 0;
        int[] row = new int[h.width()];
        java.util.Arrays.fill(row, fill);
        for (int y = 0; y < h.height(); y++) {
            canvas.setSamples(0, y, h.width(), 1, 0, row);
        }
        canvas.setRect(f.left(), f.top(), frame.getRaster());
        return PillowConvert.fromBufferedImage(new BufferedImage(icm, canvas, false, null), true);
    }

    private static Path pathOf(String displayName) {
        if (displayName == null) {
            return null;
        }
        try {
            return Path.of(displayName);
        } catch (InvalidPathException e) {
            return Path.of(displayName.replaceAll("[^\\w.\\-/]", "_"));
        }
    }
}
