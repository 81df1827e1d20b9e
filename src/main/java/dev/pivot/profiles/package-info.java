/**
 * The profiles file ({@code --profiles}): named images with extra kernel parameters, groups of machines and their
 * defaults, parsed and checked before the server starts. Imports only {@link dev.pivot.boot}.
 */
package dev.pivot.profiles;
