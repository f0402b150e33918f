/**
 * Keyhold for Netty on BoringSSL (netty-tcnative): the private-key steps of TLS handshakes run in
 * the HSM through {@link dev.keyhold.client.netty.KeyholdAsyncPrivateKeyMethod}, without blocking
 * the event loop. Start with {@link dev.keyhold.client.netty.KeyholdSslContexts} (one key) or
 * {@link dev.keyhold.client.netty.KeyholdServerTls} (several keys on one port), and add {@link
 * dev.keyhold.client.netty.KeyholdHandshakeAlerts} after the SslHandler. Netty and tcnative are
 * optional dependencies of client-lib: JSSE users do not pull them in.
 */
package dev.keyhold.client.netty;
