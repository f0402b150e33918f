package dev.keyhold.client.jca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.SignatureScheme.Hash;
import dev.keyhold.proto.SignatureScheme.Padding;
import java.nio.file.Path;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.SignatureException;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The signature SPI's binding rules, called directly (no provider selection, no service): which
 * handles each padding takes, which schemes a key may use, and when PSS parameters are accepted.
 * Signing itself needs the service and is covered by the SoftHSM-backed {@code KeyholdProviderIT}.
 */
class KeyholdSignatureSpiTest {
  private static final PSSParameterSpec PSS_256 =
      new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1);
  private static final PSSParameterSpec PSS_512 =
      new PSSParameterSpec("SHA-512", "MGF1", MGF1ParameterSpec.SHA512, 64, 1);

  @TempDir static Path dir;
  static KeyholdClient offline;
  static KeyholdPrivateKey rsa2048;
  static KeyholdPrivateKey rsa1024;
  static KeyholdPrivateKey ecP256;

  @BeforeAll
  static void setUp() throws Exception {
    offline = OfflineClients.unreachable(dir);
    rsa2048 = OfflineClients.handle(offline, "rsa2048", OfflineClients.rsa(2048).getPublic(), null);
    // 1024 bits cannot hold a PSS-SHA-512 encoding (2·64+2 bytes), so it lacks that scheme.
    rsa1024 = OfflineClients.handle(offline, "rsa1024", OfflineClients.rsa(1024).getPublic(), null);
    ecP256 =
        OfflineClients.handle(
            offline, "ec-p256", OfflineClients.ec("secp256r1").getPublic(), "secp256r1");
  }

  @AfterAll
  static void tearDown() {
    offline.close();
  }

  @Test
  void initSign_ecdsaWithRsaHandleOrNull_refusedNamingTheKind() {
    KeyholdSignatureSpi ecdsa = new KeyholdSignatureSpi(Padding.ECDSA, Hash.SHA256);
    assertThatThrownBy(() -> ecdsa.engineInitSign(rsa2048))
        .isInstanceOf(InvalidKeyException.class)
        .hasMessage(
            "Keyhold signs only with Keyhold EC key handles, not "
                + KeyholdRsaPrivateKey.class.getName());
    assertThatThrownBy(() -> ecdsa.engineInitSign(null))
        .isInstanceOf(InvalidKeyException.class)
        .hasMessage("Keyhold signs only with Keyhold EC key handles, not null");
  }

  @Test
  void initSign_rsaWithEcHandle_refusedNamingTheKind() {
    for (Padding p : new Padding[] {Padding.PKCS1, Padding.PSS}) {
      KeyholdSignatureSpi spi = new KeyholdSignatureSpi(p, p == Padding.PSS ? null : Hash.SHA256);
      assertThatThrownBy(() -> spi.engineInitSign(ecP256))
          .as(p.name())
          .isInstanceOf(InvalidKeyException.class)
          .hasMessageStartingWith("Keyhold signs only with Keyhold RSA key handles, not ");
    }
  }

  @Test
  void initSign_ecdsaHashOfAnotherCurve_refusedNamingKeyAndCurve() {
    KeyholdSignatureSpi spi = new KeyholdSignatureSpi(Padding.ECDSA, Hash.SHA384);
    assertThatThrownBy(() -> spi.engineInitSign(ecP256))
        .isInstanceOf(InvalidKeyException.class)
        .hasMessageStartingWith("key ec-p256 (EC 256 secp256r1) cannot sign with ");
  }

  @Test
  void initSign_pkcs1EveryHash_acceptedForRsa() throws Exception {
    for (Hash h : Hash.values()) {
      KeyholdSignatureSpi spi = new KeyholdSignatureSpi(Padding.PKCS1, h);
      spi.engineInitSign(rsa2048, null);
      spi.engineUpdate((byte) 1);
      spi.engineUpdate(new byte[] {2, 3}, 0, 2);
      assertThat(spi.engineGetParameters()).isNull(); // PKCS#1 has none
    }
  }

  @Test
  void pss_setParameterWithoutKey_refusedSoProviderSelectionMovesOn() {
    KeyholdSignatureSpi spi = new KeyholdSignatureSpi(Padding.PSS, null);
    assertThatThrownBy(() -> spi.engineSetParameter(PSS_256))
        .isInstanceOf(InvalidAlgorithmParameterException.class)
        .hasMessage(
            "Keyhold: PSS parameters are accepted only with a Keyhold key (initSign first)");
  }

  @Test
  void pss_parametersOnPkcs1_refused() {
    KeyholdSignatureSpi spi = new KeyholdSignatureSpi(Padding.PKCS1, Hash.SHA256);
    assertThatThrownBy(() -> spi.engineSetParameter(PSS_256))
        .isInstanceOf(InvalidAlgorithmParameterException.class)
        .hasMessage("PKCS1 signatures take no parameters");
  }

  @Test
  void pss_notAPssSpec_refused() throws Exception {
    KeyholdSignatureSpi spi = new KeyholdSignatureSpi(Padding.PSS, null);
    spi.engineInitSign(rsa2048);
    assertThatThrownBy(() -> spi.engineSetParameter(MGF1ParameterSpec.SHA256))
        .isInstanceOf(InvalidAlgorithmParameterException.class)
        .hasMessage("RSASSA-PSS needs a PSSParameterSpec");
  }

  @Test
  void pss_schemeTheKeyCannotSign_refusedAtSetParameter() throws Exception {
    KeyholdSignatureSpi spi = new KeyholdSignatureSpi(Padding.PSS, null);
    spi.engineInitSign(rsa1024);
    assertThatThrownBy(() -> spi.engineSetParameter(PSS_512))
        .isInstanceOf(InvalidAlgorithmParameterException.class)
        .hasMessage("key rsa1024 cannot sign with rsa_pss_rsae_sha512");
    spi.engineSetParameter(PSS_256);
    assertThat(spi.engineGetParameters().getParameterSpec(PSSParameterSpec.class).getSaltLength())
        .isEqualTo(32);
  }

  @Test
  void pss_reInitWithKeyLackingTheScheme_refused() throws Exception {
    KeyholdSignatureSpi spi = new KeyholdSignatureSpi(Padding.PSS, null);
    spi.engineInitSign(rsa2048);
    spi.engineSetParameter(PSS_512);
    assertThatThrownBy(() -> spi.engineInitSign(rsa1024))
        .isInstanceOf(InvalidKeyException.class)
        .hasMessage("key rsa1024 cannot sign with rsa_pss_rsae_sha512");
    spi.engineInitSign(rsa2048); // the parameters set earlier are kept
    assertThat(
            spi.engineGetParameters().getParameterSpec(PSSParameterSpec.class).getDigestAlgorithm())
        .isEqualTo("SHA-512");
  }

  @Test
  void pss_dataBeforeParameters_refused() throws Exception {
    KeyholdSignatureSpi spi = new KeyholdSignatureSpi(Padding.PSS, null);
    spi.engineInitSign(rsa2048);
    assertThat(spi.engineGetParameters()).isNull();
    assertThatThrownBy(() -> spi.engineUpdate((byte) 0))
        .isInstanceOf(SignatureException.class)
        .hasMessage("RSASSA-PSS needs PSS parameters (setParameter) before data");
  }

  @Test
  void update_beforeInit_refused() {
    KeyholdSignatureSpi spi = new KeyholdSignatureSpi(Padding.PKCS1, Hash.SHA256);
    assertThatThrownBy(() -> spi.engineUpdate(new byte[1], 0, 1))
        .isInstanceOf(SignatureException.class)
        .hasMessage("not initialized for signing");
  }

  @Test
  void verify_refused() {
    KeyholdSignatureSpi spi = new KeyholdSignatureSpi(Padding.PKCS1, Hash.SHA256);
    assertThatThrownBy(() -> spi.engineInitVerify(null)).isInstanceOf(InvalidKeyException.class);
    assertThatThrownBy(() -> spi.engineVerify(new byte[0])).isInstanceOf(SignatureException.class);
  }

  @Test
  void pssScheme_everyPssScheme_fromItsOwnParameters() throws Exception {
    for (SignatureScheme s : SignatureScheme.values()) {
      if (s.padding() == Padding.PSS) {
        assertThat(KeyholdSignatureSpi.pssScheme(s.pssParameters())).isEqualTo(s);
      }
    }
  }
}
