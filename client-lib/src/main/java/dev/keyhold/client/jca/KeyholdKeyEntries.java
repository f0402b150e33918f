package dev.keyhold.client.jca;

import dev.keyhold.client.keys.Certificates;
import dev.keyhold.client.keys.RemoteKey;
import dev.keyhold.client.rpc.KeyWatcher;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.proto.v1.KeyInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Named Keyhold keys, each a {@link KeyholdPrivateKey} handle with the certificate chain presented
 * for it, in preference order: what the {@code "Keyhold"} key store and the JSSE key manager both
 * serve.
 *
 * <p>Keys whose chain comes from the service (and the key store's cached chains) are refreshed:
 * every {@code keyRefreshInterval} of the client a {@code GetKey} checks the key's version, and a
 * changed key (renewed certificate, or the name moved to another key) gets a new handle and chain
 * here, atomically per key; the next handshake presents it, handshakes in flight keep what they
 * already took. Keys with a chain from a PEM file, or a handle given by the caller, are fixed.
 *
 * <p>Security guarantees: holds no private material. Building it installs {@link KeyholdProvider}
 * (once per JVM), without which the handles could not be used.
 */
public final class KeyholdKeyEntries {
  /** One alias: the remote key and the chain presented for it, leaf first. */
  public record Entry(KeyholdPrivateKey key, X509Certificate[] chain) {}

  private final KeyholdClient client;
  private volatile Map<String, Entry> entries;

  private KeyholdKeyEntries(KeyholdClient client, Map<String, Entry> entries) {
    this.client = client;
    this.entries = Collections.unmodifiableMap(entries);
  }

  /**
   * Refreshes {@code name}'s entry from the service whenever its version is not {@code version}.
   */
  private void watch(String name, String version) {
    AutoCloseable unused = client.watchKey(name, version, info -> replace(name, info));
  }

  /** Swaps one key's handle and chain for those of {@code info}, once they check out. */
  private synchronized void replace(String name, KeyInfo info) throws GeneralSecurityException {
    RemoteKey key = RemoteKey.parse(info);
    KeyholdPrivateKey handle = KeyholdPrivateKey.of(client, key);
    X509Certificate[] chain = key.serviceChain();
    if (chain.length == 0) {
      throw new GeneralSecurityException("key " + name + " has no certificate chain any more");
    }
    Builder.checkMatches(name, handle, chain);
    Map<String, Entry> m = new LinkedHashMap<>(entries);
    m.put(name, new Entry(handle, chain));
    entries = Collections.unmodifiableMap(m);
  }

  /** A builder, to mix chains from the service and chains from PEM files. */
  public static Builder builder(KeyholdClient client) {
    return new Builder(client);
  }

  /** The aliases (key names), in preference order. */
  public List<String> aliases() {
    return List.copyOf(entries.keySet());
  }

  /**
   * The entries by alias, in preference order (unmodifiable): a snapshot; a refresh replaces it.
   */
  public Map<String, Entry> byAlias() {
    return entries;
  }

  /** Builds {@link KeyholdKeyEntries}; keys are tried in the order they are added. */
  public static final class Builder {
    private final KeyholdClient client;
    private final Map<String, Path> keys = new LinkedHashMap<>();
    private final Map<String, Entry> ready = new LinkedHashMap<>();
    private final List<String> order = new ArrayList<>();
    private final Set<String> refreshed = new HashSet<>();

    private Builder(KeyholdClient client) {
      this.client = Objects.requireNonNull(client, "client");
    }

    /** A key whose chain comes from the service ({@code KeyInfo.certificate_chain}). */
    public Builder key(String keyName) {
      keys.put(Objects.requireNonNull(keyName, "keyName"), null);
      moveLast(keyName);
      return this;
    }

    /** A key whose chain (leaf first) comes from a PEM file. */
    public Builder key(String keyName, Path chainPem) {
      keys.put(
          Objects.requireNonNull(keyName, "keyName"), Objects.requireNonNull(chainPem, "chainPem"));
      moveLast(keyName);
      return this;
    }

    /**
     * Refreshes {@code keyName}'s entry (given by {@link #key(KeyholdPrivateKey,
     * X509Certificate...)}) from the service when its version changes, as for keys whose chain
     * comes from the service.
     */
    public Builder refreshed(String keyName) {
      refreshed.add(keyName);
      return this;
    }

    /** A key handle the caller already built, with its chain, leaf first. */
    public Builder key(KeyholdPrivateKey handle, X509Certificate... chain) {
      if (chain.length == 0) {
        throw new IllegalArgumentException(
            "a certificate chain is required for " + handle.keyName());
      }
      String name = handle.keyName();
      moveLast(name);
      keys.remove(name);
      ready.put(name, new Entry(handle, chain.clone()));
      return this;
    }

    private void moveLast(String keyName) {
      ready.remove(keyName);
      order.remove(keyName);
      order.add(keyName);
    }

    /**
     * Fetches every key's public facts (one {@code GetKey} each), checks each chain against its
     * key, installs {@link KeyholdProvider} and returns the entries.
     *
     * @throws IllegalArgumentException if no key was added
     * @throws GeneralSecurityException if a key is unknown or forbidden ({@code KeyholdException}),
     *     has no certificate chain, or its certificate does not match its public key
     */
    public KeyholdKeyEntries build() throws GeneralSecurityException {
      if (keys.isEmpty() && ready.isEmpty()) {
        throw new IllegalArgumentException("no key names given");
      }
      KeyholdProvider.install();
      Map<String, Entry> entries = new LinkedHashMap<>();
      Map<String, String> versions = new LinkedHashMap<>();
      for (String name : order) {
        Entry given = ready.get(name);
        if (given != null) {
          checkMatches(name, given.key(), given.chain());
          entries.put(name, given);
          if (refreshed.contains(name)) {
            versions.put(name, KeyWatcher.versionOf(given.key().publicKey(), given.chain()));
          }
          continue;
        }
        Path chainPem = keys.get(name);
        RemoteKey key = RemoteKey.parse(client.getKey(name));
        KeyholdPrivateKey handle = KeyholdPrivateKey.of(client, key);
        X509Certificate[] chain = chainPem == null ? key.serviceChain() : readChain(chainPem);
        if (chain.length == 0) {
          throw new GeneralSecurityException(
              "key "
                  + name
                  + " has no certificate chain"
                  + (chainPem == null ? " in the service" : " in " + chainPem));
        }
        checkMatches(name, handle, chain);
        entries.put(name, new Entry(handle, chain));
        if (chainPem == null) {
          versions.put(name, KeyWatcher.versionOf(key.info()));
        }
      }
      KeyholdKeyEntries built = new KeyholdKeyEntries(client, entries);
      versions.forEach(built::watch);
      return built;
    }

    static void checkMatches(String name, KeyholdPrivateKey handle, X509Certificate[] chain)
        throws GeneralSecurityException {
      if (!chain[0].getPublicKey().equals(handle.publicKey())) {
        throw new GeneralSecurityException(
            "the certificate "
                + chain[0].getSubjectX500Principal()
                + " does not match the public key of "
                + name);
      }
    }

    private static X509Certificate[] readChain(Path pem) throws GeneralSecurityException {
      try {
        return Certificates.readPem(pem).toArray(X509Certificate[]::new);
      } catch (IOException e) {
        throw new GeneralSecurityException(
            "cannot read certificates from " + pem + ": " + e.getMessage(), e);
      }
    }
  }
}
