package dev.keyhold.client.netty;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.KeyType;
import io.netty.handler.ssl.OpenSslAsyncPrivateKeyMethod;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;

/**
 * BoringSSL's private-key steps, done by Keyhold without blocking Netty's event loop: {@code sign}
 * hashes the handshake message locally and sends the digest; {@code decrypt} sends the RSA
 * ciphertext to {@code DecryptPremaster} and turns the 48 bytes back into the raw RSA result
 * BoringSSL expects. Each call returns a Netty future that the gRPC call completes on a gRPC
 * thread; Netty then resumes the parked handshake on its event loop. Install it with {@code
 * OpenSslContextOption.ASYNC_PRIVATE_KEY_METHOD}, or use {@link KeyholdSslContexts}.
 *
 * <p>The key is found from the local certificate of the engine's handshake session: its public key
 * selects one of the {@link OffloadedKey}s this method was built with.
 *
 * <p>Security guarantees: no private key and no raw RSA operation crosses the wire (only digests
 * and the TLS ciphertext). The synthesized block {@code 00 02 PS 00 premaster} is built from the
 * service's answer, which is a real pre-master or an indistinguishable substitute; BoringSSL runs
 * its own constant-time checks on it. Legacy algorithms (MD5+SHA1, SHA-1) are refused. Failures
 * complete the future exceptionally, so BoringSSL ends the handshake with an alert. A ciphertext
 * that is not an RSA input (wrong length, value not below the modulus) is refused here, before any
 * call, exactly as BoringSSL refuses it with a local key: no alert, the connection closes.
 */
public final class KeyholdAsyncPrivateKeyMethod implements OpenSslAsyncPrivateKeyMethod {
  /** TLS 1.2 wire version: the ClientHello version of every client that can negotiate TLS 1.2. */
  static final int TLS12 = 0x0303;

  private final KeyholdClient client;
  private final NettyKeys keys;
  private final ClientHelloVersions clientHelloVersions;

  private KeyholdAsyncPrivateKeyMethod(
      KeyholdClient client, NettyKeys keys, ClientHelloVersions clientHelloVersions) {
    this.client = client;
    this.keys = keys;
    this.clientHelloVersions = clientHelloVersions;
  }

  /**
   * A method serving these keys through {@code client}; the caller keeps ownership of the client.
   */
  public static KeyholdAsyncPrivateKeyMethod create(
      KeyholdClient client, Collection<OffloadedKey> keys) {
    return create(client, keys, null);
  }

  static KeyholdAsyncPrivateKeyMethod create(
      KeyholdClient client,
      Collection<OffloadedKey> keys,
      ClientHelloVersions clientHelloVersions) {
    return create(client, NettyKeys.of(null, java.util.List.copyOf(keys)), clientHelloVersions);
  }

  static KeyholdAsyncPrivateKeyMethod create(
      KeyholdClient client, NettyKeys keys, ClientHelloVersions clientHelloVersions) {
    return new KeyholdAsyncPrivateKeyMethod(client, keys, clientHelloVersions);
  }

  @Override
  public Future<byte[]> sign(SSLEngine engine, int signatureAlgorithm, byte[] input) {
    try {
      OffloadedKey key = keyOf(engine);
      SignatureScheme scheme =
          NettySignatureSchemes.schemeFor(signatureAlgorithm, key.keyType(), key.curve());
      // Netty hands over the whole message to sign (despite its Javadoc): hash it here, with the
      // hash BoringSSL asked for, and send only the digest.
      SignatureScheme.Hash hash = NettySignatureSchemes.requestedHash(signatureAlgorithm);
      byte[] digest = MessageDigest.getInstance(hash.jcaName()).digest(input);
      if (scheme.padding() == SignatureScheme.Padding.ECDSA) {
        digest = NettySignatureSchemes.ecdsaDigestFor(scheme, digest);
      }
      return toNetty(engine, client.signAsync(key.name(), scheme, digest));
    } catch (GeneralSecurityException | RuntimeException e) {
      return failed(engine, e);
    }
  }

