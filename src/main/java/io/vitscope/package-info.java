/**
 * vitscope: a Vision Transformer inference engine on DJL's PyTorch engine, with a programmable debugger built in.
 * This package holds only the error types every room shares: {@link io.vitscope.VitscopeException} (exit 1),
 * {@link io.vitscope.InvalidInputException} (an unusable input file, exit 3) and
 * {@link io.vitscope.InvalidArgumentException} (a request out of range, exit 2). It uses no other room.
 *
 * <h2>Rooms</h2>
 * Dependencies point one way, from the commands down to the engine rooms (README's Architecture section has the
 * table):
 * <pre>
 * cli         → every room below
 * bench       → experiment, checkpoint, model, probe, engine
 * experiment  → plot, predict, analysis, checkpoint, model, probe
 * plot        → predict, analysis, checkpoint, model, probe, weights
 * hub         → checkpoint, model
 * train       → model, image
 * predict     → checkpoint, image, weights
 * checkpoint  → model, weights, image
 * model       → probe, image
 * probe       → weights
 * weights     → files
 * engine, analysis, image, files → nothing (every room that writes files uses files)
 * </pre>
 * Each package's {@code package-info.java} says what it holds and which rooms it may use.
 *
 * <h2>Glossary of dimension letters</h2>
 * Shape comments ({@code // (B, T, D)}) everywhere use these letters; {@code model.Attention} alone speaks timm's
 * (it says so) so that its locals read like timm's forward.
 * <ul>
 *   <li>B batch size</li>
 *   <li>C image channels (3 RGB, 1 grayscale)</li>
 *   <li>H × W image height and width (the model's input size)</li>
 *   <li>P patch size (side, in pixels)</li>
 *   <li>G_h × G_w the patch grid (H / P × W / P)</li>
 *   <li>L patches (G_h · G_w)</li>
 *   <li>T tokens (L + 1: the class token at index 0, then the patches row by row)</li>
 *   <li>D embed dim</li>
 *   <li>N attention heads</li>
 *   <li>Dh head dim (D / N)</li>
 *   <li>M MLP hidden dim (D · mlp_ratio)</li>
 *   <li>K classes</li>
 *   <li>S logit scale factors (the scaling experiment)</li>
 * </ul>
 * A figure's panels are counted ("panels"), never lettered.
 */
package io.vitscope;
