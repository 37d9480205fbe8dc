/**
 * Gradient relevance for ViTs and a score for any relevance map: Chefer et al.'s rule, the corrected grad-rollout,
 * attention Grad-CAM and integrated gradients ({@link io.vitscope.relevance.Relevance}), the gradients they are made of
 * ({@link io.vitscope.relevance.Gradients}: ∂y/∂A per block and ∂y/∂x through DJL's PyTorch autograd, taken at the
 * probe's sites), and Chefer et al.'s perturbation test ({@link io.vitscope.relevance.Faithfulness}).
 *
 * <p>Results are records with {@code save(...)} and {@code plot()}; {@code RelevanceFigure} draws one map over its image
 * in one call (the gradient modes of {@code vitscope attention}). May use {@code model}, {@code checkpoint},
 * {@code predict}, {@code image}, {@code probe}, {@code analysis}, {@code plot} and {@code weights} (and DJL's PyTorch
 * engine for the backward pass); the commands ({@code cli}) use this package, never the other way round.
 */
package io.vitscope.relevance;
