package dev.keyhold.service.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.DecryptPremasterRequest;
import dev.keyhold.proto.v1.GetKeyRequest;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.ListKeysRequest;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.keys.KeyDescription;
import dev.keyhold.service.keys.Signer;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.ManagedChannel;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.X509EncodedKeySpec;
import javax.crypto.Cipher;
import org.junit.jupiter.api.Test;

class SmokeIT {
  @Test
  void everyKeyEveryScheme_signsAndDecrypts() throws Exception {
    try (TestKeyholdService svc = TestKeyholdService.start()) {
      ManagedChannel ch = svc.channel("test-client");
      try {
        var stub = KeyServiceGrpc.newBlockingStub(ch);
        var keys = stub.listKeys(ListKeysRequest.getDefaultInstance()).getKeysList();
        assertThat(keys).extracting(KeyInfo::getName).contains("rsa2048", "rsa3072", "ec-p256", "ec-p384", "ec-p521");
        for (KeyInfo k : keys) {
          PublicKey pub = KeyFactory.getInstance(k.getKeyType().name().endsWith("RSA") ? "RSA" : "EC").generatePublic(new X509EncodedKeySpec(k.getSpkiDer().toByteArray()));
          for (int code : k.getSchemesList()) {
            SignatureScheme s = SignatureScheme.fromCodePoint(code).orElseThrow();
            byte[] msg = ("hello " + k.getName()).getBytes();
            byte[] digest = MessageDigest.getInstance(s.hash().jcaName()).digest(msg);
            byte[] sig = stub.sign(SignRequest.newBuilder().setKey(KeyRef.newBuilder().setName(k.getName())).setScheme(code).setDigest(ByteString.copyFrom(digest)).build()).getSignature().toByteArray();
            java.security.Signature v = java.security.Signature.getInstance(s.jcaSignatureName());
            if (s.pssParameters() != null) {
              v.setParameter(s.pssParameters());
            }
            v.initVerify(pub);
            v.update(msg);
            assertThat(v.verify(sig)).as(k.getName() + " " + s.ianaName()).isTrue();
          }
        }
        KeyInfo rsa = stub.getKey(GetKeyRequest.newBuilder().setKey(KeyRef.newBuilder().setName("rsa2048")).build());
        PublicKey pub = KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(rsa.getSpkiDer().toByteArray()));
        byte[] pm = new byte[48];
        new SecureRandom().nextBytes(pm);
        pm[0] = 3;
        pm[1] = 3;
        Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding");
        c.init(Cipher.ENCRYPT_MODE, pub);
        byte[] ct = c.doFinal(pm);
        byte[] out = stub.decryptPremaster(DecryptPremasterRequest.newBuilder().setKey(KeyRef.newBuilder().setName("rsa2048")).setCiphertext(ByteString.copyFrom(ct)).setClientVersion(0x0303).build()).getPremaster().toByteArray();
        assertThat(out).isEqualTo(pm);
        assertThat(svc.metrics().count("decrypt_premaster", "ok")).isEqualTo(1);
      } finally {
        ch.shutdownNow();
      }
    }
  }
}
