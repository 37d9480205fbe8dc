/**
 * Training the embedded Fashion-MNIST model with DJL's training API: {@code FashionTrainer}, {@code FashionMnist},
 * {@code Idx}, {@code Batches}, {@code Evaluation}, {@code TrainOptions}, {@code FashionVit}.
 *
 * <p>May use: {@code model}, {@code image}, the root's errors. Writing the trained model is {@code checkpoint}'s
 * ({@code ModelDir}).
 */
package io.vitscope.train;
