/**
 * Checkpoint files and parameter layouts: reading PyTorch {@code torch.save} state dicts (zip and legacy, through a
 * restricted unpickler that refuses any global a state dict does not need), numpy {@code .npz} and safetensors files,
 * converting torchvision and Google/Flax parameter names to timm's, inferring an architecture from tensor shapes, the
 * strict-loading report, and {@link io.vitscope.checkpoint.Inspection} ({@code vitscope inspect}).
 *
 * <p>May use {@code io.vitscope.weights} (tensor files), {@code io.vitscope.model} (configs, presets, the model for
 * its parameter shapes) and the root exceptions; nothing above them (no predict pipeline, plots or commands).
 */
package io.vitscope.checkpoint;
