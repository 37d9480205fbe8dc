/**
 * The debugger: {@code Probe} (captures and breakpoints, scoped to a thread), {@code Site}, {@code Frame},
 * {@code Breakpoint}, {@code CallCapture}, {@code CallRecord}, {@code Target}, {@code Intervention}, and the
 * {@code .npz} export of captures.
 *
 * <p>May use: {@code weights} (the {@code .npz} writer), the root's errors. Knows nothing of ViTs beyond the sites a
 * module declares.
 */
package io.vitscope.probe;
