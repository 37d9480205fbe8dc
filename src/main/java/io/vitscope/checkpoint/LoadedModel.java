package io.vitscope.checkpoint;

import io.vitscope.image.DataConfig;
import io.vitscope.model.VisionTransformer;
import io.vitscope.model.VitConfig;
import java.util.List;

/**
 * A model ready to predict: the network with its weights, how its input is prepared, and its class names.
 *
 * @param name the architecture's name (a timm preset name, or the name in the checkpoint's config)
 * @param source where the weights came from, for messages ("random weights" for an untrained model)
 */
public record LoadedModel(String name, VisionTransformer model, DataConfig dataConfig, List<String> labels,
                          String source) implements AutoCloseable {

    public LoadedModel {
        labels = labels.stream().map(LoadedModel::singleLine).toList();
        if (labels.size() != model.config().numClasses()) {
            throw new IllegalArgumentException(labels.size() + " class names for a model with "
                    + model.config().numClasses() + " classes");
        }
    }

    /**
     * A class name as vitscope shows it: one line, whatever the config held. Control characters (tab, newline,
     * carriage return, the other C0 and C1 codes, DEL) and the Unicode line and paragraph separators become the
     * backslash escapes Java and Python write: tab, newline and carriage return as backslash-t, -n, -r, the others
     * as backslash-u and four hex digits. Everything else, a backslash included, stays as it is. Line-based output
     * (one prediction per line, tab-separated columns, CSV) stays parseable, and the escape shows what the name held.
     */
    public static String singleLine(String label) {
        StringBuilder sb = null;
        for (int i = 0; i < label.length(); i++) {
            char ch = label.charAt(i);
            boolean control = Character.isISOControl(ch) || ch == '\u2028' || ch == '\u2029';
            if (control && sb == null) {
                sb = new StringBuilder(label.length() + 8).append(label, 0, i);
            }
            if (sb == null) {
                continue;
            }
            if (!control) {
                sb.append(ch);
            } else if (ch == '\t') {
                sb.append("\\t");
            } else if (ch == '\n') {
                sb.append("\\n");
            } else if (ch == '\r') {
                sb.append("\\r");
            } else {
                sb.append(String.format("\\u%04x", (int) ch));
            }
        }
        return sb == null ? label : sb.toString();
    }

    public VitConfig config() {
        return model.config();
    }

    /** The same model with other class names (e.g. from {@code --labels}). */
    public LoadedModel withLabels(List<String> names) {
        return new LoadedModel(name, model, dataConfig, names, source);
    }

    @Override
    public void close() {
        model.close();
    }
}
