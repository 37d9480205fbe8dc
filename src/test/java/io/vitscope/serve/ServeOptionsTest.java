package io.vitscope.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The server's defaults and the checks that decide loopback-only behaviour. */
class ServeOptionsTest {

    @Test
    void defaultsAreLoopbackAndTwentyMegabytes() {
        ServeOptions o = ServeOptions.defaults();
        assertEquals("127.0.0.1", o.host());
        assertTrue(o.loopback());
        assertEquals(20L * 1024 * 1024, o.maxBodyBytes());
        assertFalse(o.withHost("0.0.0.0").loopback(), "0.0.0.0 is every interface: the command warns");
        assertFalse(o.withHost("192.168.1.5").loopback());
        assertTrue(o.withHost("localhost").loopback());
        assertTrue(o.withHost("::1").loopback());
    }

    @Test
    void badOptionsNameTheParameter() {
        ServeOptions o = ServeOptions.defaults();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> o.withPort(70000)).getMessage()
                .startsWith("port"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> o.withWorkers(0, 1)).getMessage()
                .startsWith("workers"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> o.withMaxBodyBytes(0)).getMessage()
                .startsWith("maxBodyBytes"));
    }

    @Test
    void onlyThisMachinesNamesPassTheHostCheck() {
        for (String ok : new String[] {"127.0.0.1", "127.0.0.1:8080", "localhost:1", "LOCALHOST", "[::1]:8080"}) {
            assertTrue(ExplorerServer.loopbackHost(ok), ok);
        }
        for (String bad : new String[] {"evil.example", "evil.example:8080", "127.0.0.1.evil.example",
                "localhost.evil.example:80", "[::2]:80", "", "192.168.0.1"}) {
            assertFalse(ExplorerServer.loopbackHost(bad), bad);
        }
        assertFalse(ExplorerServer.loopbackHost(null));
    }

    @Test
    void badCommandLineOptionsAreUsageErrorsBeforeAnythingStarts() {
        for (String[] args : new String[][] {{"serve", "--images", "/no/such/folder"}, {"serve", "--port", "70000"},
                {"serve", "--max-upload", "0"}, {"serve", "--workers", "0"}, {"serve", "--timeout", "0"}}) {
            java.io.StringWriter err = new java.io.StringWriter();
            int code = io.vitscope.cli.Main.run(args, new java.io.PrintWriter(new java.io.StringWriter()),
                    new java.io.PrintWriter(err));
            assertEquals(2, code, String.join(" ", args) + ": " + err);
            String line = err.toString().trim();
            assertEquals(1, line.lines().count(), line);
            assertTrue(line.startsWith("vitscope: --"), "names the option: " + line);
        }
    }

    @Test
    void uploadNamesLoseTheirPathAndOddCharacters() {
        assertEquals("boot.png", Uploads.safeName("../../etc/boot.png", "upload"));
        assertEquals("boot.png", Uploads.safeName("C:\\Users\\me\\boot.png", "upload"));
        assertEquals("a_b_.png", Uploads.safeName("a<b>.png", "upload"));
        assertEquals("upload", Uploads.safeName("..", "upload"));
        assertEquals("upload", Uploads.safeName(null, "upload"));
    }
}
