package io.vitscope.serve;

import jakarta.servlet.MultipartConfigElement;
import jakarta.servlet.http.Part;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.Set;
import org.eclipse.jetty.server.MultiPartFormInputStream;

/**
 * Reads an uploaded image from a request body, never more than a limit: the body itself ({@code Content-Type:
 * image/...}) or the field {@code image} of a {@code multipart/form-data} form.
 *
 * <p>A declared {@code Content-Length} above the limit is refused before a byte is read; a body without one
 * (chunked) is read up to one byte past the limit and refused there. Either way the answer is 413 and the rest of the
 * body is never read.
 */
final class Uploads {

    /** The image types {@link io.vitscope.image.ImageReader} decodes (it sniffs the bytes; the type must agree). */
    static final Set<String> IMAGE_TYPES = Set.of("image/jpeg", "image/jpg", "image/pjpeg", "image/png", "image/gif",
            "image/bmp", "image/x-bmp", "image/x-ms-bmp");

    private Uploads() {}

    /** An uploaded file: its bytes and a display name safe to echo. */
    record Upload(byte[] data, String name) {}

    static Upload read(String contentType, long contentLength, InputStream body, long limit, String nameParam)
            throws IOException {
        if (contentLength > limit) {
            throw tooLarge(limit);
        }
        String type = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT).trim();
        String bare = type.contains(";") ? type.substring(0, type.indexOf(';')).trim() : type;
        if (!bare.startsWith("image/") && !bare.equals("multipart/form-data")) {
            throw new ApiException(415, "send the image as the request body with Content-Type image/jpeg, image/png, "
                    + "image/gif or image/bmp, or as the field 'image' of a multipart/form-data form; got "
                    + (bare.isEmpty() ? "no Content-Type" : "'" + bare + "'"));
        }
        byte[] data = body.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
        if (data.length > limit) {
            throw tooLarge(limit);
        }
        if (bare.startsWith("image/")) {
            requireImageType(bare);
            requireSome(data);
            return new Upload(data, safeName(nameParam, "upload"));
        }
        return fromForm(data, contentType, limit, nameParam);
    }

    private static Upload fromForm(byte[] data, String contentType, long limit, String nameParam) throws IOException {
        MultiPartFormInputStream form = new MultiPartFormInputStream(new ByteArrayInputStream(data), contentType,
                new MultipartConfigElement(System.getProperty("java.io.tmpdir"), limit, limit, (int) Math.min(limit
                        + 1, Integer.MAX_VALUE)), null);
        try {
            Part part;
            try {
                part = form.getPart("image");
            } catch (Exception e) { // Jetty reports a malformed form as IOException or IllegalStateException
                throw new ApiException(400, "the multipart/form-data body cannot be read: " + e.getMessage());
            }
            if (part == null) {
                throw new ApiException(400, "the form has no field 'image': send the file as the field 'image'");
            }
            String partType = part.getContentType() == null ? "" : part.getContentType().toLowerCase(Locale.ROOT);
            // A browser labels a file by its name: an unknown one comes as octet-stream, and is then judged by content.
            if (!partType.isEmpty() && !partType.equals("application/octet-stream")) {
                requireImageType(partType.contains(";") ? partType.substring(0, partType.indexOf(';')).trim()
                        : partType);
            }
            byte[] bytes;
            try (InputStream in = part.getInputStream()) {
                bytes = in.readAllBytes();
            }
            requireSome(bytes);
            return new Upload(bytes, safeName(nameParam != null ? nameParam : part.getSubmittedFileName(), "upload"));
        } finally {
            form.deleteParts();
        }
    }

    private static void requireImageType(String type) {
        if (!IMAGE_TYPES.contains(type)) {
            throw new ApiException(415, "'" + type + "' is not an image type vitscope reads: use JPEG, PNG, GIF or "
                    + "BMP");
        }
    }

    private static void requireSome(byte[] data) {
        if (data.length == 0) {
            throw new ApiException(400, "the request has no image: the body is empty");
        }
    }

    static ApiException tooLarge(long limit) {
        return new ApiException(413, "the request body is larger than the limit of " + limit + " bytes (start the "
                + "server with a larger --max-upload to allow it)");
    }

    /** The last path segment of a client's file name, reduced to characters safe in JSON, HTML and file names. */
    static String safeName(String name, String fallback) {
        if (name == null || name.isBlank()) {
            return fallback;
        }
        String last = name.replace('\\', '/');
        last = last.substring(last.lastIndexOf('/') + 1);
        String clean = last.replaceAll("[^A-Za-z0-9._ -]", "_").trim();
        if (clean.isEmpty() || clean.chars().allMatch(c -> c == '.')) {
            return fallback;
        }
        return clean.length() > 100 ? clean.substring(0, 100) : clean;
    }
}
