package dev.keyhold.service.grpc;

import com.google.protobuf.ByteString;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.DecryptPremasterRequest;
import dev.keyhold.proto.v1.DecryptPremasterResponse;
import dev.keyhold.proto.v1.GetKeyRequest;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.ListKeysRequest;
import dev.keyhold.proto.v1.ListKeysResponse;
import dev.keyhold.proto.v1.Operation;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.proto.v1.SignResponse;
import dev.keyhold.service.auth.Policy;
import dev.keyhold.service.grpc.Errors.KeyholdStatusException;
import dev.keyhold.service.keys.HsmExecutor;
import dev.keyhold.service.keys.HsmKey;
import dev.keyhold.service.keys.KeyDescription;
import dev.keyhold.service.keys.Keystore;
import dev.keyhold.service.keys.Signer;
import dev.keyhold.service.ops.ApiOperation;
import dev.keyhold.service.ops.AuditLog;
import dev.keyhold.service.ops.OperationMetrics;
import dev.keyhold.service.tls.PremasterDecryptors;
import io.grpc.stub.StreamObserver;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The KeyService API: maps protos. Each job is a collaborator's: {@link KeyResolver} finds and
 * authorizes the key, {@link RequestValidator} checks the request on the transport thread, {@link
 * HsmDispatcher} runs the HSM step on the bounded {@link HsmExecutor} within the deadline, {@link
 * HsmErrorMapper} turns failures into statuses and {@link CallRecorder} audits and counts every
 * call. No PKCS#11 here: keys are {@link HsmKey}s.
 */
public final class KeyServiceImpl extends KeyServiceGrpc.KeyServiceImplBase {
  private final KeyResolver keys;
  private final HsmDispatcher hsm;
  private final CallRecorder recorder;
  private final PremasterDecryptors decryptors;
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
    this(keystore, () -> policy, executor, decryptors, signer, audit, metrics);
  }

  /** As above, with a policy that may change (reloads): each call reads the current one. */
  public KeyServiceImpl(
      Keystore keystore,
      Supplier<Policy> policy,
      HsmExecutor executor,
      PremasterDecryptors decryptors,
      Signer signer,
      AuditLog audit,
      OperationMetrics metrics) {
    this.keys = new KeyResolver(keystore, policy);
    this.recorder = new CallRecorder(audit, metrics);
    this.hsm = new HsmDispatcher(executor, recorder);
    this.decryptors = decryptors;
    this.signer = signer;
  }

  @Override
  public void sign(SignRequest req, StreamObserver<SignResponse> obs) {
    long start = System.nanoTime();
    String keyName = KeyResolver.auditName(req.getKey());
    String schemeName = req.getScheme() == 0 ? null : RequestValidator.schemeName(req.getScheme());
    try {
      HsmKey key = keys.resolve(req.getKey(), ApiOperation.SIGN);
      keyName = key.description().name();
      SignatureScheme scheme = RequestValidator.sign(req, key.description());
      byte[] digest = req.getDigest().toByteArray();
      hsm.execute(
          ApiOperation.SIGN,
          keyName,
          schemeName,
          start,
          obs,
          () ->
              SignResponse.newBuilder()
                  .setSignature(ByteString.copyFrom(signer.sign(key, scheme, digest)))
                  .build());
    } catch (KeyholdStatusException e) {
      recorder.fail(ApiOperation.SIGN, keyName, schemeName, start, obs, e);
    }
  }

  @Override
  public void decryptPremaster(
      DecryptPremasterRequest req, StreamObserver<DecryptPremasterResponse> obs) {
    long start = System.nanoTime();
    String keyName = KeyResolver.auditName(req.getKey());
    try {
      HsmKey key = keys.resolve(req.getKey(), ApiOperation.DECRYPT_PREMASTER);
      keyName = key.description().name();
      RequestValidator.decryptPremaster(req, key.description());
      byte[] ct = req.getCiphertext().toByteArray();
      int version = req.getClientVersion();
      hsm.execute(
          ApiOperation.DECRYPT_PREMASTER,
          keyName,
          null,
          start,
          obs,
          () ->
              DecryptPremasterResponse.newBuilder()
                  .setPremaster(ByteString.copyFrom(decryptors.forKey(key).decrypt(ct, version)))
                  .build());
    } catch (KeyholdStatusException e) {
      recorder.fail(ApiOperation.DECRYPT_PREMASTER, keyName, null, start, obs, e);
    }
  }

  @Override
  public void getKey(GetKeyRequest req, StreamObserver<KeyInfo> obs) {
    long start = System.nanoTime();
    try {
      HsmKey key = keys.resolve(req.getKey(), ApiOperation.GET_KEY);
      KeyInfo info = info(key, keys.allowed(key));
      recorder.succeed(ApiOperation.GET_KEY, key.description().name(), null, start, obs, info);
    } catch (KeyholdStatusException e) {
      recorder.fail(ApiOperation.GET_KEY, KeyResolver.auditName(req.getKey()), null, start, obs, e);
    }
  }

  @Override
  public void listKeys(ListKeysRequest req, StreamObserver<ListKeysResponse> obs) {
    long start = System.nanoTime();
    ListKeysResponse.Builder b = ListKeysResponse.newBuilder();
    for (HsmKey k : keys.all()) {
      Set<Operation> ops = keys.allowed(k);
      if (!ops.isEmpty()) {
        b.addKeys(info(k, ops));
      }
    }
    obs.onNext(b.build());
    obs.onCompleted();
    recorder.done(ApiOperation.LIST_KEYS, "*", null, "ok", start);
  }

  private static KeyInfo info(HsmKey key, Set<Operation> ops) {
    KeyDescription d = key.description();
    KeyInfo.Builder b =
        KeyInfo.newBuilder()
            .setName(d.name())
            .setSpkiSha256(ByteString.copyFrom(d.spkiSha256()))
            .setSpkiDer(ByteString.copyFrom(d.publicKey().getEncoded()))
            .setKeyType(d.type())
            .setKeyBits(d.bits())
            .setCurve(d.curve() == null ? "" : d.curve())
            .setVersion(d.version());
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
}
