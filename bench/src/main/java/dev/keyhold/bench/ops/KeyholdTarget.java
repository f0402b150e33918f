package dev.keyhold.bench.ops;

import com.google.protobuf.ByteString;
import dev.keyhold.bench.load.LoadRunner.AsyncOperation;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.rpc.KeyholdClientConfig;
import dev.keyhold.client.rpc.KeyholdException;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.DecryptPremasterRequest;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyType;
import dev.keyhold.proto.v1.Operation;
import dev.keyhold.proto.v1.SignRequest;
import io.grpc.Status;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A Keyhold endpoint reached with mTLS through client-lib, checked before any load: the target must
 * answer, the key must exist for this client and allow the operation, and the scheme must suit the
 * key. Each failure is a {@link TargetException} that says what to fix.
 */
public final class KeyholdTarget implements AutoCloseable {
  /** The target cannot be used for this run; the message is meant for the terminal. */
  public static final class TargetException extends Exception {
    private static final long serialVersionUID = 1L;

    public TargetException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final KeyholdClient client;
  private final KeyInfo key;
  private final PublicKey publicKey;

  private KeyholdTarget(KeyholdClient client, KeyInfo key, PublicKey publicKey) {
    this.client = client;
    this.key = key;
    this.publicKey = publicKey;
  }

  /**
   * Connects and checks the key. The client is configured as the caller gave it (client-lib's retry
   * of UNAVAILABLE included, as an application server would run it); a retried call counts once,
   * with its total latency.
   */
  public static KeyholdTarget connect(KeyholdClientConfig config, String keyName)
      throws TargetException {
    KeyholdClient client;
    try {
      client = KeyholdClient.create(config);
    } catch (IllegalArgumentException e) {
      throw new TargetException(e.getMessage(), e);
    }
    try {
      List<KeyInfo> keys;
      try {
        keys = client.listKeys();
      } catch (KeyholdException e) {
        if (e.isUnavailable()) {
          throw new TargetException(
              "cannot reach Keyhold at "
                  + config.target()
                  + " ("
                  + e.code()
                  + "): is the service running, and do --ca/--cert/--key match its PKI? "
                  + rootMessage(e),
              e);
        }
        throw new TargetException(
            "Keyhold at " + config.target() + " refused to list keys: " + e.getMessage(), e);
      }
      KeyInfo info;
      try {
        info = client.getKey(keyName);
      } catch (KeyholdException e) {
        if (e.code() == Status.Code.NOT_FOUND) {
          throw new TargetException(
              "key '"
                  + keyName
                  + "' is unknown at "
                  + config.target()
                  + " or this client may not use it; keys it may use: "
                  + keys.stream().map(KeyInfo::getName).toList(),
              e);
        }
        throw new TargetException(
            "cannot describe key '" + keyName + "' at " + config.target() + ": " + e.getMessage(),
            e);
      }
      PublicKey pub =
          KeyFactory.getInstance(info.getKeyType() == KeyType.KEY_TYPE_RSA ? "RSA" : "EC")
              .generatePublic(new X509EncodedKeySpec(info.getSpkiDer().toByteArray()));
      return new KeyholdTarget(client, info, pub);
    } catch (TargetException e) {
      client.close();
      throw e;
    } catch (GeneralSecurityException | RuntimeException e) {
      client.close();
      throw new TargetException("cannot use Keyhold at " + config.target() + ": " + e, e);
    }
  }

  public KeyInfo key() {
    return key;
  }

  public PublicKey publicKey() {
    return publicKey;
  }

  public KeyholdClient client() {
    return client;
  }

