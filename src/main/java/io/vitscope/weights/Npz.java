package io.vitscope.weights;

import io.vitscope.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * numpy's {@code .npz} archives: a zip of {@code name.npy} entries, as {@code np.savez} writes them (entries
 * stored uncompressed) and {@code np.load} reads them (the key is the entry name without {@code .npy}; names may
 * contain {@code /}). Reading also accepts compressed entries ({@code np.savez_compressed}).
 */
public final class Npz {

    /** Deflate cannot expand data by more than about 1032:1; a larger declared ratio is a lie or a zip bomb. */
    private static final long MAX_DEFLATE_RATIO = 1100;

    private Npz() {}

    /** Writes the arrays in the map's order (use a {@link LinkedHashMap} to choose it). */
    public static void write(Path file, Map<String, NpyArray> arrays) throws IOException {
        AtomicFiles.write(file, ch -> {
            OutputStream raw = Channels.newOutputStream(ch);
            ZipOutputStream zip = new ZipOutputStream(raw);
            for (Map.Entry<String, NpyArray> e : arrays.entrySet()) {
                byte[] bytes = Npy.encode(e.getValue());
                ZipEntry entry = new ZipEntry(e.getKey() + ".npy");
                entry.setMethod(ZipEntry.STORED);
                entry.setSize(bytes.length);
                entry.setCompressedSize(bytes.length);
                CRC32 crc = new CRC32();
                crc.update(bytes);
                entry.setCrc(crc.getValue());
                zip.putNextEntry(entry);
                zip.write(bytes);
                zip.closeEntry();
            }
            zip.finish();
            zip.flush();
        });
    }

    /** Reads every array, in the archive's order, keyed as {@code np.load} keys them. */
    public static LinkedHashMap<String, NpyArray> read(Path file) {
        if (!Files.exists(file)) {
            throw InvalidInputException.missing(file, "no such file");
        }
        LinkedHashMap<String, NpyArray> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry entry = entries.nextElement();
                String name = entry.getName();
                if (entry.isDirectory()) {
                    continue;
                }
                String where = "entry '" + name + "': ";
                if (!name.endsWith(".npy")) {
                    throw new InvalidInputException(file, where + "is not a .npy file; an .npz archive holds only "
                            + "name.npy entries");
                }
                long size = entry.getSize();
                long compressed = entry.getCompressedSize();
                if (size < 0 || compressed < 0 || size > Math.max(compressed, 0) * MAX_DEFLATE_RATIO + 1024) {
                    throw new InvalidInputException(file, where + "declares " + size + " bytes from " + compressed
                            + " compressed ones: the archive is corrupt");
                }
                String key = name.substring(0, name.length() - 4);
                try (InputStream in = zip.getInputStream(entry)) {
                    NpyArray array = Npy.parse(in, size, file, where);
                    if (out.put(key, array) != null) {
                        throw new InvalidInputException(file, where + "appears twice in the archive");
                    }
                }
            }
        } catch (NoSuchFileException e) {
            throw InvalidInputException.missing(file, "no such file");
        } catch (InvalidInputException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // ZipFile reports a damaged archive as ZipException, and bad entry names as IllegalArgumentException.
            throw new InvalidInputException(file, "is not a readable .npz (zip) archive: "
                    + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()), e);
        }
        return out;
    }
}
