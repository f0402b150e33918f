package dev.keyhold.client.jca;

import com.google.protobuf.ByteString;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.rpc.KeyholdException;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Builds the {@code Keyhold} key store's entries so that an app server can start while the service
 * is down. A key whose chain is local (a {@code chain.<alias>} PEM file, or the {@code chainCache}
 * folder's {@code <alias>.pem} from an earlier start) needs no call at all: its handle is built
 * from the chain's public key, and the channel connects on the first handshake. Keys without a
 * local chain are fetched with {@code GetKey}, retried with backoff while the service is
 * unreachable, for at most {@code startupWait}; their chains then go to the cache.
 *
 * <p>Security note: the cache holds certificates only (public data), written atomically.
 */
final class KeyStoreEntries {
  private static final Logger LOG = Logger.getLogger("dev.keyhold.client");
  private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  private KeyStoreEntries() {}

  /**
   * The key entries for {@code names} (in preference order).
   *
   * @param chainFiles {@code chain.<alias>} paths, by alias
   * @param cacheDir the chain cache folder, or null
   * @param startupWait how long to retry an unreachable service for keys without a local chain
   */
  static KeyholdKeyEntries build(
      KeyholdClient client,
      List<String> names,
      Map<String, Path> chainFiles,
      Path cacheDir,
      Duration startupWait)
      throws GeneralSecurityException, IOException {
    KeyholdKeyEntries.Builder b = KeyholdKeyEntries.builder(client);
    Map<String, X509Certificate[]> local = new LinkedHashMap<>();
    List<String> remote = new ArrayList<>();
    List<String> fromCache = new ArrayList<>();
    for (String name : names) {
      Path file = chainFiles.get(name);
      if (file == null && cacheDir != null && Files.isRegularFile(cacheFile(cacheDir, name))) {
        file = cacheFile(cacheDir, name);
      }
      if (file != null) {
        local.put(
            name,
            dev.keyhold.client.keys.Certificates.readPem(file).toArray(new X509Certificate[0]));
        if (chainFiles.get(name) == null) {
          fromCache.add(name);
        }
      } else {
        remote.add(name);
      }
    }
    Map<String, KeyInfo> fetched = fetch(client, remote, startupWait);
    for (String name : names) {
      X509Certificate[] chain = local.get(name);
      if (chain != null) {
        if (chain.length == 0) {
          throw new GeneralSecurityException("key " + name + ": the local chain file is empty");
        }
        b.key(KeyholdPrivateKey.of(client, localInfo(name, chain[0])), chain);
        if (chainFiles.get(name) == null) {
          b.refreshed(name); // a cached chain: the service's may be newer
        }
        continue;
      }
      KeyInfo info = fetched.get(name);
      X509Certificate[] served = chainOf(info);
      if (served.length == 0) {
        throw new GeneralSecurityException(
            "key " + name + " has no certificate chain in the service; set chain." + name + "=");
      }
      b.key(KeyholdPrivateKey.of(client, info), served);
      b.refreshed(name);
      if (cacheDir != null) {
        writeCache(cacheDir, name, served);
      }
    }
    KeyholdKeyEntries km = b.build();
    if (!fromCache.isEmpty()) {
      refreshCache(client, fromCache, cacheDir);
    }
    return km;
  }

  /**
   * Refreshes cached chains in the background, for the next start (this one keeps what it read):
   * the service may hold a renewed certificate. Also gets the channel connected before the first
   * handshake. Failures leave the cache as it is.
   */
  private static void refreshCache(KeyholdClient client, List<String> names, Path cacheDir) {
    Thread t =
        new Thread(
            () -> {
              for (String name : names) {
                try {
                  X509Certificate[] served = chainOf(client.getKey(name));
                  if (served.length > 0) {
                    writeCache(cacheDir, name, served);
                  }
                } catch (GeneralSecurityException | RuntimeException e) {
                  LOG.log(
                      Level.FINE,
                      "Keyhold key store: chain cache not refreshed for {0}: {1}",
                      new Object[] {name, e.toString()});
                }
              }
            },
            "keyhold-chain-cache");
    t.setDaemon(true);
    t.start();
  }

  /** GetKey for each name, retrying while the service is unreachable, for at most {@code wait}. */
  private static Map<String, KeyInfo> fetch(KeyholdClient client, List<String> names, Duration wait)
      throws IOException {
    Map<String, KeyInfo> out = new LinkedHashMap<>();
    long end = System.nanoTime() + wait.toNanos();
    Duration backoff = FIRST_BACKOFF;
    KeyholdException last = null;
    int attempts = 0;
    for (String name : names) {
      while (true) {
        try {
          attempts++;
          out.put(name, client.getKey(name));
          break;
        } catch (KeyholdException e) {
          if (!e.isUnavailable()) {
            throw new IOException("Keyhold key store: key " + name + ": " + e.getMessage(), e);
          }
          last = e;
          long left = end - System.nanoTime();
          if (left <= 0) {
            throw new IOException(
                "Keyhold key store: service "
                    + client.config().target()
                    + " unreachable for "
                    + wait.toMillis() / 1000.0
                    + " s ("
                    + attempts
                    + " attempts, last: "
                    + e.code()
                    + ") and no local chain for key "
                    + name
                    + "; set chain."
                    + name
                    + "= or chainCache=, or raise startupWait=",
                e);
          }
          if (attempts == 1) {
            LOG.log(
                Level.WARNING,
                "Keyhold key store: service {0} unreachable ({1}); retrying for up to {2} s",
                new Object[] {client.config().target(), e.code(), wait.toMillis() / 1000.0});
          }
          sleep(Math.min(backoff.toNanos(), left));
          // Our backoff, not gRPC's (which grows to two minutes): try to connect again now.
          client.channel().resetConnectBackoff();
          backoff =
              backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0
                  ? MAX_BACKOFF
                  : backoff.multipliedBy(2);
        }
      }
    }
    if (last != null) {
      LOG.log(
          Level.INFO,
          "Keyhold key store: service {0} reached after {1} attempts",
          new Object[] {client.config().target(), attempts});
    }
    return out;
  }

  private static void sleep(long nanos) throws IOException {
    try {
      Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("Keyhold key store: interrupted while waiting for the service", e);
    }
  }

  /**
   * The public facts a handle needs, from the certificate: name, type, SPKI and curve. The schemes
   * stay empty, which means "whatever fits the key" ({@link KeyholdPrivateKey#supports}).
   */
  static KeyInfo localInfo(String name, X509Certificate leaf) throws GeneralSecurityException {
    PublicKey pub = leaf.getPublicKey();
    KeyInfo.Builder info =
        KeyInfo.newBuilder().setName(name).setSpkiDer(ByteString.copyFrom(pub.getEncoded()));
    if (pub instanceof RSAPublicKey) {
      info.setKeyType(KeyType.KEY_TYPE_RSA);
    } else if (pub instanceof ECPublicKey) {
      info.setKeyType(KeyType.KEY_TYPE_EC); // the curve follows from the field size
    } else {
      throw new GeneralSecurityException(
          "key "
              + name
              + ": the local certificate's key is "
              + pub.getAlgorithm()
              + ", not RSA/EC");
    }
    return info.build();
  }

  private static X509Certificate[] chainOf(KeyInfo info) throws GeneralSecurityException {
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    List<X509Certificate> out = new ArrayList<>();
    for (ByteString der : info.getCertificateChainList()) {
      try (InputStream in = der.newInput()) {
        out.add((X509Certificate) cf.generateCertificate(in));
      } catch (IOException e) {
        throw new GeneralSecurityException(e);
      }
    }
    return out.toArray(X509Certificate[]::new);
  }

  static Path cacheFile(Path cacheDir, String name) {
    return cacheDir.resolve(name + ".pem");
  }

  /** Writes the chain as PEM, atomically; a cache that cannot be written is only a warning. */
  private static void writeCache(Path cacheDir, String name, X509Certificate[] chain) {
    try {
      StringBuilder pem = new StringBuilder();
      Base64.Encoder enc = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
      for (Certificate c : chain) {
        pem.append("-----BEGIN CERTIFICATE-----\n")
            .append(enc.encodeToString(c.getEncoded()))
            .append("\n-----END CERTIFICATE-----\n");
      }
      Files.createDirectories(cacheDir);
      Path target = cacheFile(cacheDir, name);
      Path tmp = Files.createTempFile(cacheDir, name, ".tmp");
      Files.writeString(tmp, pem, StandardCharsets.US_ASCII);
      try {
        Files.move(
            tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException | CertificateEncodingException e) {
      LOG.log(
          Level.WARNING,
          "Keyhold key store: cannot write the chain cache {0}: {1}",
          new Object[] {cacheDir, e.toString()});
    }
  }
}
