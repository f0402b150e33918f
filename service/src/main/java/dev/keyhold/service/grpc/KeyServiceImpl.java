package dev.keyhold.service.grpc;

import com.google.protobuf.ByteString;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.DecryptPremasterRequest;
import dev.keyhold.proto.v1.DecryptPremasterResponse;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.GetKeyRequest;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.KeyType;
import dev.keyhold.proto.v1.ListKeysRequest;
import dev.keyhold.proto.v1.ListKeysResponse;
import dev.keyhold.proto.v1.Operation;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.proto.v1.SignResponse;
import dev.keyhold.service.auth.AuthInterceptor;
import dev.keyhold.service.auth.ClientIdentity;
import dev.keyhold.service.auth.Policy;
import dev.keyhold.service.grpc.Errors.KeyholdStatusException;
import dev.keyhold.service.keys.HsmException;
import dev.keyhold.service.keys.HsmExecutor;
import dev.keyhold.service.keys.HsmKey;
import dev.keyhold.service.keys.KeyDescription;
import dev.keyhold.service.keys.Keystore;
import dev.keyhold.service.keys.Signer;
import dev.keyhold.service.ops.AuditLog;
import dev.keyhold.service.ops.OperationMetrics;
import dev.keyhold.service.tls.PremasterDecryptors;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.security.GeneralSecurityException;
import java.security.ProviderException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The KeyService API: validates each request cheaply on the transport thread, then runs the HSM
 * step on the bounded {@link HsmExecutor}, and audits and counts every call. No PKCS#11 here: keys
 * are {@link HsmKey}s.
 */
