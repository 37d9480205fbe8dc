package io.vitscope.checkpoint;

import io.vitscope.InvalidInputException;
import java.nio.file.Path;

/**
 * A checkpoint's pickle names a global that a state dict never needs ({@code os.system}, {@code builtins.eval}, …):
 * the file is refused before anything in it is built or called.
 */
public final class UnsafeCheckpointException extends InvalidInputException {

    private final String global;

    public UnsafeCheckpointException(Path file, String global, String problem) {
        super(file, "refused: " + problem);
        this.global = global;
    }

    /** The refused global, {@code module.name} (e.g. {@code posix.system}). */
    public String global() {
        return global;
    }
}
