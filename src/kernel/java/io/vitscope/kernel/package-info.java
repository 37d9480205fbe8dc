/**
 * A minimal Java Jupyter kernel on JJava's kernel framework, for running the notebooks in a real Jupyter
 * ({@code scripts/notebooks_in_jupyter.sh}; Maven profile {@code kernel}, never part of the product).
 *
 * <p>May use: JJava and the JDK's JShell. No vitscope room: the notebooks themselves start the engine and load models.
 */
package io.vitscope.kernel;
