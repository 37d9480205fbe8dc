/**
 * Writing output files so that a failed run leaves nothing half-written: {@link io.vitscope.files.Outputs} writes a
 * file under a temporary name next to it and renames it into place, stages a folder of results and moves them in only
 * when every file is written, and checks a destination before the work that fills it starts. Files end with the
 * usual mode (0666 less the umask: 0644 under the common 022), never a temporary file's 0600.
 *
 * <p>Uses only the shared error types of {@code io.vitscope}; every room that writes files may use it.
 */
package io.vitscope.files;
