package dev.keyhold.client.jca;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.testing.TestClients;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.service.testing.TestKeyholdService;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.Signature;
import java.time.Duration;
import java.util.Arrays;
import javax.crypto.Cipher;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The provider against the real service and SoftHSM token: every scheme a key supports yields a
 * signature the JDK verifies with the public key, and the Cipher recovers a pre-master secret
 * encrypted by the JDK, or a 48-byte substitute for garbage, without an exception.
 */
class KeyholdProviderIT {
  static TestKeyholdService svc;
  static KeyholdClient client;

  @BeforeAll
  static void start() {
    KeyholdProvider.install();
    svc = TestKeyholdService.start();
    client = TestClients.connect(svc, Duration.ofSeconds(5));
  }

  @AfterAll
  static void stop() {
    client.close();
    svc.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"rsa2048", "rsa3072", "rsa1024", "ec-p256", "ec-p384", "ec-p521"})
  void sign_everySupportedScheme_verifiesWithJdk(String keyName) throws Exception {
    KeyholdPrivateKey key = KeyholdPrivateKey.fetch(client, keyName);
    byte[] data = ("transcript of " + keyName).getBytes(StandardCharsets.UTF_8);
    int checked = 0;
    for (SignatureScheme s : SignatureScheme.values()) {
      if (!key.supports(s)) {
        continue;
      }
      Signature signer = Signature.getInstance(s.jcaSignatureName());
      if (s.pssParameters() != null) {
        signer.initSign(key);
        signer.setParameter(s.pssParameters());
      } else {
        signer.initSign(key);
      }
      signer.update(data);
      byte[] sig = signer.sign();
      assertThat(signer.getProvider().getName()).isEqualTo(KeyholdProvider.NAME);

      Signature verifier = Signature.getInstance(s.jcaSignatureName());
      if (s.pssParameters() != null) {
        verifier.setParameter(s.pssParameters());
      }
      verifier.initVerify(key.publicKey());
      verifier.update(data);
      assertThat(verifier.verify(sig)).as(keyName + " " + s).isTrue();
      checked++;
    }
    assertThat(checked).isPositive();
  }

  /**
   * What is signed is exactly the data since the last init: byte-wise updates count, and a repeated
   * initSign, or new PSS parameters, drops what came before (PKCS#1, PSS and ECDSA).
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "rsa2048:SHA256withRSA:reInit",
        "ec-p256:SHA256withECDSA:reInit",
        "rsa2048:RSASSA-PSS:reInit",
        "rsa2048:RSASSA-PSS:newParameters"
      })
  void sign_byteWiseAfterReInitOrNewParameters_signsOnlyTheNewData(String keyAlgAndCase)
      throws Exception {
    String[] kac = keyAlgAndCase.split(":");
    KeyholdPrivateKey key = KeyholdPrivateKey.fetch(client, kac[0]);
    boolean pss = kac[1].equals("RSASSA-PSS");
    java.security.spec.PSSParameterSpec params =
        SignatureScheme.RSA_PSS_RSAE_SHA256.pssParameters();
    byte[] data = "only this is signed".getBytes(StandardCharsets.UTF_8);
    Signature signer = Signature.getInstance(kac[1]);
    signer.initSign(key);
    if (pss) {
      signer.setParameter(params);
    }
    signer.update("dropped".getBytes(StandardCharsets.UTF_8));
    if (kac[2].equals("reInit")) {
      signer.initSign(key); // PSS keeps its parameters
    } else {
      signer.setParameter(params);
    }
    for (byte b : data) {
      signer.update(b);
    }
    byte[] sig = signer.sign();

    Signature verifier = Signature.getInstance(kac[1]);
    if (pss) {
      verifier.setParameter(params);
    }
    verifier.initVerify(key.publicKey());
    verifier.update(data);
    assertThat(verifier.verify(sig)).as(keyAlgAndCase).isTrue();
  }

  @Test
  void decrypt_jdkEncryptedPremaster_recovered() throws Exception {
    KeyholdPrivateKey key = KeyholdPrivateKey.fetch(client, "rsa2048");
    byte[] premaster = new byte[48];
    new SecureRandom().nextBytes(premaster);
    premaster[0] = 3;
    premaster[1] = 3;
    Cipher enc = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    enc.init(Cipher.ENCRYPT_MODE, key.publicKey());
    byte[] ct = enc.doFinal(premaster);

    Cipher dec = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    dec.init(Cipher.DECRYPT_MODE, key);
    assertThat(dec.doFinal(ct)).isEqualTo(premaster);
  }

  @Test
  void unwrap_jdkWrappedPremaster_recoveredAsSecretKey() throws Exception {
    KeyholdPrivateKey key = KeyholdPrivateKey.fetch(client, "rsa3072");
    byte[] premaster = new byte[48];
    new SecureRandom().nextBytes(premaster);
    premaster[0] = 3;
    premaster[1] = 3;
    Cipher enc = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    enc.init(Cipher.ENCRYPT_MODE, key.publicKey());
    byte[] ct = enc.doFinal(premaster);
    Cipher unwrap = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    unwrap.init(Cipher.UNWRAP_MODE, key);
    java.security.Key k = unwrap.unwrap(ct, "TlsRsaPremasterSecret", Cipher.SECRET_KEY);
    assertThat(k.getAlgorithm()).isEqualTo("TlsRsaPremasterSecret");
    assertThat(k.getEncoded()).isEqualTo(premaster);
  }

  @Test
  void decrypt_garbage_substituteWithoutException() throws Exception {
    KeyholdPrivateKey key = KeyholdPrivateKey.fetch(client, "rsa2048");
    byte[] garbage = new byte[256];
    new SecureRandom().nextBytes(garbage);
    garbage[0] = 0; // keep it below the modulus
    Cipher dec = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    dec.init(Cipher.DECRYPT_MODE, key);
    byte[] out = dec.doFinal(garbage);
    assertThat(out).hasSize(48);
  }

  @Test
  void decrypt_wrongVersion_substitute() throws Exception {
    KeyholdPrivateKey key = KeyholdPrivateKey.fetch(client, "rsa2048");
    byte[] premaster = new byte[48];
    new SecureRandom().nextBytes(premaster);
    premaster[0] = 3;
    premaster[1] = 1; // TLS 1.0 inside, while the default client version is TLS 1.2
    Cipher enc = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    enc.init(Cipher.ENCRYPT_MODE, key.publicKey());
    Cipher dec = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    dec.init(Cipher.DECRYPT_MODE, key);
    byte[] out = dec.doFinal(enc.doFinal(premaster));
    assertThat(out).hasSize(48);
    assertThat(Arrays.equals(out, premaster)).isFalse();
  }
}
