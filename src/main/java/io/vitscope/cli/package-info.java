/**
 * The commands ({@code vitscope predict|capture|attention|experiment|bench|eval|train|fetch}): each parses its flags,
 * calls one library function and formats the result. Shared options are picocli {@code @Mixin}s
 * ({@code ModelOptions}, {@code ThreadsOption}, {@code ImageIndexOption}, {@code FigureSizeOption},
 * {@code LogitScaleOption}); {@code Main} is the one place exceptions become exit codes; terminal progress bars
 * ({@code TerminalBar}, {@code ProgressBarListener}) live here.
 *
 * <p>May use every other room. The only room that imports picocli or the progress-bar library.
 */
package io.vitscope.cli;
