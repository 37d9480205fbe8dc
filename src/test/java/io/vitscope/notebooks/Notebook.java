package io.vitscope.notebooks;

import com.google.gson.FormattingStyle;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Jupyter notebook file (nbformat 4) as the executor needs it: the code cells' sources, their stored outputs, and a
 * writer that formats the file as Jupyter does ({@code json.dump(nb, indent=1, sort_keys=True, ensure_ascii=False)}),
 * so that a notebook saved from Jupyter and one rewritten here differ only where the content does.
 */
final class Notebook {

    private static final Gson GSON = new GsonBuilder()
            .setFormattingStyle(FormattingStyle.PRETTY.withIndent(" "))
            .disableHtmlEscaping()
            .create();

    /** One code cell: its position among all cells (0-based), its id and its source. */
    record CodeCell(int index, String id, String source, JsonObject json) {

        /** "cell 3 (load-model)": how failures name a cell; the number counts all cells from 1, as Jupyter shows them. */
        String label() {
            return "cell " + (index + 1) + (id == null ? "" : " (" + id + ")");
        }
    }

    private final Path file;
    private final JsonObject json;

    private Notebook(Path file, JsonObject json) {
        this.file = file;
        this.json = json;
    }

    static Notebook read(Path file) {
        try {
            JsonObject json = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
            if (!json.has("cells") || json.get("nbformat").getAsInt() != 4) {
                throw new IllegalArgumentException(file + " is not an nbformat 4 notebook");
            }
            return new Notebook(file, json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path file() {
        return file;
    }

    String name() {
        return file.getFileName().toString();
    }

    JsonObject metadata() {
        return json.getAsJsonObject("metadata");
    }

    List<CodeCell> codeCells() {
        List<CodeCell> out = new ArrayList<>();
        JsonArray cells = json.getAsJsonArray("cells");
        for (int i = 0; i < cells.size(); i++) {
            JsonObject c = cells.get(i).getAsJsonObject();
            if ("code".equals(c.get("cell_type").getAsString())) {
                String id = c.has("id") ? c.get("id").getAsString() : null;
                out.add(new CodeCell(i, id, joined(c.get("source")), c));
            }
        }
        return out;
    }

    /** nbformat allows a multi-line string either whole or as a list of lines: one string either way. */
    static String joined(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return "";
        }
        if (e.isJsonPrimitive()) {
            return e.getAsString();
        }
        StringBuilder sb = new StringBuilder();
        for (JsonElement line : e.getAsJsonArray()) {
            sb.append(line.getAsString());
        }
        return sb.toString();
    }

    /** A multi-line string as Jupyter stores it: a list of lines, each but the last ending in a newline. */
    static JsonArray lines(String text) {
        JsonArray out = new JsonArray();
        int from = 0;
        while (from < text.length()) {
            int nl = text.indexOf('\n', from);
            int to = nl < 0 ? text.length() : nl + 1;
            out.add(text.substring(from, to));
            from = to;
        }
        return out;
    }

    /** Replaces a cell's outputs and execution count (the update mode of the executor). */
    static void setOutputs(CodeCell cell, JsonArray outputs, int executionCount) {
        cell.json().add("outputs", outputs);
        cell.json().add("execution_count", new JsonPrimitive(executionCount));
    }

    void write() {
        try {
            Files.writeString(file, GSON.toJson(sorted(json)) + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonElement sorted(JsonElement e) {
        if (e.isJsonObject()) {
            Map<String, JsonElement> byKey = new TreeMap<>();
            for (Map.Entry<String, JsonElement> entry : e.getAsJsonObject().entrySet()) {
                byKey.put(entry.getKey(), sorted(entry.getValue()));
            }
            JsonObject out = new JsonObject();
            byKey.forEach(out::add);
            return out;
        }
        if (e.isJsonArray()) {
            JsonArray out = new JsonArray();
            for (JsonElement item : e.getAsJsonArray()) {
                out.add(sorted(item));
            }
            return out;
        }
        return e;
    }
}
