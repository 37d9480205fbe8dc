package io.vitscope.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The bench command's plumbing on the smallest preset; times are checked for being measured, never for their size. */
class BenchCommandTest {

    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new BenchCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void jsonHasEveryBatchAndProbeVariant() {
        String[] r = run("--model", "vit_tiny_patch16_224", "--batch", "1", "2", "--warmup", "0", "--iterations", "2",
                "--matmul-iterations", "1", "--floor-rounds", "8", "--format", "json");
        assertEquals("0", r[0], r[2]);
        JsonObject report = JsonParser.parseString(r[1]).getAsJsonObject();
        // The disabled probe's floor on the narrow twin: same depth and heads, 8 features per head.
        JsonObject floor = report.getAsJsonObject("disabledProbeFloor");
        assertEquals(8, floor.get("rounds").getAsInt());
        assertEquals("depth 12, 3 heads, width 24, 197 tokens", floor.get("twin").getAsString());
        assertTrue(floor.get("twinForwardMs").getAsDouble() > 0);
        double median = floor.get("microsPerForward").getAsDouble();
        assertTrue(floor.get("low").getAsDouble() <= median && median <= floor.get("high").getAsDouble(),
                "the interval holds the median: " + floor);
        assertTrue(report.getAsJsonObject("matmul").get("gflops").getAsDouble() > 0);
        JsonArray batches = report.getAsJsonArray("batches");
        assertEquals(2, batches.size());
        for (int i = 0; i < 2; i++) {
            JsonObject b = batches.get(i).getAsJsonObject();
            assertEquals(i == 0 ? 1 : 2, b.get("batch").getAsInt());
            assertTrue(b.getAsJsonObject("msPerImage").get("median").getAsDouble() > 0);
            assertEquals(2, b.getAsJsonObject("msPerImage").get("n").getAsInt());
            JsonArray probes = b.getAsJsonArray("probes");
            assertEquals(3, probes.size());
            JsonObject breakdown = b.getAsJsonObject("breakdown");
            double share = breakdown.get("linearSharePercent").getAsDouble();
            // Timed in every round: a positive, finite share of the forward (no upper bound: two noisy rounds may put
            // the replay, a subset of the forward's work, above it).
            assertTrue(share > 0 && Double.isFinite(share), "linear share " + share);
            assertTrue(breakdown.get("linearGflops").getAsDouble() > 0);
            assertTrue(probes.get(0).getAsJsonObject().get("overheadLow").getAsDouble()
                    <= probes.get(0).getAsJsonObject().get("overheadHigh").getAsDouble());
            assertEquals("disabled", probes.get(0).getAsJsonObject().get("variant").getAsString());
            assertEquals("capture-all", probes.get(1).getAsJsonObject().get("variant").getAsString());
            assertEquals("breakpoint-x3", probes.get(2).getAsJsonObject().get("variant").getAsString());
        }
    }

    @Test
    void textNamesTheMachineTheMatmulAndTheTargets() {
        String[] r = run("--model", "vit_tiny_patch16_224", "--batch", "1", "--warmup", "0", "--iterations", "1",
                "--matmul-iterations", "1", "--threads", "1", "--floor-rounds", "6");
        assertEquals("0", r[0], r[2]);
        String out = r[1];
        assertTrue(out.contains("disabled probe's own cost, timed on a narrow twin") && out.contains("6 alternating rounds")
                && out.contains("batch 1 "), out);
        assertTrue(out.contains("MKL fast path"), out);
        assertTrue(out.contains("GFLOP/s"), out);
        assertTrue(out.contains("libtorch threads 1"), out);
        assertTrue(out.contains("capture-all") && out.contains("(target <= 2% at batch 8)"), out);
        // Issue 10 dropped the hard-coded "nominal 450 GFLOP/s": the peak is now estimated from this CPU, and says so.
        assertTrue(out.contains("% of the estimated ") && out.contains(" GFLOP/s peak"), out);
        assertTrue(out.contains("FLOP/cycle") || out.contains("no estimate"), out);
    }

