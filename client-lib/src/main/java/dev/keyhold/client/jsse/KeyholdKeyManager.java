package dev.keyhold.client.jsse;

import dev.keyhold.client.jca.KeyholdKeyEntries;
import dev.keyhold.client.jca.KeyholdKeyEntries.Entry;
import dev.keyhold.client.jca.KeyholdPrivateKey;
import dev.keyhold.client.jca.KeyholdProvider;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.proto.SignatureScheme;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyManagementException;
import java.security.NoSuchAlgorithmException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A JSSE key manager whose private keys stay in a Keyhold service. Each alias is a key name; it
 * serves that key's certificate chain (from the service's {@code GetKey}, or from a PEM file) with
 * a {@link KeyholdPrivateKey} handle, so that the handshake's private-key step (TLS 1.3
 * CertificateVerify, TLS 1.2 ServerKeyExchange, RSA pre-master decryption, or the client's
 * CertificateVerify) runs in the HSM through {@link KeyholdProvider}.
 *
 * <pre>{@code
 * KeyholdClient client = KeyholdClient.create(config);
 * KeyholdKeyManager km = KeyholdKeyManager.create(client, "rsa2048", "ec-p256");
 * SSLContext tls = km.newSslContext(null);   // or SSLContext.init(new KeyManager[] {km}, ...)
 * }</pre>
 *
 * <p>Choice of key: among the configured keys whose algorithm is the key type JSSE asks for ("RSA"
 * or "EC"; the legacy "EC_EC"/"EC_RSA" count as "EC") and, when the peer named acceptable issuers,
 * whose chain contains one of them, the first that can sign with a signature algorithm the peer
 * offered (an ECDSA scheme is bound to one curve), else the first. On the server side a key outside
 * the peer's issuer list is still used when nothing else fits (browsers and curl send none; a
 * server cert the peer cannot verify fails visibly anyway); on the client side it is not, as the
 * JDK's own key managers do.
 *
 * <p>Security guarantees: holds no private material. Building it installs {@link KeyholdProvider}
 * (once per JVM), without which the handles could not be used.
 */
public final class KeyholdKeyManager extends X509ExtendedKeyManager {
  private final KeyholdKeyEntries keys;

  private KeyholdKeyManager(KeyholdKeyEntries keys) {
    this.keys = keys;
  }

  /**
   * A key manager for the named keys, in preference order, with the chains the service stores for
   * them. Calls {@code GetKey} once per key, now.
   *
   * @throws GeneralSecurityException if a key is unknown or forbidden ({@code KeyholdException}),
   *     has no certificate chain, or its certificate does not match its public key
   */
  public static KeyholdKeyManager create(KeyholdClient client, String... keyNames)
      throws GeneralSecurityException {
    Builder b = builder(client);
    for (String name : keyNames) {
      b.key(name);
    }
    return b.build();
  }

  /** A builder, to mix chains from the service and chains from PEM files. */
  public static Builder builder(KeyholdClient client) {
    return new Builder(client);
  }

  /** The aliases (key names), in preference order. */
  public List<String> aliases() {
    return keys.aliases();
  }

  /**
   * A TLS context ("TLS": 1.3 and 1.2) with this key manager and the given trust managers (null:
   * the JDK's default trust store).
   */
  public SSLContext newSslContext(TrustManager[] trustManagers)
      throws NoSuchAlgorithmException, KeyManagementException {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(new KeyManager[] {this}, trustManagers, null);
    return ctx;
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return matching(keyType, issuers, false);
  }

