package io.vitscope.hub;

import io.vitscope.InvalidArgumentException;
import io.vitscope.model.Presets;
import io.vitscope.model.Presets.Preset;
import java.util.regex.Pattern;

/**
 * A pretrained checkpoint as timm names it: an architecture from {@link Presets} and a pretrained tag,
 * {@code vit_base_patch16_224.orig_in21k_ft_in1k}. On the Hugging Face hub it lives in the repository
 * {@code timm/<arch>.<tag>}; in the cache in the directory {@code <arch>.<tag>}.
 */
public record ModelRef(String arch, String tag) {

    /** timm's tags are identifiers; anything else (a slash, "..") must not reach a URL or a directory name. */
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_\\-]*");

    /** The organisation that publishes timm's checkpoints on the hub. */
    public static final String HUB_ORG = "timm";

    /**
     * Reads {@code ARCH} or {@code ARCH.TAG}; a bare architecture gets its preset's default tag.
     *
     * @throws InvalidArgumentException for an unknown architecture (listing the valid ones) or a malformed tag: a
     *     request the library refuses, as {@code Presets.get} refuses an unknown name (the CLI's exit status 2)
     */
    public static ModelRef parse(String archOrArchDotTag) {
        String text = archOrArchDotTag == null ? "" : archOrArchDotTag.strip();
        int dot = text.indexOf('.');
        String arch = dot < 0 ? text : text.substring(0, dot);
        Preset preset = Presets.find(arch).orElseThrow(() -> new InvalidArgumentException("model",
                "Unknown model '" + text + "'. Valid models: " + String.join(", ", Presets.names())
                        + " (optionally with a pretrained tag, e.g. vit_base_patch16_224.augreg_in21k_ft_in1k)"));
        if (dot < 0) {
            return new ModelRef(preset.name(), preset.defaultTag());
        }
        String tag = text.substring(dot + 1);
        if (!TAG.matcher(tag).matches()) {
            throw new InvalidArgumentException("model", "Malformed pretrained tag '" + tag + "' in '" + text
                    + "': expected letters, digits, '_' or '-', as in " + preset.name() + "." + preset.defaultTag());
        }
        return new ModelRef(preset.name(), tag);
    }

    /** {@code arch.tag}: timm's full model name, the cache directory's name. */
    public String name() {
        return arch + "." + tag;
    }

    /** {@code timm/arch.tag}. */
    public String repoId() {
        return HUB_ORG + "/" + name();
    }

    /** Whether this is the tag the preset's config describes (other tags may have another head, e.g. in21k). */
    public boolean isDefaultTag() {
        return tag.equals(Presets.get(arch).defaultTag());
    }
}
