/**
 * The network, module for module and name for name as timm's {@code VisionTransformer}: {@code PatchEmbed},
 * {@code Attention}, {@code Mlp}, {@code Block}, {@code VisionTransformer} as DJL blocks with timm's parameter and
 * local names, each forward declaring the probe sites it offers; {@code VitConfig} (the network's shape) and
 * {@code Presets} (timm's registry of architecture names with their data configs).
 *
 * <p>May use: {@code probe} (sites and frames), {@code image} (a preset's {@code DataConfig}), {@code engine}
 * ({@code PackedGemm}: the linear layers' packed products in a grad-free forward), the root's errors.
 * Knows nothing of checkpoints, plotting or commands.
 */
package io.vitscope.model;
