package io.vitscope.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.vitscope.Prerequisites;
import io.vitscope.checkpoint.LoadedModel;
import io.vitscope.checkpoint.Models;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The explorer page in a real headless Chromium (Debian's chromium + chromium-driver) through Selenium WebDriver,
 * against the real server on an ephemeral loopback port. The driver and browser paths are given explicitly, so
 * Selenium Manager never runs and nothing is downloaded. Without them it skips, saying how to install them (in CI,
 * where .ci/run installs them, it fails instead: {@link Prerequisites}).
 *
 * <p>{@code -Dvitscope.screenshot=FILE} also writes the page's screenshot there (docs/images/serve.png is made so).
 */
class ServeBrowserTest {

    static final Path CHROMIUM = Path.of(System.getProperty("vitscope.chromium", "/usr/bin/chromium"));
    static final Path DRIVER = Path.of(System.getProperty("vitscope.chromedriver", "/usr/bin/chromedriver"));

    @TempDir
    static Path tmp;
    static LoadedModel loaded;
    static ExplorerServer server;
    static ChromeDriver browser;
    static WebDriverWait wait;

    @BeforeAll
    static void start() throws Exception {
        Prerequisites.require(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
                "A headless browser (" + CHROMIUM + " and " + DRIVER + ")",
                "sudo apt-get install chromium chromium-driver, or point -Dvitscope.chromium and "
                        + "-Dvitscope.chromedriver at them");
        loaded = Models.loadDefault();
        server = ExplorerServer.start(new Explorer(loaded), ServeOptions.defaults().withPort(0)
                .withImages(Path.of("images/fashion")));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
                .usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1040",
                "--user-data-dir=" + Files.createDirectories(tmp.resolve("profile")));
        browser = new ChromeDriver(service, options);
        wait = new WebDriverWait(browser, Duration.ofSeconds(60));
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (server != null) {
            server.stop();
        }
        if (loaded != null) {
            loaded.close();
        }
    }

    @Test
    void pickAnImageAndTheTopFiveIsTheApis() throws Exception {
        open();
        assertTopFive("fashion_0_ankle_boot.png", 1);
        new Select(browser.findElement(By.id("image-select"))).selectByValue("fashion_18_bag.png");
        String bagTop = topFromApi("fashion_18_bag.png", 1).get(0).getAsJsonObject().get("label").getAsString();
        wait.until(d -> firstLabel().equals(bagTop));
        assertTopFive("fashion_18_bag.png", 1);
    }

    @Test
    void movingTheScaleSliderRerunsTheModel() throws Exception {
        open();
        String before = probabilities();
        WebElement slider = browser.findElement(By.id("scale"));
        slider.sendKeys(Keys.END);                                          // the top of the range: ×8
        wait.until(d -> d.findElement(By.id("scale-value")).getText().equals("×8"));
        wait.until(d -> !probabilities().equals(before));
        assertTopFive("fashion_0_ankle_boot.png", 8);
    }

    @Test
    void switchingHeadRedrawsTheMap() throws Exception {
        open();
        wait.until(d -> d.findElements(By.cssSelector("#heads button")).size() == loaded.config().numHeads());
        String before = canvas("main");
        List<WebElement> heads = browser.findElements(By.cssSelector("#heads button"));
        heads.get(2).click();
        assertEquals("true", heads.get(2).getAttribute("aria-pressed"));
        assertNotEquals(before, canvas("main"), "head 2's map differs from head 0's");
        // and from the keyboard: ArrowRight moves to head 3
        heads.get(2).sendKeys(Keys.ARROW_RIGHT);
        assertEquals("true", browser.findElements(By.cssSelector("#heads button")).get(3).getAttribute("aria-pressed"));
    }

    @Test
    void uploadingANonImageShowsTheError() throws Exception {
        open();
        Path notes = Files.writeString(tmp.resolve("notes.txt"), "not an image");
        WebElement file = browser.findElement(By.id("file"));
        file.sendKeys(notes.toAbsolutePath().toString());
        WebElement error = browser.findElement(By.id("error"));
        wait.until(d -> error.isDisplayed());
        assertTrue(error.getText().contains("not an image type"), error.getText());
        assertTopFive("fashion_0_ankle_boot.png", 1);                       // the previous image stays
        Path junk = Files.write(tmp.resolve("broken.png"), new byte[] {1, 2, 3, 4});
        file.sendKeys(junk.toAbsolutePath().toString());
        wait.until(d -> error.getText().contains("cannot be used"));
    }

    @Test
    void screenshotWithAHoveredPatch() throws Exception {
        open();
        wait.until(d -> d.findElements(By.cssSelector("#heads button")).size() == loaded.config().numHeads());
        WebElement main = browser.findElement(By.id("main"));
        String hoverBefore = canvas("row-view");
        new Actions(browser).moveToElement(main, 30, 60).perform();        // a patch right of and below the centre
        wait.until(d -> browser.findElement(By.id("row-caption")).getText().startsWith("Row: where patch"));
        assertNotEquals(hoverBefore, canvas("row-view"), "the row view shows the patch's attention");
        wait.until(d -> !((String) ((JavascriptExecutor) d).executeScript(
                "return document.getElementById('chart').toDataURL()")).isEmpty());
        byte[] png = browser.getScreenshotAs(OutputType.BYTES);
        Files.createDirectories(Path.of("target"));
        Files.write(Path.of("target/serve-explorer.png"), png);
        String extra = System.getProperty("vitscope.screenshot");
        if (extra != null && !extra.isBlank()) {
            Files.write(Path.of(extra), png);
        }
        assertTrue(png.length > 10_000);
    }

    // ------------------------------------------------------------------ helpers

    private static void open() {
        browser.get(server.url().toString());
        wait.until(d -> d.findElements(By.cssSelector("#top5 li")).size() == 5);
        wait.until(d -> d.findElement(By.id("status")).getText().isEmpty());
    }

    /** The page's top-5 (labels as shown, probabilities as the API sent them) equals the API's for the image. */
    private static void assertTopFive(String image, double scale) throws Exception {
        JsonArray api = topFromApi(image, scale);
        wait.until(d -> probabilities().equals(probabilitiesOf(api)));
        List<List<String>> rows = rows();
        assertEquals(5, rows.size());
        for (int i = 0; i < 5; i++) {
            JsonObject p = api.get(i).getAsJsonObject();
            assertEquals(p.get("label").getAsString(), rows.get(i).get(0));
            assertEquals(String.format(java.util.Locale.ROOT, "%.4f", p.get("probability").getAsDouble()),
                    rows.get(i).get(1));
        }
    }

    private static JsonArray topFromApi(String image, double scale) throws Exception {
        HttpResponse<byte[]> r = Http.post(server.port(), "/api/predict?top=5&scale=" + scale, "image/png",
                Files.readAllBytes(Path.of("images/fashion", image)));
        return JsonParser.parseString(new String(r.body(), StandardCharsets.UTF_8)).getAsJsonObject()
                .getAsJsonArray("predictions");
    }

    /** The probabilities as JavaScript prints the API's numbers, joined. */
    private static String probabilitiesOf(JsonArray api) {
        StringBuilder s = new StringBuilder();
        for (var p : api) {
            s.append(((JavascriptExecutor) browser).executeScript("return String(" + p.getAsJsonObject()
                    .get("probability").getAsString() + ")")).append(';');
        }
        return s.toString();
    }

    /** The shown top-5 read in one script call, so a redraw between two reads cannot leave a stale element. */
    private static String probabilities() {
        return (String) ((JavascriptExecutor) browser).executeScript("return Array.from(document.querySelectorAll("
                + "'#top5 li')).map(li => li.dataset.probability + ';').join('')");
    }

    private static String firstLabel() {
        return (String) ((JavascriptExecutor) browser).executeScript(
                "const li = document.querySelector('#top5 li'); return li ? li.dataset.label : ''");
    }

    /** Label and probability text of each shown row, read in one script call. */
    @SuppressWarnings("unchecked")
    private static List<List<String>> rows() {
        return (List<List<String>>) ((JavascriptExecutor) browser).executeScript("return Array.from(document"
                + ".querySelectorAll('#top5 li')).map(li => [li.querySelector('.label').textContent, "
                + "li.querySelector('.prob').textContent])");
    }

    private static String canvas(String id) {
        return (String) ((JavascriptExecutor) browser).executeScript(
                "return document.getElementById(arguments[0]).toDataURL()", id);
    }

}