    @Test
    void noProbesTimesThePlainForwardOnly() {
        String[] r = run("--model", "vit_tiny_patch16_224", "--batch", "1", "--warmup", "0", "--iterations", "1",
                "--matmul-iterations", "1", "--no-probes", "--format", "json");
        assertEquals("0", r[0], r[2]);
        JsonObject report = JsonParser.parseString(r[1]).getAsJsonObject();
        assertTrue(!report.has("disabledProbeFloor") || report.get("disabledProbeFloor").isJsonNull(),
                "no probes, no floor: " + report.get("disabledProbeFloor"));
        JsonObject b = report.getAsJsonArray("batches").get(0).getAsJsonObject();
        assertEquals(0, b.getAsJsonArray("probes").size());
        JsonObject d = b.getAsJsonObject("breakdown");
        assertTrue(d.get("linearGflops").getAsDouble() > 0, "the linear layers were replayed: " + d);
        assertTrue(!io.vitscope.engine.FusedAttention.available() || d.has("unfusedMsPerImage"),
                "the unfused forward was timed beside the fused one: " + d);
        assertTrue(d.getAsJsonObject("everyTokenMsPerImage").get("median").getAsDouble() > 0,
                "the forward computing every token was timed beside the pruned one: " + d);
    }

    @Test
    void noBreakdownTimesNothingButTheForward() {
        String[] r = run("--model", "vit_tiny_patch16_224", "--batch", "1", "--warmup", "0", "--iterations", "1",
                "--matmul-iterations", "1", "--no-probes", "--no-breakdown", "--format", "json");
        assertEquals("0", r[0], r[2]);
        JsonObject b = JsonParser.parseString(r[1]).getAsJsonObject().getAsJsonArray("batches").get(0).getAsJsonObject();
        assertEquals(0, b.getAsJsonArray("probes").size());
        assertTrue(!b.has("breakdown") || b.get("breakdown").isJsonNull(), "no breakdown: " + b);
        assertTrue(b.getAsJsonObject("msPerImage").get("median").getAsDouble() > 0);
    }

    @Test
    void badCountsAreUsageErrors() {
        CommandLine cl = new CommandLine(new BenchCommand());
        cl.setErr(new PrintWriter(new StringWriter()));
        cl.setExecutionExceptionHandler((e, c, p) -> e instanceof IllegalArgumentException ? 2 : 1);
        assertEquals(2, cl.execute("--iterations", "0"));
        assertEquals(2, cl.execute("--batch", "0"));
        assertEquals(2, cl.execute("--floor-rounds", "5")); // too few for an interval; 0 skips the floor
    }

    @Test
    void folderComparesThePipelineWithTheForwardInRounds() {
        String hf = CliErrorTest.hf();
        String[] r = run("--weights", hf, "--folder", CliErrorTest.IMAGES.toString(), "--batch", "3", "--round-images",
                "7", "--warmup", "0", "--iterations", "3", "--format", "json");
        assertEquals("0", r[0], r[2]);
        JsonObject report = JsonParser.parseString(r[1]).getAsJsonObject();
        assertEquals(3, report.get("batch").getAsInt());
        assertEquals(7, report.get("imagesPerRound").getAsInt());
        JsonArray ratio = report.getAsJsonArray("ratio");
        assertEquals(3, ratio.size(), "one ratio per round");
        double mean = 0;
        for (int i = 0; i < 3; i++) {
            assertTrue(ratio.get(i).getAsDouble() > 0, "measured: " + ratio);
            mean += ratio.get(i).getAsDouble() / 3;
        }
        assertEquals(mean, report.get("ratioMean").getAsDouble(), 1e-12, "the mean of the rounds' ratios");
        assertTrue(report.get("ratioLow").getAsDouble() <= mean && mean <= report.get("ratioHigh").getAsDouble());
        for (String v : new String[] {"forward", "pipeline", "decode"}) {
            assertEquals(3, report.getAsJsonObject(v).get("n").getAsInt(), v);
        }
        String[] text = run("--weights", hf, "--folder", CliErrorTest.IMAGES.toString(), "--round-images", "8",
                "--iterations", "2");
        assertEquals("0", text[0], text[2]);
        assertTrue(text[1].contains("pipeline rate / forward-only rate: ") && text[1].contains("95% CI"), text[1]);
        assertTrue(text[1].contains("load avg"), text[1]);
    }

    @Test
    void folderRefusesTooFewRoundsOrImages() {
        String hf = CliErrorTest.hf();
        String images = CliErrorTest.IMAGES.toString();
        assertEquals(Main.USAGE, Cli.run("bench", "--weights", hf, "--folder", images, "--iterations", "1").code());
        assertEquals(Main.USAGE, Cli.run("bench", "--weights", hf, "--folder", images, "--round-images", "4").code(),
                "fewer images per round than the batch of 8");
    }
}
