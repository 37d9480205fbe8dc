/**
 * Causal interventions on the ViT, built on the public probe API: head ablation, activation patching, the logit
 * lens, direct logit attribution, and the {@link io.vitscope.intervention.Effect} report comparing a clean run with a
 * probed one. Each analysis is one call returning a record with {@code save(dir)} and plots.
 *
 * <p>Batched: the L·H ablations and the patching grid run as batches of interventions — the input repeated along
 * the batch axis, one breakpoint editing a different (block, head) or (block, position) in each batch element — so
 * memory holds one batch of activations plus what the analysis itself needs (the clean run's activations at the
 * patched site, or the class token's residual per block), never a cache of the whole forward.
 *
 * <p>May use: {@code probe}, {@code model} (sites, config, parameters), {@code plot}, {@code weights} (npy),
 * {@code predict} (Input), {@code checkpoint} (LoadedModel), {@code analysis}. Used by: {@code cli}, notebooks.
 *
 * <p>Abbreviations: B batch, L blocks, H heads, T tokens (patches + 1, token 0 the class token), D embed dim,
 * Dh head dim, K classes, G_h × G_w the patch grid.
 */
package io.vitscope.intervention;
