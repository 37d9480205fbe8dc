package io.vitscope.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.vitscope.notebooks.NotebookRunner.CellRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every notebook under {@code notebooks/}, cell by cell in order, and checks that each cell still produces the
 * outputs stored in the file (see {@link OutputCheck} for what "the same" means for text and images). A cell that
 * does not compile or throws fails the test, named by notebook and cell.
 *
 * <p>{@code mvn test -Dtest=NotebooksTest -Dvitscope.notebooks.update=true} instead rewrites the stored outputs from
 * this run — the only way outputs get into the notebooks, so what a reader sees is what the code printed and drew.
 * Outputs that still match are kept byte for byte, so a rerun changes only what changed.
 */
class NotebooksTest {

    private static final boolean UPDATE = Boolean.getBoolean("vitscope.notebooks.update");

    static Path notebooksDir() {
        return Path.of(System.getProperty("basedir", ".")).resolve("notebooks");
    }

    @TestFactory
    Stream<DynamicTest> everyNotebookRunsAndShowsItsStoredOutputs() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(notebooksDir())) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".ipynb")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "no notebooks in " + notebooksDir().toAbsolutePath());
        return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> check(f)));
    }

    private static void check(Path file) {
        Notebook nb = Notebook.read(file);
        requireJavaKernelMetadata(nb);
        List<CellRun> runs = NotebookRunner.run(nb);
        List<String> mismatches = new ArrayList<>();
        int count = 0;
        for (CellRun run : runs) {
            count++;
            JsonArray storedJson = run.cell().json().getAsJsonArray("outputs");
            List<Output> stored = Output.fromJson(storedJson);
            String difference = OutputCheck.compare(stored, run.outputs());
            if (UPDATE) {
                Notebook.setOutputs(run.cell(), difference == null ? storedJson : Output.toJson(run.outputs()), count);
            } else if (difference != null) {
                mismatches.add(nb.name() + ", " + run.cell().label() + ": " + difference);
            }
        }
        if (UPDATE) {
            nb.write();
        } else if (!mismatches.isEmpty()) {
            fail(String.join("\n\n", mismatches) + "\n\nIf the change is intended, rewrite the stored outputs with "
                    + "mvn test -Dtest=NotebooksTest -Dvitscope.notebooks.update=true and review the diff.");
        }
    }

    /** The kernelspec and language_info IJava and JJava write, so that Jupyter offers a Java kernel. */
    private static void requireJavaKernelMetadata(Notebook nb) {
        JsonObject kernelspec = nb.metadata().getAsJsonObject("kernelspec");
        JsonObject language = nb.metadata().getAsJsonObject("language_info");
        String where = nb.name() + " metadata";
        assertEquals("java", kernelspec == null ? null : kernelspec.get("name").getAsString(), where + ": kernelspec.name");
        assertEquals("java", kernelspec.get("language").getAsString(), where + ": kernelspec.language");
        assertEquals("java", language == null ? null : language.get("name").getAsString(), where + ": language_info.name");
    }
}
