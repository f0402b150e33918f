package dev.keyhold.service.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import dev.keyhold.config.HsmConfig.DecryptMode;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.DecryptPremasterRequest;
import dev.keyhold.proto.v1.GetKeyRequest;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.ManagedChannel;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Many mixed operations at once, more than the HSM has sessions: every signature verifies, every
 * premaster round-trips, every rejection is a 48-byte substitute. Catches PKCS#11 sessions left in
 * a bad state by one operation and hurting another.
 */
class ConcurrencyIT {
  private static final SecureRandom RANDOM = new SecureRandom();

  /** One call in flight, with what its answer must satisfy. */
  private interface Pending {
    void check() throws Exception;
  }

  @ParameterizedTest
  @EnumSource(DecryptMode.class)
  void mixedOperations_manyInFlight_allCorrect(DecryptMode mode) throws Exception {
    try (TestKeyholdService svc =
        TestKeyholdService.builder().sessions(4).decryptMode(mode).start()) {
      ManagedChannel ch = svc.channel("test-client");
      try {
        var blocking = KeyServiceGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
        var async = KeyServiceGrpc.newFutureStub(ch).withDeadlineAfter(120, TimeUnit.SECONDS);
        List<String> keys = List.of("rsa2048", "ec-p256", "ec-p384", "rsa3072");
        List<PublicKey> pubs = new ArrayList<>();
        List<KeyInfo> infos = new ArrayList<>();
        for (String k : keys) {
          KeyInfo info =
              blocking.getKey(
                  GetKeyRequest.newBuilder().setKey(KeyRef.newBuilder().setName(k)).build());
          infos.add(info);
          pubs.add(
              KeyFactory.getInstance(k.startsWith("rsa") ? "RSA" : "EC")
                  .generatePublic(new X509EncodedKeySpec(info.getSpkiDer().toByteArray())));
        }
        List<Pending> pending = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
          int which = i % keys.size();
          String key = keys.get(which);
          PublicKey pub = pubs.get(which);
          if (key.startsWith("rsa") && i % 3 == 0) {
            byte[] pm = new byte[48];
            RANDOM.nextBytes(pm);
            pm[0] = 3;
            pm[1] = 3;
            boolean valid = i % 2 == 0;
            Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding");
            c.init(Cipher.ENCRYPT_MODE, pub);
            byte[] ct = c.doFinal(valid ? pm : Arrays.copyOf(pm, 47));
            ListenableFuture<byte[]> f =
                com.google.common.util.concurrent.Futures.transform(
                    async.decryptPremaster(
                        DecryptPremasterRequest.newBuilder()
                            .setKey(KeyRef.newBuilder().setName(key))
                            .setCiphertext(ByteString.copyFrom(ct))
                            .setClientVersion(0x0303)
                            .build()),
                    r -> r.getPremaster().toByteArray(),
                    Runnable::run);
            pending.add(
                () -> {
                  byte[] out = f.get(120, TimeUnit.SECONDS);
                  if (valid) {
                    assertThat(out).isEqualTo(pm);
                  } else {
                    assertThat(out).hasSize(48).isNotEqualTo(pm);
                  }
                });
          } else {
            List<Integer> schemes = infos.get(which).getSchemesList();
            SignatureScheme s =
                SignatureScheme.fromCodePoint(schemes.get(i % schemes.size())).orElseThrow();
            byte[] msg = ("message " + i).getBytes(StandardCharsets.UTF_8);
            byte[] digest = MessageDigest.getInstance(s.hash().jcaName()).digest(msg);
            var f =
                async.sign(
                    SignRequest.newBuilder()
                        .setKey(KeyRef.newBuilder().setName(key))
                        .setScheme(s.codePoint())
                        .setDigest(ByteString.copyFrom(digest))
                        .build());
            pending.add(
                () ->
                    assertThat(
                            KeyServiceIT.jdkVerify(
                                s,
                                pub,
                                msg,
                                f.get(120, TimeUnit.SECONDS).getSignature().toByteArray()))
                        .as("%s %s", key, s)
                        .isTrue());
          }
        }
        for (Pending p : pending) {
          p.check();
        }
        assertThat(
                svc.metrics().count("sign", "unavailable")
                    + svc.metrics().count("decrypt_premaster", "unavailable"))
            .isZero();
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
