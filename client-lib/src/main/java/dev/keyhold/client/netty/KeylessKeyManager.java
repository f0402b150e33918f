package dev.keyhold.client.netty;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A key manager that presents the certificate chains of HSM-held keys and has no private keys:
 * {@link #getPrivateKey} returns null, which Netty's OpenSSL provider treats as "keyless", leaving
 * the private-key steps to the installed {@link KeyholdAsyncPrivateKeyMethod}. Aliases are the
 * Keyhold key names; an alias is chosen by key type ("RSA" or "EC").
 *
 * <p>Security note: holds public data only.
 */
final class KeylessKeyManager extends X509ExtendedKeyManager {
  private final NettyKeys live;
  // One array per key, handed out as the same instance every time: Netty caches the parsed native
  // chain by instance identity, so a fresh copy per handshake would re-parse the PEM each time. A
  // refresh of the keys (a renewed certificate) builds the next map once.
  private volatile Snapshot snapshot;

  private record Snapshot(List<OffloadedKey> keys, Map<String, X509Certificate[]> chains) {}

  KeylessKeyManager(List<OffloadedKey> keys) {
    this(NettyKeys.of(null, keys));
  }

  KeylessKeyManager(NettyKeys live) {
    this.live = live;
    this.snapshot = snapshotOf(live.current());
  }

  private static Snapshot snapshotOf(List<OffloadedKey> keys) {
    Map<String, X509Certificate[]> c = new LinkedHashMap<>();
    for (OffloadedKey k : keys) {
      c.put(k.name(), k.chain());
    }
    return new Snapshot(keys, c);
  }

  private Snapshot snapshot() {
    Snapshot s = snapshot;
    List<OffloadedKey> now = live.current();
    if (s.keys() != now) {
      s = snapshotOf(now);
      snapshot = s;
    }
    return s;
  }

  private String[] aliases(String keyType) {
    List<String> out = new ArrayList<>();
    for (OffloadedKey k : snapshot().keys()) {
      if (keyType == null || k.jsseKeyType().equals(keyType)) {
        out.add(k.name());
      }
    }
    return out.isEmpty() ? null : out.toArray(new String[0]);
  }

  private String first(String... keyTypes) {
    if (keyTypes == null) {
      return null;
    }
    for (String type : keyTypes) {
      String[] a = aliases(type);
      if (a != null) {
        return a[0];
      }
    }
    return null;
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return aliases(keyType);
  }

  @Override
  public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
    return first(keyTypes);
  }

  @Override
  public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
    return first(keyTypes);
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return aliases(keyType);
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return first(keyType);
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return first(keyType);
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    return alias == null ? null : snapshot().chains().get(alias);
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return null; // keyless: the key stays in the HSM
  }
}
