package io.vitscope.dataset;

import java.util.List;

/**
 * One image under one logit-scale factor: a row of {@code DIR/predictions/*.parquet}. A file that could not be used
 * gives rows with {@code error} set and the model's columns null, never a missing row.
 *
 * <p>Abbreviations: k top classes, L blocks, N heads, T tokens.
 *
 * @param path the file, as the input named it
 * @param sha256 hex SHA-256 of the file's bytes; null when they could not be read
 * @param factor the attention logit scale ({@code attn = attn * factor} before every softmax); 1 = the model as is
 * @param topIndex class indices, best first, (k); null on error
 * @param topLabel class names, (k); null on error
 * @param topProb softmax probabilities, (k); null on error
 * @param label the true class index; null when unknown
 * @param entropy mean attention entropy in nats of each block's heads, (L, N); null on error
 * @param attention the class token's attention row of each block asked for, in the order asked, each (N, T); empty
 *     when none was asked for, null on error
 * @param error why the file could not be used; null when it was
 */
public record DatasetRow(String path, String sha256, double factor, int[] topIndex, String[] topLabel, float[] topProb,
                         Integer label, float[][] entropy, List<float[][]> attention, String error) {

    public boolean ok() {
        return error == null;
    }

    /** The best class, or -1 on error. */
    public int top1() {
        return ok() ? topIndex[0] : -1;
    }
}
