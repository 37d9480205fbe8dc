package io.vitscope.predict;

/** One of the top classes for an image: its rank (1 = best), class index, name and softmax probability. */
public record Prediction(int rank, int index, String label, float probability) {}
