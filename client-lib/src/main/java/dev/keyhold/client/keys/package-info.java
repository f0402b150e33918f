/**
 * The client-side model of a key held by a Keyhold service: {@link
 * dev.keyhold.client.keys.RemoteKey} parses a {@code KeyInfo} (public key, size, curve, schemes,
 * the service's certificate chain) once for every TLS integration, and {@link
 * dev.keyhold.client.keys.Certificates} reads certificate chains from PEM files. Public data only.
 */
package dev.keyhold.client.keys;
