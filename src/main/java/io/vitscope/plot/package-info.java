/**
 * Figures: {@code AttentionFigure} (a figure request — image, model, block, mode, heads, options — to a figure in one
 * call, what {@code vitscope attention} and the notebooks draw), {@code AttentionGrid}, {@code AttentionPlots},
 * {@code LogitScalingChart}, {@code Plots} (PNG and SVG output), {@code Display} (notebook display hook).
 *
 * <p>May use: {@code predict}, {@code checkpoint}, {@code model}, {@code probe}, {@code analysis}, {@code weights},
 * the root's errors. Not {@code experiment}: interventions come in as {@code probe.Intervention}s.
 */
package io.vitscope.plot;
