package dev.keyhold.client.netty;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import javax.net.ssl.SSLEngine;

/**
 * ClientHello versions seen by a {@link KeyholdServerTls}, by engine, until the RSA key exchange of
 * that engine asks for it. Weakly keyed (engines use identity equality), so connections that never
 * do RSA key exchange leave nothing behind. Not a session value: Netty's OpenSSL engine starts its
 * handshake session afresh, dropping values put on it before the handshake.
 */
final class ClientHelloVersions {
  private final Map<SSLEngine, Integer> versions = Collections.synchronizedMap(new WeakHashMap<>());
  private final java.util.concurrent.atomic.AtomicLong used =
      new java.util.concurrent.atomic.AtomicLong();

  void record(SSLEngine engine, int clientVersion) {
    versions.put(engine, clientVersion);
  }

  /** The recorded version, or null; forgets it. */
  Integer take(SSLEngine engine) {
    Integer v = versions.remove(engine);
    if (v != null) {
      used.incrementAndGet();
    }
    return v;
  }

  /** How many RSA key exchanges used a recorded version (for tests and diagnostics). */
  long used() {
    return used.get();
  }
}
