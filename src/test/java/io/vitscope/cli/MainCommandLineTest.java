package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Main builds only the subcommand a command line names (picocli's reflection over all of them was a quarter of a cold
 * predict), and all of them whenever the line names none: usage, {@code help}, a typo. Also which lines load libtorch
 * in the background while they are parsed.
 */
class MainCommandLineTest {

    private static List<String> subcommands(String... args) {
        return List.copyOf(Main.commandLine(args).getSubcommands().keySet());
    }

    private static List<String> all() {
        return Main.COMMANDS.stream().map(c -> c.getAnnotation(Command.class).name()).collect(Collectors.toList());
    }

    @Test
    void aNamedCommandIsTheOnlyOneBuilt() {
        assertEquals(List.of("predict"), subcommands("predict", "x.png", "--top", "3"));
        assertEquals(List.of("attention"), subcommands("--verbose", "attention", "x.png"));
        assertEquals(List.of("inspect"), subcommands("inspect", "--help"));
    }

    @Test
    void withoutACommandNameAllAreBuilt() {
        assertEquals(all(), subcommands());
        assertEquals(all(), subcommands("--help"));
        assertEquals(all(), subcommands("help", "predict"));
        assertEquals(all(), subcommands("predicts", "x.png"));
        assertEquals(17, all().size(), "every command class is listed once: " + all());
    }

    @Test
    void theRootUsageStillListsEveryCommand() {
        String usage = Main.commandLine(new String[] {"--help"}).getUsageMessage(CommandLine.Help.Ansi.OFF);
        for (String name : all()) {
            assertTrue(usage.contains("\n  " + name + " "), name + " missing from\n" + usage);
        }
    }

    @Test
    void onlyModelCommandsThatRunPreloadLibtorch() {
        assertTrue(Main.loadsModel(new String[] {"predict", "x.png"}));
        assertTrue(Main.loadsModel(new String[] {"--verbose", "capture", "x.png", "--call", "blocks.0"}));
        assertFalse(Main.loadsModel(new String[] {"predict", "--help"}));
        assertFalse(Main.loadsModel(new String[] {"fetch", "vit_tiny_patch16_224"}));
        assertFalse(Main.loadsModel(new String[] {"help", "predict"}));
        assertFalse(Main.loadsModel(new String[] {}));
        assertFalse(Main.loadsModel(new String[] {"--version"}));
    }
}