public final class KeyServiceImpl extends KeyServiceGrpc.KeyServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(KeyServiceImpl.class);

  private final Keystore keystore;
  private final Policy policy;
  private final HsmExecutor executor;
  private final PremasterDecryptors decryptors;
  private final AuditLog audit;
  private final OperationMetrics metrics;
  private final Signer signer;

  /** {@code signer} carries the fault-check configuration ({@code hsm.verifySignatures}). */
  public KeyServiceImpl(
      Keystore keystore,
      Policy policy,
      HsmExecutor executor,
      PremasterDecryptors decryptors,
      Signer signer,
      AuditLog audit,
      OperationMetrics metrics) {
    this.keystore = keystore;
    this.policy = policy;
    this.executor = executor;
    this.decryptors = decryptors;
    this.signer = signer;
    this.audit = audit;
    this.metrics = metrics;
  }

  /** A blocking HSM step. */
  @FunctionalInterface
  private interface HsmCall<T> {
    T run() throws GeneralSecurityException, KeyholdStatusException;
  }

  @Override
  public void sign(SignRequest req, StreamObserver<SignResponse> obs) {
    long start = System.nanoTime();
    String keyName = auditName(req.getKey());
    String schemeName = req.getScheme() == 0 ? null : schemeName(req.getScheme());
    try {
      HsmKey key = resolve(req.getKey(), Operation.OPERATION_SIGN, "sign");
      keyName = key.description().name();
      if (req.getScheme() == 0) {
        throw Errors.invalid(
            ErrorReason.MISSING_FIELD, "scheme is required (a TLS SignatureScheme code point)");
      }
      SignatureScheme scheme =
          SignatureScheme.fromCodePoint(req.getScheme())
              .orElseThrow(
                  () ->
                      Errors.invalid(
                          ErrorReason.UNKNOWN_SCHEME,
                          "scheme 0x"
                              + hex4(req.getScheme())
                              + " is not supported (legacy SHA-1/MD5 schemes are refused)"));
      KeyDescription d = key.description();
      if (!scheme.fits(d.type(), d.bits(), d.curve())) {
        throw Errors.invalid(
            ErrorReason.SCHEME_KEY_MISMATCH,
            "scheme " + scheme.ianaName() + " does not suit key '" + d.name() + "' (" + d + ")");
      }
      if (req.getDigest().isEmpty()) {
        throw Errors.invalid(ErrorReason.MISSING_FIELD, "digest is required");
      }
      if (req.getDigest().size() != scheme.hash().length()) {
        throw Errors.invalid(
            ErrorReason.DIGEST_LENGTH,
            "digest is "
                + req.getDigest().size()
                + " bytes; "
                + scheme.ianaName()
                + " needs a "
                + scheme.hash().length()
                + "-byte "
                + scheme.hash().jcaName()
                + " digest");
      }
      byte[] digest = req.getDigest().toByteArray();
      execute(
          "sign",
          keyName,
          schemeName,
          start,
          obs,
          () ->
              SignResponse.newBuilder()
                  .setSignature(ByteString.copyFrom(signer.sign(key, scheme, digest)))
                  .build());
    } catch (KeyholdStatusException e) {
      fail("sign", keyName, schemeName, start, obs, e);
    }
  }

  @Override
  public void decryptPremaster(
      DecryptPremasterRequest req, StreamObserver<DecryptPremasterResponse> obs) {
    long start = System.nanoTime();
    String keyName = auditName(req.getKey());
    try {
      HsmKey key =
          resolve(req.getKey(), Operation.OPERATION_DECRYPT_PREMASTER, "decrypt_premaster");
      keyName = key.description().name();
      KeyDescription d = key.description();
      if (d.type() != KeyType.KEY_TYPE_RSA) {
        throw Errors.invalid(
            ErrorReason.SCHEME_KEY_MISMATCH,
            "key '" + d.name() + "' is not an RSA key; RSA key exchange needs one");
      }
      if (req.getCiphertext().isEmpty()) {
        throw Errors.invalid(ErrorReason.MISSING_FIELD, "ciphertext is required");
      }
      if (req.getCiphertext().size() != d.modulusBytes()) {
        throw Errors.invalid(
            ErrorReason.CIPHERTEXT_LENGTH,
            "ciphertext is "
                + req.getCiphertext().size()
                + " bytes; key '"
                + d.name()
                + "' needs exactly "
                + d.modulusBytes());
      }
      int version = req.getClientVersion();
      if (version < 0x0300 || version > 0x0303) {
        throw Errors.invalid(
            ErrorReason.CLIENT_VERSION,
            "client_version 0x" + hex4(version) + " is not 0x0300..0x0303 (SSL 3.0 .. TLS 1.2)");
      }
      byte[] ct = req.getCiphertext().toByteArray();
      execute(
          "decrypt_premaster",
          keyName,
          null,
          start,
          obs,
          () ->
              DecryptPremasterResponse.newBuilder()
                  .setPremaster(ByteString.copyFrom(decryptors.forKey(key).decrypt(ct, version)))
                  .build());
    } catch (KeyholdStatusException e) {
      fail("decrypt_premaster", keyName, null, start, obs, e);
    }
  }

  @Override
  public void getKey(GetKeyRequest req, StreamObserver<KeyInfo> obs) {
    long start = System.nanoTime();
    try {
      HsmKey key = resolve(req.getKey(), null, "any operation");
      KeyInfo info = info(key, policy.allowed(identity(), key.description().name()));
      done("get_key", key.description().name(), null, "ok", start);
      obs.onNext(info);
      obs.onCompleted();
    } catch (KeyholdStatusException e) {
      fail("get_key", auditName(req.getKey()), null, start, obs, e);
    }
  }

  @Override
  public void listKeys(ListKeysRequest req, StreamObserver<ListKeysResponse> obs) {
    long start = System.nanoTime();
    ClientIdentity who = identity();
    ListKeysResponse.Builder b = ListKeysResponse.newBuilder();
    for (HsmKey k : keystore.all()) {
      Set<Operation> ops = policy.allowed(who, k.description().name());
      if (!ops.isEmpty()) {
        b.addKeys(info(k, ops));
      }
    }
    obs.onNext(b.build());
    obs.onCompleted();
    done("list_keys", "*", null, "ok", start);
  }

  private <T> void execute(
      String op,
      String keyName,
      String scheme,
      long start,
      StreamObserver<T> obs,
      HsmCall<T> call) {
    Context ctx = Context.current();
    // The task runs in the call's Context, so the audit line carries the caller and request id.
    boolean accepted =
        executor.trySubmit(
            ctx.wrap(
                () -> {
                  try {
                    Deadline deadline = ctx.getDeadline();
                    if (deadline != null && deadline.isExpired()) {
                      throw Errors.of(
                          Status.Code.DEADLINE_EXCEEDED,
                          ErrorReason.DEADLINE,
                          "the deadline passed before the HSM was free; the operation did not run");
                    }
                    if (ctx.isCancelled()) {
                      throw Errors.of(
                          Status.Code.CANCELLED,
                          ErrorReason.DEADLINE,
                          "the call was cancelled before the HSM was free");
                    }
                    T result = ctx.call(call::run);
                    // Counted and audited before the caller can see the answer, so that what a
                    // caller
                    // observed is always already in the metrics and the audit queue.
                    done(op, keyName, scheme, "ok", start);
                    obs.onNext(result);
                    obs.onCompleted();
                  } catch (KeyholdStatusException e) {
                    fail(op, keyName, scheme, start, obs, e);
                  } catch (Signer.SignatureFaultException e) {
                    log.error("HSM fault: {}", e.getMessage());
                    fail(
                        op,
                        keyName,
                        scheme,
                        start,
                        obs,
                        Errors.of(
                            Status.Code.INTERNAL, ErrorReason.SIGNATURE_FAULT, e.getMessage()));
                  } catch (GeneralSecurityException | ProviderException e) {
                    String why = HsmException.rootMessage(e);
                    log.warn("HSM operation {} on key '{}' failed: {}", op, keyName, why);
                    fail(
                        op,
                        keyName,
                        scheme,
                        start,
                        obs,
                        Errors.of(
                            Status.Code.UNAVAILABLE,
                            ErrorReason.HSM_FAILURE,
                            "HSM operation failed: " + why));
                  } catch (Exception e) {
                    log.error("unexpected failure in {} on key '{}'", op, keyName, e);
                    fail(
                        op,
                        keyName,
                        scheme,
                        start,
                        obs,
                        Errors.of(
                            Status.Code.INTERNAL,
                            ErrorReason.HSM_FAILURE,
                            "internal error: " + e.getClass().getSimpleName()));
                  }
                }));
    if (!accepted) {
      fail(
          op,
          keyName,
          scheme,
          start,
          obs,
          Errors.of(
              Status.Code.RESOURCE_EXHAUSTED,
              ErrorReason.OVERLOADED,
              "the HSM executor is full ("
                  + executor.threads()
                  + " sessions busy and the queue is full); retry later or on another replica"));
    }
  }

  private HsmKey resolve(KeyRef ref, Operation op, String opName) throws KeyholdStatusException {
    Optional<HsmKey> key =
        switch (ref.getRefCase()) {
          case NAME -> ref.getName().isEmpty() ? Optional.empty() : keystore.byName(ref.getName());
          case SPKI_SHA256 -> keystore.bySpkiSha256(ref.getSpkiSha256().toByteArray());
          case REF_NOT_SET ->
              throw Errors.invalid(
                  ErrorReason.MISSING_FIELD, "key is required (a name or an SPKI SHA-256)");
        };
    if (ref.getRefCase() == KeyRef.RefCase.NAME && ref.getName().isEmpty()) {
      throw Errors.invalid(ErrorReason.MISSING_FIELD, "key name is empty");
    }
    if (ref.getRefCase() == KeyRef.RefCase.SPKI_SHA256 && ref.getSpkiSha256().isEmpty()) {
      throw Errors.invalid(ErrorReason.MISSING_FIELD, "key spki_sha256 is empty");
    }
    ClientIdentity who = identity();
    if (key.isEmpty()) {
      throw Errors.notFound(describe(ref), opName);
    }
    String name = key.get().description().name();
    boolean allowed =
        op == null ? !policy.allowed(who, name).isEmpty() : policy.allows(who, name, op);
    if (!allowed) {
      // Same answer as an unknown key: callers cannot enumerate keys they may not use.
      throw Errors.notFound(describe(ref), opName);
    }
    return key.get();
  }

  private static ClientIdentity identity() {
    return AuthInterceptor.IDENTITY.get();
  }

  private KeyInfo info(HsmKey key, Set<Operation> ops) {
    KeyDescription d = key.description();
    KeyInfo.Builder b =
        KeyInfo.newBuilder()
            .setName(d.name())
            .setSpkiSha256(ByteString.copyFrom(d.spkiSha256()))
            .setSpkiDer(ByteString.copyFrom(d.publicKey().getEncoded()))
            .setKeyType(d.type())
            .setKeyBits(d.bits())
            .setCurve(d.curve() == null ? "" : d.curve());
    for (X509Certificate c : d.chain()) {
      try {
        b.addCertificateChain(ByteString.copyFrom(c.getEncoded()));
      } catch (CertificateEncodingException e) {
        throw new IllegalStateException(e);
      }
    }
    d.schemes().forEach(s -> b.addSchemes(s.codePoint()));
    ops.forEach(b::addOperations);
    return b.build();
  }

  private <T> void fail(
      String op,
      String keyName,
      String scheme,
      long start,
      StreamObserver<T> obs,
      KeyholdStatusException e) {
    done(op, keyName, scheme, e.code().name().toLowerCase(Locale.ROOT), start);
    try {
      obs.onError(e.toStatus());
    } catch (RuntimeException alreadyClosed) {
      log.debug("call already closed: {}", alreadyClosed.getMessage());
    }
  }

  private void done(String op, String keyName, String scheme, String outcome, long start) {
    long nanos = System.nanoTime() - start;
    metrics.record(op, outcome, nanos);
    ClientIdentity who = identity();
    audit.record(
        new AuditLog.Event(
            Instant.now(),
            who == null ? "-" : who.name(),
            AuthInterceptor.REQUEST_ID.get(),
            keyName,
            op,
            scheme,
            outcome,
            TimeUnit.NANOSECONDS.toMicros(nanos)));
  }

  private static String describe(KeyRef ref) {
    return switch (ref.getRefCase()) {
      case NAME -> "'" + ref.getName() + "'";
      case SPKI_SHA256 ->
          "spki-sha256:" + HexFormat.of().formatHex(ref.getSpkiSha256().toByteArray());
      case REF_NOT_SET -> "(none)";
    };
  }

  /** The key reference as the audit log records it: the bare name, or spki-sha256:HEX. */
  private static String auditName(KeyRef ref) {
    return ref.getRefCase() == KeyRef.RefCase.NAME ? ref.getName() : describe(ref);
  }

  private static String schemeName(int code) {
    return SignatureScheme.fromCodePoint(code)
        .map(SignatureScheme::ianaName)
        .orElseGet(() -> "0x" + hex4(code));
  }

  private static String hex4(int v) {
    return String.format("%04x", v);
  }
}
