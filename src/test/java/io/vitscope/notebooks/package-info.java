/**
 * Test-only: runs the notebooks in {@code notebooks/} in-process (JShell, local execution engine) and checks their
 * stored outputs ({@code NotebooksTest}; {@code -Dvitscope.notebooks.update=true} rewrites them).
 *
 * <p>May use every room, as a notebook does.
 */
package io.vitscope.notebooks;
