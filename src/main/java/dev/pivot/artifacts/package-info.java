/**
 * The content-addressed artifact store every served file comes from: kernels, initrds and root images written once
 * under their sha256. Imports only {@link dev.pivot.boot} (the {@code Artifact} it hands out and the
 * {@code ArtifactSource} port it implements).
 */
package dev.pivot.artifacts;
