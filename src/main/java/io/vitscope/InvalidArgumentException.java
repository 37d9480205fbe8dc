package io.vitscope;

/**
 * A request names something that does not exist or a value outside its range: an unknown preset, module path, site
 * or pattern, a block, head or image index out of range, a setting out of bounds. The CLI exits with status 2
 * (usage) on it. It is an {@link IllegalArgumentException}, so callers that catch those keep working.
 *
 * <p>The message names the library's parameter ({@code block 12 is out of range ...}), never a command-line flag;
 * {@link #parameter()} lets a command line say which of its flags that was.
 */
public class InvalidArgumentException extends IllegalArgumentException {

    private final String parameter;

    /**
     * @param parameter the parameter's name as the library spells it ({@code block}, {@code heads}), or null
     * @param message what was expected, what was found and what to do
     */
    public InvalidArgumentException(String parameter, String message) {
        super(message);
        this.parameter = parameter;
    }

    /** A message that names no single parameter (an unknown preset, module path or site). */
    public InvalidArgumentException(String message) {
        this(null, message);
    }

    /** The parameter at fault, or null. */
    public String parameter() {
        return parameter;
    }
}
