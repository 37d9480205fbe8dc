package io.vitscope.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.vitscope.notebooks.NotebookRunner.CellFailure;
import io.vitscope.notebooks.NotebookRunner.CellRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NotebookRunnerTest {

    @TempDir
    Path dir;

    /** A notebook with a markdown cell first, then one code cell per source. */
    private Notebook notebook(String name, String... codeCells) throws IOException {
        JsonArray cells = new JsonArray();
        JsonObject md = new JsonObject();
        md.addProperty("cell_type", "markdown");
        md.add("source", Notebook.lines("# title"));
        cells.add(md);
        for (int i = 0; i < codeCells.length; i++) {
            JsonObject c = new JsonObject();
            c.addProperty("cell_type", "code");
            c.addProperty("id", "c" + i);
            c.add("source", Notebook.lines(codeCells[i]));
            c.add("outputs", new JsonArray());
            cells.add(c);
        }
        JsonObject nb = new JsonObject();
        nb.add("cells", cells);
        nb.add("metadata", new JsonObject());
        nb.addProperty("nbformat", 4);
        nb.addProperty("nbformat_minor", 5);
        Path file = dir.resolve(name);
        Files.writeString(file, nb.toString());
        return Notebook.read(file);
    }

    @Test
    void cellsShareOneSessionAndPrintsAndDisplaysKeepTheirOrder() throws IOException {
        List<CellRun> runs = NotebookRunner.run(notebook("ok.ipynb",
                "import java.awt.image.BufferedImage;\nint twice(int x) { return 2 * x; }\nint n = twice(21)",
                "System.out.println(\"n = \" + n);\ndisplay(new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB));\n"
                        + "System.out.print(\"after\\n\");\n// a trailing comment",
                // Ends with a null value, which a kernel does not show either; the property is put back afterwards.
                "System.setProperty(\"vitscope.test.leak\", \"yes\")"));
        assertEquals(3, runs.size());
        assertEquals(List.of(), runs.get(0).outputs());
        List<Output> out = runs.get(1).outputs();
        assertEquals(3, out.size(), out.toString());
        assertEquals(new Output.Stream("stdout", "n = 42\n"), out.get(0));
        assertEquals("image 3x2", assertInstanceOf(Output.Image.class, out.get(1)).describe());
        assertEquals(new Output.Stream("stdout", "after\n"), out.get(2));
        assertNull(System.getProperty("vitscope.test.leak"));
    }

    @Test
    void aCompileErrorNamesNotebookCellAndSymbol() throws IOException {
        Notebook nb = notebook("broken.ipynb", "int a = 1;", "System.out.println(\"before\");\nint b = undefinedThing + 1;");
        CellFailure f = assertThrows(CellFailure.class, () -> NotebookRunner.run(nb));
        assertTrue(f.getMessage().startsWith("broken.ipynb, cell 3 (c1): does not compile:"), f.getMessage());
        assertTrue(f.getMessage().contains("undefinedThing"), f.getMessage());
        assertTrue(f.getMessage().endsWith("--- the cell printed before it failed ---\nbefore\n"), f.getMessage());
    }

    @Test
    void anExceptionNamesItsClassAndMessage() throws IOException {
        Notebook nb = notebook("throws.ipynb", "if (true) throw new IllegalStateException(\"no model here\");");
        CellFailure f = assertThrows(CellFailure.class, () -> NotebookRunner.run(nb));
        assertTrue(f.getMessage().startsWith("throws.ipynb, cell 2 (c0): threw java.lang.IllegalStateException: "
                + "no model here"), f.getMessage());
    }

    @Test
    void aValueLeftAtTheEndOfACellIsRejected() throws IOException {
        Notebook nb = notebook("value.ipynb", "1 + 2");
        CellFailure f = assertThrows(CellFailure.class, () -> NotebookRunner.run(nb));
        assertTrue(f.getMessage().contains("ends with an expression whose value (3)"), f.getMessage());
    }
}
