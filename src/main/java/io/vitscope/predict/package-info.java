/**
 * The predict pipeline: {@code Inputs} (files, folders and {@code .npy} tensors to model inputs), {@code Input},
 * {@code Classifier} (eval transform → model → softmax → top-k; {@code predict(input, k)} in one call),
 * {@code PredictionRun} (many files in batches: decoding on a reader thread overlapped with the forward, results
 * streamed in input order, the dump streamed to {@code .npy} files),
 * {@code Prediction} (with its one JSON form) and {@code VitTranslator} (the model through DJL's
 * {@code Translator<Image, Classifications>}).
 *
 * <p>May use: {@code checkpoint} ({@code LoadedModel}), {@code image}, {@code weights}, {@code files} (output checks),
 * the root's errors.
 */
package io.vitscope.predict;
