package dev.keyhold.client.netty;

import dev.keyhold.client.keys.Certificates;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.rpc.KeyholdException;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * One-call Netty/BoringSSL {@link SslContext}s whose private keys stay in Keyhold: a keyless key
 * manager presenting the keys' certificate chains, plus {@link KeyholdAsyncPrivateKeyMethod}
 * through {@link OpenSslContextOption#ASYNC_PRIVATE_KEY_METHOD}, on {@link SslProvider#OPENSSL}.
 *
 * <pre>{@code
 * SslContext server = KeyholdSslContexts.forServer(client, "rsa2048");
 * SslContext mtlsClient = KeyholdSslContexts.forClient(client, "ec-p256", caCertificate);
 * }</pre>
 *
 * <p>The {@code *Builder} variants return the configured {@link SslContextBuilder} so callers can
 * change protocols, ciphers or client authentication before {@code build()}. Server defaults: TLS
 * 1.3 and 1.2, AEAD suites only, TLS 1.2 ECDHE and plain RSA key exchange ({@code
 * AES128-GCM-SHA256} kept for clients without ECDHE).
 *
 * <p>Several keys in one server context: BoringSSL holds one certificate per connection, and Netty
 * sets the chain of each key type the server's cipher list can use, the last one winning (its key
 * manager cannot see the client's cipher suites); BoringSSL then negotiates a suite that fits that
 * key, so clients that cannot use it fail. For an RSA and an EC key on one port use {@link
 * KeyholdServerTls}, which chooses per ClientHello.
 *
 * <p>RSA key exchange needs the ClientHello's {@code client_version}; contexts from this class
 * derive it from the negotiated version (exact for every TLS 1.2 client), {@link KeyholdServerTls}
 * reads it from the ClientHello itself. Add {@link KeyholdHandshakeAlerts} after the {@code
 * SslHandler} so that a failed key step ends the handshake with an alert.
 *
 * <p>Security note: building a context makes one blocking {@code GetKey} call per key to fetch the
 * chain (never on an event loop); handshakes then only make non-blocking calls. The contexts are
 * reference-counted Netty objects: release them when done; the {@link KeyholdClient} stays owned by
 * the caller.
 */
public final class KeyholdSslContexts {
  /** Server cipher suites in preference order (TLS 1.3 suites are always on in BoringSSL). */
  public static final List<String> DEFAULT_SERVER_CIPHERS =
      List.of(
          "TLS_AES_128_GCM_SHA256",
          "TLS_AES_256_GCM_SHA384",
          "TLS_CHACHA20_POLY1305_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
          "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
          "TLS_RSA_WITH_AES_128_GCM_SHA256",
          "TLS_RSA_WITH_AES_256_GCM_SHA384");

  private KeyholdSslContexts() {}

  /** A server context for these keys, with the certificate chains the service holds. */
  public static SslContext forServer(KeyholdClient client, String... keyNames)
      throws GeneralSecurityException, SSLException {
    return serverBuilder(client, fetch(client, keyNames)).build();
  }

  /** A server context for one key, presenting the chain in {@code chainPem} (leaf first). */
  public static SslContext forServer(KeyholdClient client, String keyName, Path chainPem)
      throws GeneralSecurityException, IOException {
    OffloadedKey key = OffloadedKey.of(client.getKey(keyName), readPemChain(chainPem));
    return serverBuilder(client, List.of(key)).build();
  }

  /** The builder behind {@link #forServer}, for callers that adjust it before {@code build()}. */
  public static SslContextBuilder serverBuilder(KeyholdClient client, String... keyNames)
      throws GeneralSecurityException {
    return serverBuilder(client, fetch(client, keyNames));
  }

  /** A server builder for keys already described (e.g. with chains loaded from files). */
  public static SslContextBuilder serverBuilder(KeyholdClient client, List<OffloadedKey> keys) {
    return serverBuilder(client, keys, null);
  }

  static SslContextBuilder serverBuilder(
      KeyholdClient client, List<OffloadedKey> keys, ClientHelloVersions versions) {
    requireBoringSsl();
    NettyKeys live = NettyKeys.of(client, keys);
    return SslContextBuilder.forServer(new KeylessKeyManager(live))
        .sslProvider(SslProvider.OPENSSL)
        .protocols("TLSv1.3", "TLSv1.2")
        .ciphers(DEFAULT_SERVER_CIPHERS)
        .option(
            OpenSslContextOption.ASYNC_PRIVATE_KEY_METHOD,
            KeyholdAsyncPrivateKeyMethod.create(client, live, versions));
  }

  /**
   * A client context that authenticates with the HSM-held key {@code keyName} (its client
   * certificate chain from the service) and trusts {@code trustAnchors}.
   */
  public static SslContext forClient(
      KeyholdClient client, String keyName, X509Certificate... trustAnchors)
      throws GeneralSecurityException, SSLException {
    return clientBuilder(client, keyName).trustManager(trustAnchors).build();
  }

  /**
   * Like {@link #forClient(KeyholdClient, String, X509Certificate...)} with a trust manager
   * factory.
   */
  public static SslContext forClient(
      KeyholdClient client, String keyName, TrustManagerFactory trust)
      throws GeneralSecurityException, SSLException {
    return clientBuilder(client, keyName).trustManager(trust).build();
  }

  /**
   * The client builder, with the key set up and no trust configured yet (the JDK default applies).
   */
  public static SslContextBuilder clientBuilder(KeyholdClient client, String keyName)
      throws GeneralSecurityException {
    return clientBuilder(client, fetch(client, keyName));
  }

  /** A client builder for a key already described. */
  public static SslContextBuilder clientBuilder(KeyholdClient client, List<OffloadedKey> keys) {
    requireBoringSsl();
    NettyKeys live = NettyKeys.of(client, keys);
    return SslContextBuilder.forClient()
        .sslProvider(SslProvider.OPENSSL)
        .protocols("TLSv1.3", "TLSv1.2")
        .keyManager(new KeylessKeyManager(live))
        .option(
            OpenSslContextOption.ASYNC_PRIVATE_KEY_METHOD,
            KeyholdAsyncPrivateKeyMethod.create(client, live, null));
  }

  /** Reads a PEM certificate chain (leaf first). */
  public static List<X509Certificate> readPemChain(Path pem)
      throws IOException, CertificateException {
    List<X509Certificate> out = Certificates.readPem(pem);
    if (out.isEmpty()) {
      throw new CertificateException("no certificate in " + pem);
    }
    return out;
  }

  private static List<OffloadedKey> fetch(KeyholdClient client, String... keyNames)
      throws KeyholdException, CertificateException {
    if (keyNames.length == 0) {
      throw new IllegalArgumentException("at least one key name is required");
    }
    List<OffloadedKey> keys = new ArrayList<>();
    for (String name : keyNames) {
      keys.add(OffloadedKey.fetch(client, name));
    }
    return keys;
  }

  private static void requireBoringSsl() {
    // The asynchronous private-key method is a BoringSSL feature; without
    // netty-tcnative-boringssl-static
    // the option would be ignored or fail late, at the first handshake.
    if (!OpenSsl.isAvailable() || !OpenSsl.versionString().contains("BoringSSL")) {
      throw new IllegalStateException(
          "Keyhold's Netty integration needs netty-tcnative-boringssl-static on the class path",
          OpenSsl.unavailabilityCause());
    }
  }
}