  @Override
  public Future<byte[]> decrypt(SSLEngine engine, byte[] input) {
    try {
      OffloadedKey key = keyOf(engine);
      if (key.keyType() != KeyType.KEY_TYPE_RSA) {
        throw new InvalidKeyException(
            "RSA key exchange needs an RSA key; '" + key.name() + "' is " + key.keyType());
      }
      Integer seen = clientHelloVersions == null ? null : clientHelloVersions.take(engine);
      int version = clientVersion(seen, session(engine));
      int k = key.modulusBytes();
      if (!RawRsaBlocks.isRsaInput(input, k, modulusOf(engine))) {
        // What BoringSSL does with a local key: RSA_decrypt refuses a ciphertext whose length is
        // not the modulus length, or whose value is not below the modulus, and the handshake ends
        // without an alert. Both are public properties of the message (no oracle), so this is
        // decided here, not by the service, and not reported as a Keyhold failure.
        return ImmediateEventExecutor.INSTANCE.newFailedFuture(
            new InvalidKeyException(
                "the ClientKeyExchange ciphertext is not an RSA input for a "
                    + k
                    + "-byte modulus"));
      }
      return toNetty(
          engine,
          client
              .decryptPremasterAsync(key.name(), input, version)
              .thenApply(pms -> RawRsaBlocks.encryptionBlock(pms, k)));
    } catch (GeneralSecurityException | RuntimeException e) {
      return failed(engine, e);
    }
  }

  /**
   * The ClientHello version the pre-master secret must start with (RFC 5246 §7.4.7.1). BoringSSL
   * does not hand the ClientHello to Java, and compares the first two bytes of the synthesized
   * block with the real ClientHello version itself, in constant time: a wrong value here can only
   * make the handshake fail, never succeed wrongly. So: the exact value when {@link
   * KeyholdServerTls} read the ClientHello; otherwise derived from the negotiated version, which is
   * exact for TLS 1.2 (every client that can negotiate TLS 1.2 sends 0x0303, and RFC 8446 §4.1.2
   * pins TLS 1.3 clients' legacy_version to 0x0303 too). For TLS 1.0/1.1, which Keyhold's contexts
   * do not enable, it is right for clients whose maximum version it is.
   */
  static int clientVersion(Integer recorded, SSLSession session) {
    if (recorded != null && recorded >= 0x0300 && recorded <= 0x0303) {
      return recorded;
    }
    String protocol = session == null ? null : session.getProtocol();
    if ("TLSv1.1".equals(protocol)) {
      return 0x0302;
    }
    if ("TLSv1".equals(protocol)) {
      return 0x0301;
    }
    return TLS12;
  }

  private OffloadedKey keyOf(SSLEngine engine) throws InvalidKeyException {
    SSLSession session = session(engine);
    Certificate[] local = session == null ? null : session.getLocalCertificates();
    if (local == null || local.length == 0) {
      throw new InvalidKeyException(
          "the TLS engine has no local certificate to find the Keyhold key by");
    }
    OffloadedKey key = keys.bySpki(local[0].getPublicKey().getEncoded());
    if (key == null) {
      throw new InvalidKeyException("no Keyhold key matches the local certificate");
    }
    return key;
  }

  private static java.math.BigInteger modulusOf(SSLEngine engine) throws InvalidKeyException {
    SSLSession session = session(engine);
    Certificate[] local = session == null ? null : session.getLocalCertificates();
    if (local == null
        || local.length == 0
        || !(local[0].getPublicKey() instanceof java.security.interfaces.RSAPublicKey rsa)) {
      throw new InvalidKeyException("the TLS engine has no local RSA certificate");
    }
    return rsa.getModulus();
  }

  private static SSLSession session(SSLEngine engine) {
    SSLSession s = engine.getHandshakeSession();
    return s != null ? s : engine.getSession();
  }

  /** Bridges a gRPC-completed future to a Netty one without any thread waiting on either. */
  private static Future<byte[]> toNetty(SSLEngine engine, CompletableFuture<byte[]> f) {
    Promise<byte[]> p = ImmediateEventExecutor.INSTANCE.newPromise();
    f.whenComplete(
        (result, error) -> {
          if (error == null) {
            p.trySuccess(result);
          } else {
            Throwable cause =
                error instanceof CompletionException && error.getCause() != null
                    ? error.getCause()
                    : error;
            KeyholdHandshakeAlerts.markFailed(engine, cause);
            p.tryFailure(cause);
          }
        });
    return p;
  }

  private static Future<byte[]> failed(SSLEngine engine, Throwable e) {
    KeyholdHandshakeAlerts.markFailed(engine, e);
    return ImmediateEventExecutor.INSTANCE.newFailedFuture(e);
  }
}
