/**
 * The model cache and the Hugging Face downloader: {@code ModelCache} (the cache root, {@code $VITSCOPE_CACHE} or
 * {@code -Dvitscope.cache}, default {@code ~/.cache/vitscope}), {@code HubFetcher}, {@code ModelRef},
 * {@code Sha256}, and {@code DownloadListener}, the only way it reports progress (progress bars are the CLI's).
 *
 * <p>May use: {@code checkpoint} (loading a cached model, the file names), {@code model} ({@code Presets}), the
 * root's errors.
 */
package io.vitscope.hub;
