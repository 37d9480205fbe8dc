/**
 * Loading, reading and writing models and checkpoints: {@code Models} (a ready {@code LoadedModel} from a preset
 * name, a checkpoint file, a timm hub folder, a Hugging Face folder, or the embedded model), {@code StateDicts} (check
 * every tensor, then load), checkpoint layouts ({@code CheckpointLayout}, {@code HfVitLayout}, torchvision and
 * Google/Flax names converted to timm's), {@code HfModelDir}, {@code HubConfig} (the one {@code config.json} reader
 * and writer), {@code ModelDir} (the model-folder writer and the file names {@code model.safetensors} /
 * {@code config.json}, defined there only); reading PyTorch {@code torch.save} state dicts (zip and legacy, through a
 * restricted unpickler that refuses any global a state dict does not need) and numpy {@code .npz} files, inferring an
 * architecture from tensor shapes, the strict-loading report, and {@link io.vitscope.checkpoint.Inspection}
 * ({@code vitscope inspect}).
 *
 * <p>May use: {@code model}, {@code weights}, {@code image} (data configs), the root's errors; nothing above them (no
 * predict pipeline, plots or commands).
 */
package io.vitscope.checkpoint;
