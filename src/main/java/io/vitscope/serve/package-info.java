/**
 * {@code vitscope serve}: a local web explorer of one model — the page (bundled under
 * {@code src/main/resources/io/vitscope/serve/web}), the JSON API behind it (docs/api.md) and the HTTP server that
 * keeps it safe to run (bounded work, bounded bodies, allow-listed files, loopback by default).
 *
 * <p>{@link io.vitscope.serve.Explorer} is the model side: it calls the same library functions as the commands
 * ({@code experiment}, {@code analysis}, {@code plot}, {@code probe}, {@code image}) and knows nothing of HTTP.
 * {@link io.vitscope.serve.ExplorerServer} is the HTTP side on Javalin (Jetty). This package may use every library
 * package; only {@code cli} may use it.
 */
package io.vitscope.serve;
