package dev.keyhold.client.netty;

import dev.keyhold.client.rpc.KeyWatcher;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.proto.v1.KeyInfo;
import java.nio.ByteBuffer;
import java.security.cert.CertificateException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The keys of one Netty context, as its key manager and its private-key method share them: keys
 * whose chain came from the service are refreshed when their version changes ({@link
 * KeyholdClient#watchKey}), so the next handshake presents the new chain. A handshake in flight
 * holds the chain it was given; its signature is found by that chain's public key, which stays
 * known here after a refresh (a name moved to another key keeps its old public key mapped to the
 * name until the context is released).
 */
final class NettyKeys {
  private volatile List<OffloadedKey> keys;
  private final Map<ByteBuffer, OffloadedKey> bySpki = new ConcurrentHashMap<>();

  private NettyKeys(List<OffloadedKey> keys) {
    this.keys = List.copyOf(keys);
    for (OffloadedKey k : keys) {
      bySpki.put(ByteBuffer.wrap(k.spkiDer()), k);
    }
  }

  /** Keys that follow the service's renewals through {@code client} (null: fixed keys). */
  static NettyKeys of(KeyholdClient client, List<OffloadedKey> keys) {
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("at least one key is required");
    }
    NettyKeys live = new NettyKeys(keys);
    if (client != null) {
      for (OffloadedKey k : keys) {
        if (k.fromService()) {
          AutoCloseable unused =
              client.watchKey(
                  k.name(),
                  KeyWatcher.versionOf(k.spkiPublicKey(), k.chain()),
                  info -> live.replace(info));
        }
      }
    }
    return live;
  }

  private synchronized void replace(KeyInfo info) throws CertificateException {
    OffloadedKey fresh = OffloadedKey.fromService(info);
    List<OffloadedKey> next = new ArrayList<>();
    for (OffloadedKey k : keys) {
      next.add(k.name().equals(fresh.name()) ? fresh : k);
    }
    bySpki.put(ByteBuffer.wrap(fresh.spkiDer()), fresh);
    keys = List.copyOf(next);
  }

  /** The keys now, in the order given. */
  List<OffloadedKey> current() {
    return keys;
  }

  /** The key (current or one a refresh replaced) whose SPKI is {@code spkiDer}, or null. */
  OffloadedKey bySpki(byte[] spkiDer) {
    return bySpki.get(ByteBuffer.wrap(spkiDer));
  }
}
