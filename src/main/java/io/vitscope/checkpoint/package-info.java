/**
 * Loading and writing models: {@code Models} (a ready {@code LoadedModel} from a preset name, a checkpoint file, a
 * timm hub folder, a Hugging Face folder, or the embedded model), {@code StateDicts} (check every tensor, then load),
 * checkpoint layouts ({@code CheckpointLayout}, {@code HfVitLayout}), {@code HfModelDir}, {@code HubConfig} (the one
 * {@code config.json} reader and writer), {@code ModelDir} (the model-folder writer and the file names
 * {@code model.safetensors} / {@code config.json}, defined there only).
 *
 * <p>May use: {@code model}, {@code weights}, {@code image} (data configs), the root's errors.
 */
package io.vitscope.checkpoint;
