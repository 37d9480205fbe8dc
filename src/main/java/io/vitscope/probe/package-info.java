/**
 * The debugger: {@code Probe} (captures and breakpoints, scoped to a thread), {@code Site}, {@code Frame},
 * {@code Breakpoint}, {@code CallCapture}, {@code CallRecord}, {@code Target}, {@code Intervention}, and the
 * {@code .npz} export of captures.
 *
 * <p>May use: {@code weights} (the {@code .npz} writer), the root's errors. Knows nothing of ViTs beyond the sites a
 * module declares.
 *
 * <h2>Who owns a tensor that crosses the probe boundary</h2>
 *
 * The model frees, moves or returns the tensors it computes with, so a tensor the caller keeps must never become one
 * of them, and a tensor the caller is given must say how long it lives:
 *
 * <table>
 * <caption>Ownership rules</caption>
 * <tr><th>tensor</th><th>owner</th><th>valid until</th></tr>
 * <tr><td>given to {@link io.vitscope.probe.Hit#set}</td><td>stays the caller's: the forward continues with a
 *     <em>copy</em> placed in the memory scope of the value it replaces</td><td>the caller closes it (the
 *     forward never does; it may be set again in later forwards)</td></tr>
 * <tr><td>returned by {@link io.vitscope.probe.Hit#get}, and tensors computed from it inside an action</td>
 *     <td>the forward's scope</td><td>the end of the forward at the latest: read it inside the action, or
 *     {@code eval} it</td></tr>
 * <tr><td>values collected by {@link io.vitscope.probe.Breakpoint#eval}</td><td>the probe (copies)</td>
 *     <td>the probe is closed</td></tr>
 * <tr><td>locals, arguments and return values of a {@link io.vitscope.probe.CallRecord}</td><td>the capture
 *     (moved in when the call created them, copied when they were its arguments or the root's return value)</td>
 *     <td>the capture is cleared, keeps only the last call and a newer one arrives, or its probe is closed</td></tr>
 * <tr><td>the input given to the model's forward</td><td>the caller; the forward works on a copy</td>
 *     <td>the caller closes it</td></tr>
 * </table>
 *
 * <p>A probe may be closed from any thread: it is unregistered from the thread that
 * started it at once, and a call that was running there when it closed records nothing. {@code exec}, {@code eval},
 * {@code when}, and every target and site are checked when they are given, never at the next forward.
 */
package io.vitscope.probe;