  @Override
  public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
    return chooseClient(
        keyTypes,
        issuers,
        peerAlgorithms(socket instanceof SSLSocket s ? s.getHandshakeSession() : null));
  }

  @Override
  public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
    return chooseClient(
        keyTypes, issuers, peerAlgorithms(engine == null ? null : engine.getHandshakeSession()));
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return matching(keyType, issuers, true);
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return preferPeerAlgorithms(
        matching(keyType, issuers, true),
        peerAlgorithms(socket instanceof SSLSocket s ? s.getHandshakeSession() : null));
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return preferPeerAlgorithms(
        matching(keyType, issuers, true),
        peerAlgorithms(engine == null ? null : engine.getHandshakeSession()));
  }

  /**
   * The signature algorithms the peer accepts (JCA names, e.g. "SHA384withECDSA"), or null if
   * unknown. JSSE asks only for a key type ("EC"), but binds each ECDSA scheme to one curve: a
   * P-256 key is useless to a peer that offers only ecdsa_secp384r1_sha384.
   */
  private static Set<String> peerAlgorithms(SSLSession handshake) {
    if (!(handshake instanceof ExtendedSSLSession ext)) {
      return null;
    }
    String[] algs = ext.getPeerSupportedSignatureAlgorithms();
    if (algs == null || algs.length == 0) {
      return null;
    }
    Set<String> out = new HashSet<>();
    for (String a : algs) {
      out.add(a.toUpperCase(Locale.ROOT));
    }
    return out;
  }

  /**
   * The first alias whose key can sign with an algorithm the peer accepts; else the first alias.
   */
  private String preferPeerAlgorithms(String[] aliases, Set<String> peerAlgs) {
    if (aliases == null || aliases.length == 0) {
      return null;
    }
    if (peerAlgs != null) {
      Map<String, Entry> entries = keys.byAlias();
      for (String a : aliases) {
        Entry e = entries.get(a);
        if (e == null) {
          continue;
        }
        KeyholdPrivateKey key = e.key();
        for (SignatureScheme s : SignatureScheme.values()) {
          if (key.supports(s) && peerAlgs.contains(s.jcaSignatureName().toUpperCase(Locale.ROOT))) {
            return a;
          }
        }
      }
    }
    // No signature fits (or none is needed, as in TLS_RSA key exchange): keep configured order.
    return aliases[0];
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    Entry e = alias == null ? null : keys.byAlias().get(alias);
    return e == null ? null : e.chain().clone();
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    Entry e = alias == null ? null : keys.byAlias().get(alias);
    return e == null ? null : e.key();
  }

  private String chooseClient(String[] keyTypes, Principal[] issuers, Set<String> peerAlgs) {
    if (keyTypes == null) {
      return null;
    }
    for (String type : keyTypes) {
      String alias = preferPeerAlgorithms(matching(type, issuers, false), peerAlgs);
      if (alias != null) {
        return alias;
      }
    }
    return null;
  }

  private String[] matching(String keyType, Principal[] issuers, boolean lenientIssuers) {
    String algorithm = keyAlgorithm(keyType);
    if (algorithm == null) {
      return null;
    }
    Map<String, Entry> entries = keys.byAlias();
    List<String> byType = new ArrayList<>();
    for (Map.Entry<String, Entry> e : entries.entrySet()) {
      if (e.getValue().key().getAlgorithm().equals(algorithm)) {
        byType.add(e.getKey());
      }
    }
    if (issuers == null || issuers.length == 0 || byType.isEmpty()) {
      return byType.isEmpty() ? null : byType.toArray(String[]::new);
    }
    List<Principal> wanted = Arrays.asList(issuers);
    List<String> byIssuer =
        byType.stream().filter(a -> issuedBy(entries.get(a).chain(), wanted)).toList();
    if (!byIssuer.isEmpty()) {
      return byIssuer.toArray(String[]::new);
    }
    return lenientIssuers ? byType.toArray(String[]::new) : null;
  }

  /**
   * JSSE's key type ("RSA", "EC", legacy "EC_EC"/"EC_RSA") to a key algorithm; null if unsupported.
   */
  static String keyAlgorithm(String keyType) {
    if (keyType == null) {
      return null;
    }
    String t = keyType.toUpperCase(Locale.ROOT);
    int underscore = t.indexOf('_');
    if (underscore > 0) {
      t = t.substring(0, underscore);
    }
    return switch (t) {
      case "RSA" -> "RSA";
      case "EC", "ECDSA" -> "EC";
      default -> null; // RSASSA-PSS-only keys, DSA, EdDSA: Keyhold serves none
    };
  }

  private static boolean issuedBy(X509Certificate[] chain, List<Principal> issuers) {
    for (X509Certificate c : chain) {
      if (issuers.contains(c.getIssuerX500Principal())
          || issuers.contains(c.getSubjectX500Principal())) {
        return true;
      }
    }
    return false;
  }

  /**
   * Builds a {@link KeyholdKeyManager}; keys are tried in the order they are added. The entries are
   * {@link KeyholdKeyEntries}, shared with the {@code "Keyhold"} key store.
   */
  public static final class Builder {
    private final KeyholdKeyEntries.Builder entries;

    private Builder(KeyholdClient client) {
      this.entries = KeyholdKeyEntries.builder(client);
    }

    /** A key whose chain comes from the service ({@code KeyInfo.certificate_chain}). */
    public Builder key(String keyName) {
      entries.key(keyName);
      return this;
    }

    /**
     * A key whose chain (leaf first) comes from a PEM file, e.g. a CA-signed certificate that
     * replaced the HSM's self-signed placeholder.
     */
    public Builder key(String keyName, Path chainPem) {
      entries.key(keyName, chainPem);
      return this;
    }

    /**
     * A key handle the caller already built (e.g. with another client), with its chain, leaf first;
     * served under the handle's key name.
     */
    public Builder key(KeyholdPrivateKey handle, X509Certificate... chain) {
      entries.key(handle, chain);
      return this;
    }

    /**
     * Fetches every key's public facts (one {@code GetKey} each), checks each chain against its
     * key, installs {@link KeyholdProvider} and returns the key manager.
     */
    public KeyholdKeyManager build() throws GeneralSecurityException {
      return new KeyholdKeyManager(entries.build());
    }
  }

  /** A key manager over entries already built (the key store's). */
  public static KeyholdKeyManager over(KeyholdKeyEntries entries) {
    return new KeyholdKeyManager(entries);
  }
}
