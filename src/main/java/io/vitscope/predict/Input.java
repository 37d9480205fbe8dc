package io.vitscope.predict;

/**
 * One preprocessed model input.
 *
 * @param source the file it came from; {@code file.npy[i]} for the i-th image of a batch tensor
 * @param tensor (C, H, W) float32, exactly what the model sees
 */
public record Input(String source, float[] tensor) {}
