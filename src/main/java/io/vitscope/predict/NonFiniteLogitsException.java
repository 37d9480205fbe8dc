package io.vitscope.predict;

import io.vitscope.InvalidInputException;
import java.nio.file.Path;

/**
 * A forward produced NaN or infinite logits: somewhere a value left float32's range (an input near 3e38, weights
 * scaled far beyond training, an attention logit scale of 1e30). Softmax would turn them into NaN probabilities
 * ranked in class order — a result that looks like one and is not. It is a problem of that input with that model,
 * so the CLI treats it as an unusable input (exit 3) and goes on with the next one.
 */
public class NonFiniteLogitsException extends InvalidInputException {

    /** The problem, without the input's name. */
    public static final String PROBLEM = "the model's logits are NaN or infinite (a value overflowed float32 in the "
            + "forward: an input, a weight or a logit scale too large), so no class can be ranked";

    private static final long serialVersionUID = 1L;

    public NonFiniteLogitsException(Path file) {
        super(file, PROBLEM);
    }
}