  /**
   * The scheme to use: {@code requested} if it suits the key, else the key's first scheme when none
   * was requested.
   */
  public SignatureScheme scheme(String requested) throws TargetException {
    List<SignatureScheme> usable =
        key.getSchemesList().stream()
            .map(c -> SignatureScheme.fromCodePoint(c).orElse(null))
            .filter(s -> s != null)
            .toList();
    if (requested == null || requested.isBlank()) {
      if (usable.isEmpty()) {
        throw new TargetException("key '" + key.getName() + "' offers no signature scheme", null);
      }
      return usable.get(0);
    }
    for (SignatureScheme s : usable) {
      if (s.ianaName().equalsIgnoreCase(requested)
          || Integer.toString(s.codePoint()).equals(requested)
          || String.format("0x%04x", s.codePoint()).equalsIgnoreCase(requested)) {
        return s;
      }
    }
    throw new TargetException(
        "scheme '"
            + requested
            + "' does not suit key '"
            + key.getName()
            + "'; it offers "
            + usable.stream().map(SignatureScheme::ianaName).toList(),
        null);
  }

  /** Checks that this client may perform the operation on the key. */
  public void checkAllowed(Workload.Operation op) throws TargetException {
    if (op == Workload.Operation.GET_KEY) {
      return; // the key was described at connect: this client may read it
    }
    Operation needed =
        op == Workload.Operation.SIGN
            ? Operation.OPERATION_SIGN
            : Operation.OPERATION_DECRYPT_PREMASTER;
    if (!key.getOperationsList().contains(needed)) {
      throw new TargetException(
          "this client may not "
              + op.cliName()
              + " with key '"
              + key.getName()
              + "' (allowed: "
              + key.getOperationsList()
              + ")",
          null);
    }
    if (op == Workload.Operation.DECRYPT_PREMASTER && key.getKeyType() != KeyType.KEY_TYPE_RSA) {
      throw new TargetException(
          "decrypt-premaster needs an RSA key; '" + key.getName() + "' is " + key.getKeyType(),
          null);
    }
  }

  /**
   * One Keyhold call per start. Requests are built once and sent through client-lib's future stub,
   * so the client adds as little CPU as possible to the measurement.
   */
  public AsyncOperation operation(Workload w) throws GeneralSecurityException {
    if (w.operation() == Workload.Operation.GET_KEY) {
      dev.keyhold.proto.v1.GetKeyRequest req =
          dev.keyhold.proto.v1.GetKeyRequest.newBuilder()
              .setKey(KeyholdClient.ref(key.getName()))
              .build();
      return () -> toCompletable(client.futureStub().getKey(req));
    }
    if (w.operation() == Workload.Operation.SIGN) {
      SignRequest req =
          SignRequest.newBuilder()
              .setKey(KeyholdClient.ref(key.getName()))
              .setScheme(w.scheme().codePoint())
              .setDigest(ByteString.copyFrom(w.digest()))
              .build();
      return () -> toCompletable(client.futureStub().sign(req));
    }
    DecryptPremasterRequest req =
        DecryptPremasterRequest.newBuilder()
            .setKey(KeyholdClient.ref(key.getName()))
            .setCiphertext(ByteString.copyFrom(w.premasterCiphertext(publicKey)))
            .setClientVersion(w.clientVersion())
            .build();
    return () -> toCompletable(client.futureStub().decryptPremaster(req));
  }

  private static <T> CompletableFuture<T> toCompletable(
      com.google.common.util.concurrent.ListenableFuture<T> f) {
    CompletableFuture<T> out = new CompletableFuture<>();
    f.addListener(
        () -> {
          try {
            out.complete(com.google.common.util.concurrent.Futures.getDone(f));
          } catch (java.util.concurrent.ExecutionException e) {
            out.completeExceptionally(e.getCause());
          } catch (RuntimeException e) {
            out.completeExceptionally(e);
          }
        },
        com.google.common.util.concurrent.MoreExecutors.directExecutor());
    return out;
  }

  /** Default client settings for benchmarking: a deadline long enough for a saturated sweep. */
  public static KeyholdClientConfig.Builder defaults() {
    return KeyholdClientConfig.builder().deadline(Duration.ofSeconds(10));
  }

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
  }

  @Override
  public void close() {
    client.close();
  }
}
