/**
 * Images as timm sees them: decoding as Pillow does ({@code ImageReader}, {@code ImageHeader}, {@code Exif},
 * {@code PillowConvert}), Pillow's resize ({@code PillowResize}), timm's eval transform ({@code EvalTransform}) and
 * its {@code DataConfig}.
 *
 * <p>May use: the root's errors. Nothing of {@code model} (a data config is plain data, as in timm).
 */
package io.vitscope.image;
