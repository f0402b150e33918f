package dev.keyhold.client.jca;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.rpc.KeyholdClientConfig;
import dev.keyhold.proto.Durations;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStoreException;
import java.security.KeyStoreSpi;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * KeyStore type {@code "Keyhold"} (provider {@code "Keyhold"}): a read-only key store whose entries
 * are Keyhold keys, so that servers configured by key-store type and provider (Tomcat, Jetty,
 * Spring Boot) use Keyhold without code. {@code load(stream, password)} reads a small properties
 * file; the password is ignored (there is no secret in it beyond file paths):
 *
 * <pre>
 * target=127.0.0.1:7443            # the Keyhold service: host:port, a list h1:p1,h2:p2 of
 *                                  # replicas, or dns:///name:port (round-robin, health-checked)
 * ca=/etc/keyhold/ca.pem           # CA that signed the service's certificate
 * cert=/etc/keyhold/app.pem        # this application's client certificate (mTLS)
 * key=/etc/keyhold/app-key.pem     # its PKCS#8 key (for the channel only)
 * keys=rsa2048,ec-p256             # key names = aliases, in preference order
 * chain.rsa2048=/etc/tls/rsa.pem   # optional: chain from a file instead of the service
 * chainCache=/var/cache/keyhold    # optional: folder of the last chains fetched (alias.pem)
 * startupWait=30s                  # optional: retry an unreachable service this long at load
 * deadline=2s                      # optional: per-call deadline (ms, s, or ISO-8601)
 * authority=localhost              # optional: name the service certificate carries
 * keyRefreshInterval=30s           # optional: how often a renewed certificate is looked for (0: off)
 * </pre>
 *
 * <p>Rotation: every {@code keyRefreshInterval} the store asks the service for each key's version;
 * a renewed certificate (or a name moved to another key) replaces the entry, so {@code
 * getCertificateChain}/{@code getEntry} return the new chain. JSSE sees it on the next handshake
 * with the {@code PKIX} key manager factory (which reads the store per handshake); {@code SunX509},
 * the JDK's default, copies the entries once at {@code init}.
 *
 * <p>Spring Boot: {@code server.ssl.key-store=file:/etc/keyhold/keystore.properties}, {@code
 * server.ssl.key-store-type=Keyhold}, {@code server.ssl.key-store-provider=Keyhold}, after {@code
 * KeyholdProvider.install()} (or a {@code security.provider.N} entry).
 *
 * <p>Keys with a local chain ({@code chain.<alias>}, or the cache) cost no call at load: the server
 * starts while the service is down, and handshakes work once it is up. Keys without one are fetched
 * at load; see {@link KeyStoreEntries}.
 *
 * <p>Security note: entries are remote handles; {@code getKey} never returns key material. The
 * store opens one gRPC channel, kept for the life of the JVM (a reload replaces it).
 */
public final class KeyholdKeyStoreSpi extends KeyStoreSpi {
  /** How long {@code load} retries an unreachable service for keys without a local chain. */
  static final Duration DEFAULT_STARTUP_WAIT = Duration.ofSeconds(30);

  private KeyholdKeyEntries keys;
  private KeyholdClient client;
  private final Date loaded = new Date();

  /** Public: the provider creates it. */
  public KeyholdKeyStoreSpi() {}

  @Override
  public void engineLoad(InputStream stream, char[] password) throws IOException {
    if (stream == null) {
      // KeyStore.load(null, null) means "empty store": nothing to connect to.
      replace(null, null);
      return;
    }
    Properties p = new Properties();
    p.load(new InputStreamReader(stream, StandardCharsets.UTF_8));
    KeyholdClientConfig.Builder cfg =
        KeyholdClientConfig.builder()
            .trustedCa(Path.of(required(p, "ca")))
            .clientCertificate(Path.of(required(p, "cert")), Path.of(required(p, "key")));
    try {
      cfg.target(required(p, "target"));
    } catch (IllegalArgumentException e) {
      throw new IOException("Keyhold key store: bad target: " + e.getMessage(), e);
    }
    if (p.getProperty("deadline") != null) {
      cfg.deadline(parseDuration(p.getProperty("deadline").trim()));
    }
    if (p.getProperty("keyRefreshInterval") != null) {
      cfg.keyRefreshInterval(parseDuration(p.getProperty("keyRefreshInterval").trim()));
    }
    if (p.getProperty("authority") != null) {
      cfg.authority(p.getProperty("authority").trim());
    }
    KeyholdClient c;
    try {
      c = KeyholdClient.create(cfg.build());
    } catch (IllegalArgumentException e) {
      throw new IOException("Keyhold key store: " + e.getMessage(), e);
    }
    // Start connecting now, without waiting: the first handshake then need not pay for it.
    c.channel().getState(true);
    try {
      List<String> names = new ArrayList<>();
      Map<String, Path> chains = new HashMap<>();
      for (String name : required(p, "keys").split(",")) {
        String n = name.trim();
        if (n.isEmpty()) {
          continue;
        }
        names.add(n);
        String chain = p.getProperty("chain." + n);
        if (chain != null) {
          chains.put(n, Path.of(chain.trim()));
        }
      }
      String cache = p.getProperty("chainCache");
      Duration wait =
          p.getProperty("startupWait") == null
              ? DEFAULT_STARTUP_WAIT
              : parseDuration(p.getProperty("startupWait").trim());
      replace(
          c,
          KeyStoreEntries.build(
              c, names, chains, cache == null ? null : Path.of(cache.trim()), wait));
    } catch (GeneralSecurityException | RuntimeException | IOException e) {
      c.close();
      throw e instanceof IOException io
          ? io
          : new IOException("Keyhold key store: " + e.getMessage(), e);
    }
  }

