package io.vitscope.hub;

import io.vitscope.VitscopeException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/** SHA-256 digests as the hub writes them: 64 lower-case hex digits. */
public final class Sha256 {

    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

    private Sha256() {}

    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    public static String hex(MessageDigest digest) {
        return HexFormat.of().formatHex(digest.digest());
    }

    public static String of(byte[] bytes) {
        MessageDigest digest = newDigest();
        digest.update(bytes);
        return hex(digest);
    }

    public static String of(Path file) throws IOException {
        MessageDigest digest = newDigest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return hex(digest);
    }

    /** Whether {@code text} (any case) is a SHA-256 in hex, as opposed to, say, a git SHA-1 ETag. */
    public static boolean looksLikeSha256(String text) {
        return text != null && HEX64.matcher(text.toLowerCase(Locale.ROOT)).matches();
    }

    /**
     * A user-given checksum, normalised to lower case; {@code sha256:} prefixes (as in OCI digests) are accepted.
     *
     * @throws VitscopeException if it is not 64 hex digits
     */
    public static String parse(String text) {
        String hex = text.strip().toLowerCase(Locale.ROOT);
        if (hex.startsWith("sha256:")) {
            hex = hex.substring("sha256:".length());
        }
        if (!HEX64.matcher(hex).matches()) {
            throw new VitscopeException("'" + text + "' is not a SHA-256: expected 64 hexadecimal digits, as printed by"
                    + " sha256sum or shown on the file's page on huggingface.co");
        }
        return hex;
    }
}
