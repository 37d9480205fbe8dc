package io.vitscope.hub;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import io.vitscope.InvalidInputException;
import io.vitscope.weights.Safetensors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What each file of a model folder must look like before it may enter the cache: without a checksum from the
 * server, the body of a 200 answer (a captive portal's login page, a proxy's error page) is otherwise trusted.
 * Only the format is checked here — the safetensors header against the file's length, {@code config.json} as a
 * JSON object — not whether the model is one vitscope can load.
 */
final class CachedFormats {

    private static final int SNIFF = 512;

    private CachedFormats() {}

    /**
     * Null when {@code file} (holding what will be cached as {@code name}) has the format that name promises, else
     * what is wrong, as a phrase ("is not a safetensors file: …").
     */
    static String problem(String name, Path file) {
        try {
            if (name.equals(ModelCache.WEIGHTS_FILE)) {
                Safetensors.open(file, false).close();
            } else if (name.equals(ModelCache.CONFIG_FILE)) {
                JsonElement json = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8));
                if (!json.isJsonObject()) {
                    return "is not a JSON object" + html(file);
                }
            }
            return null;
        } catch (InvalidInputException e) {
            String detail = e.getMessage().startsWith(file + ": ")
                    ? e.getMessage().substring(file.toString().length() + 2) : e.getMessage();
            return "is not a safetensors file (" + detail + ")" + html(file);
        } catch (IOException | RuntimeException e) {
            return "is not a JSON object (" + e.getClass().getSimpleName() + ")" + html(file);
        }
    }

    /** ", but an HTML page" when the body starts like one: the usual reason a download is not what was asked. */
    private static String html(Path file) {
        byte[] head = new byte[SNIFF];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, SNIFF);
        } catch (IOException e) {
            return "";
        }
        String start = new String(head, 0, n, StandardCharsets.ISO_8859_1).stripLeading().toLowerCase(java.util.Locale.ROOT);
        return start.startsWith("<!doctype html") || start.startsWith("<html") || start.startsWith("<?xml")
                ? ": it is an HTML page" : "";
    }
}