  private void replace(KeyholdClient newClient, KeyholdKeyEntries newKeys) {
    KeyholdClient old = client;
    client = newClient;
    keys = newKeys;
    if (old != null) {
      old.close();
    }
  }

  private static String required(Properties p, String name) throws IOException {
    String v = p.getProperty(name);
    if (v == null || v.isBlank()) {
      throw new IOException("Keyhold key store: property '" + name + "' is required");
    }
    return v.trim();
  }

  /**
   * The shared grammar ({@link Durations}); a bare number counts milliseconds, as it always did.
   */
  static Duration parseDuration(String s) throws IOException {
    try {
      return Durations.parse(s, TimeUnit.MILLISECONDS);
    } catch (IllegalArgumentException e) {
      throw new IOException(
          "Keyhold key store: bad deadline '" + s + "' (e.g. 2s, 500ms, PT2S)", e);
    }
  }

  @Override
  public Key engineGetKey(String alias, char[] password) {
    KeyholdKeyEntries.Entry e = entry(alias);
    return e == null ? null : e.key();
  }

  @Override
  public Certificate[] engineGetCertificateChain(String alias) {
    KeyholdKeyEntries.Entry e = entry(alias);
    return e == null ? null : e.chain().clone();
  }

  private KeyholdKeyEntries.Entry entry(String alias) {
    return keys == null || alias == null ? null : keys.byAlias().get(alias);
  }

  @Override
  public Certificate engineGetCertificate(String alias) {
    Certificate[] chain = engineGetCertificateChain(alias);
    return chain == null ? null : chain[0];
  }

  @Override
  public Date engineGetCreationDate(String alias) {
    return engineContainsAlias(alias) ? new Date(loaded.getTime()) : null;
  }

  @Override
  public void engineSetKeyEntry(String alias, Key key, char[] password, Certificate[] chain)
      throws KeyStoreException {
    throw readOnly();
  }

  @Override
  public void engineSetKeyEntry(String alias, byte[] key, Certificate[] chain)
      throws KeyStoreException {
    throw readOnly();
  }

  @Override
  public void engineSetCertificateEntry(String alias, Certificate cert) throws KeyStoreException {
    throw readOnly();
  }

  @Override
  public void engineDeleteEntry(String alias) throws KeyStoreException {
    throw readOnly();
  }

  private static KeyStoreException readOnly() {
    return new KeyStoreException("the Keyhold key store is read-only: keys are managed in the HSM");
  }

  @Override
  public Enumeration<String> engineAliases() {
    return Collections.enumeration(keys == null ? java.util.List.of() : keys.aliases());
  }

  @Override
  public boolean engineContainsAlias(String alias) {
    return keys != null && keys.aliases().contains(alias);
  }

  @Override
  public int engineSize() {
    return keys == null ? 0 : keys.aliases().size();
  }

  @Override
  public boolean engineIsKeyEntry(String alias) {
    return engineContainsAlias(alias);
  }

  @Override
  public boolean engineIsCertificateEntry(String alias) {
    return false;
  }

  @Override
  public String engineGetCertificateAlias(Certificate cert) {
    if (keys == null) {
      return null;
    }
    for (String a : keys.aliases()) {
      if (keys.byAlias().get(a).chain()[0].equals(cert)) {
        return a;
      }
    }
    return null;
  }

  @Override
  public void engineStore(OutputStream stream, char[] password) throws IOException {
    throw new IOException("the Keyhold key store is read-only: keys are managed in the HSM");
  }
}
