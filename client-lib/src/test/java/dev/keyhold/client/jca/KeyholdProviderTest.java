package dev.keyhold.client.jca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.rpc.KeyholdException;
import java.io.ByteArrayOutputStream;
import java.io.NotSerializableException;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.KeyPair;
import java.security.Security;
import java.security.Signature;
import java.security.SignatureException;
import java.security.interfaces.ECKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.IllegalBlockSizeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The provider's routing and the key handles' shape, with no service: Keyhold must take only its
 * own handles, leave every other key to the JDK even when installed first, and fail a remote call
 * as a signature or block-size error, never as bad padding.
 */
class KeyholdProviderTest {
  @TempDir static Path dir;
  static KeyholdClient offline;
  static KeyPair rsaPair;
  static KeyPair ecPair;
  static KeyholdPrivateKey rsaHandle;
  static KeyholdPrivateKey ecHandle;
  static boolean installedBefore;

  @BeforeAll
  static void setUp() throws Exception {
    // Installed JVM-wide for this class only: removed again in tearDown unless it was already
    // there, so later test classes in the same JVM see the JDK's own provider order.
    installedBefore = Security.getProvider(KeyholdProvider.NAME) != null;
    KeyholdProvider.install();
    offline = OfflineClients.unreachable(dir);
    rsaPair = OfflineClients.rsa(2048);
    ecPair = OfflineClients.ec("secp256r1");
    rsaHandle = OfflineClients.handle(offline, "rsa2048", rsaPair.getPublic(), null);
    ecHandle = OfflineClients.handle(offline, "ec-p256", ecPair.getPublic(), "secp256r1");
  }

  @AfterAll
  static void tearDown() {
    if (!installedBefore) {
      Security.removeProvider(KeyholdProvider.NAME);
    }
    offline.close();
  }

  @Test
  void install_twice_insertsOnceAtHighestPriority() {
    assertThat(KeyholdProvider.install()).isSameAs(KeyholdProvider.install());
    assertThat(Security.getProviders()[0].getName()).isEqualTo(KeyholdProvider.NAME);
    assertThat(
            java.util.Arrays.stream(Security.getProviders())
                .filter(p -> p.getName().equals(KeyholdProvider.NAME)))
        .hasSize(1);
  }

  @Test
  void handles_shape_matchesWhatJsseNeeds() {
    assertThat(rsaHandle.getAlgorithm()).isEqualTo("RSA");
    assertThat(ecHandle.getAlgorithm()).isEqualTo("EC");
    assertThat(rsaHandle).isInstanceOf(RSAKey.class).isNotInstanceOf(RSAPrivateKey.class);
    assertThat(ecHandle).isInstanceOf(ECKey.class).isNotInstanceOf(ECPrivateKey.class);
    assertThat(((RSAKey) rsaHandle).getModulus().bitLength()).isEqualTo(2048);
    assertThat(rsaHandle.getEncoded()).isNull();
    assertThat(rsaHandle.getFormat()).isNull();
    assertThat(ecHandle.curve()).isEqualTo("secp256r1");
  }

  @Test
  void handle_serialization_refused() {
    assertThatThrownBy(
            () -> new ObjectOutputStream(new ByteArrayOutputStream()).writeObject(rsaHandle))
        .isInstanceOf(NotSerializableException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"SHA256withRSA", "SHA384withRSA", "SHA512withRSA"})
  void signature_jdkRsaKey_stillGoesToJdk(String alg) throws Exception {
    Signature s = Signature.getInstance(alg);
    s.initSign(rsaPair.getPrivate());
    s.update("x".getBytes(StandardCharsets.UTF_8));
    byte[] sig = s.sign();
    assertThat(s.getProvider().getName()).isNotEqualTo(KeyholdProvider.NAME);
    Signature v = Signature.getInstance(alg);
    v.initVerify(rsaPair.getPublic());
    v.update("x".getBytes(StandardCharsets.UTF_8));
    assertThat(v.verify(sig)).isTrue();
  }

  @Test
  void signature_jdkEcKey_stillGoesToJdk() throws Exception {
    Signature s = Signature.getInstance("SHA256withECDSA");
    s.initSign(ecPair.getPrivate());
    assertThat(s.getProvider().getName()).isNotEqualTo(KeyholdProvider.NAME);
  }

  @Test
  void pss_setParameterBeforeInitWithJdkKey_stillGoesToJdk() throws Exception {
    // The JOSE-library order: parameters first, then the key.
    Signature s = Signature.getInstance("RSASSA-PSS");
    s.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
    s.initSign(rsaPair.getPrivate());
    assertThat(s.getProvider().getName()).isNotEqualTo(KeyholdProvider.NAME);
    s.update(new byte[] {1});
    Signature v = Signature.getInstance("RSASSA-PSS");
    v.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
    v.initVerify(rsaPair.getPublic());
    v.update(new byte[] {1});
    assertThat(v.verify(s.sign())).isTrue();
  }

  @Test
  void cipher_jdkKey_stillGoesToJdk() throws Exception {
    Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    c.init(Cipher.ENCRYPT_MODE, rsaPair.getPublic());
    byte[] ct = c.doFinal(new byte[48]);
    Cipher d = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    d.init(Cipher.DECRYPT_MODE, rsaPair.getPrivate());
    assertThat(d.getProvider().getName()).isNotEqualTo(KeyholdProvider.NAME);
    assertThat(d.doFinal(ct)).hasSize(48);
  }

  @Test
  void signature_handle_goesToKeyhold() throws Exception {
    Signature s = Signature.getInstance("SHA256withRSA");
    s.initSign(rsaHandle);
    assertThat(s.getProvider().getName()).isEqualTo(KeyholdProvider.NAME);
    Signature e = Signature.getInstance("SHA256withECDSA");
    e.initSign(ecHandle);
    assertThat(e.getProvider().getName()).isEqualTo(KeyholdProvider.NAME);
  }

  @Test
  void signature_ecdsaHashOfOtherCurve_refusedAtInit() throws Exception {
    // TLS binds ecdsa_secp384r1_sha384 to P-384: a P-256 key cannot serve SHA-384 (JSSE skips the
    // scheme).
    Signature s = Signature.getInstance("SHA384withECDSA");
    assertThatThrownBy(() -> s.initSign(ecHandle)).isInstanceOf(InvalidKeyException.class);
  }

  @Test
  void signature_rsaHandleWithEcdsa_refusedAtInit() throws Exception {
    assertThatThrownBy(() -> Signature.getInstance("SHA256withECDSA").initSign(rsaHandle))
        .isInstanceOf(InvalidKeyException.class);
  }

  @Test
  void pss_unsupportedParameters_refused() throws Exception {
    Signature s = Signature.getInstance("RSASSA-PSS");
    s.initSign(rsaHandle);
    assertThatThrownBy(
            () ->
                s.setParameter(
                    new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA1, 32, 1)))
        .isInstanceOf(InvalidAlgorithmParameterException.class);
    assertThatThrownBy(
            () ->
                s.setParameter(
                    new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 20, 1)))
        .isInstanceOf(InvalidAlgorithmParameterException.class);
  }

  @Test
  void pss_mapsToTlsScheme() throws Exception {
    assertThat(
            KeyholdSignatureSpi.pssScheme(
                new PSSParameterSpec("SHA-384", "MGF1", MGF1ParameterSpec.SHA384, 48, 1)))
        .isEqualTo(dev.keyhold.proto.SignatureScheme.RSA_PSS_RSAE_SHA384);
    assertThat(
            KeyholdSignatureSpi.pssScheme(
                new PSSParameterSpec("SHA512", "MGF1", new MGF1ParameterSpec("SHA512"), 64, 1)))
        .isEqualTo(dev.keyhold.proto.SignatureScheme.RSA_PSS_RSAE_SHA512);
  }

  @Test
  void pss_withoutParameters_signFails() throws Exception {
    Signature s = Signature.getInstance("RSASSA-PSS");
    s.initSign(rsaHandle);
    assertThatThrownBy(() -> s.update(new byte[1])).isInstanceOf(SignatureException.class);
  }

  @Test
  void sign_serviceUnreachable_signatureExceptionWithKeyholdCause() throws Exception {
    Signature s = Signature.getInstance("SHA256withECDSA");
    s.initSign(ecHandle);
    s.update(new byte[] {1, 2, 3});
    assertThatThrownBy(s::sign)
        .isInstanceOf(SignatureException.class)
        .hasCauseInstanceOf(KeyholdException.class)
        .satisfies(e -> assertThat(((KeyholdException) e.getCause()).isUnavailable()).isTrue());
  }

  @Test
  void decrypt_serviceUnreachable_neverBadPadding() throws Exception {
    Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    c.init(Cipher.DECRYPT_MODE, rsaHandle);
    assertThat(c.getProvider().getName()).isEqualTo(KeyholdProvider.NAME);
    assertThatThrownBy(() -> c.doFinal(new byte[256]))
        .isInstanceOf(IllegalBlockSizeException.class)
        .isNotInstanceOf(BadPaddingException.class)
        .hasCauseInstanceOf(KeyholdException.class);
  }

  @Test
  void decrypt_longerThanModulusOrNotBelowIt_illegalBlockSizeWithoutCall() throws Exception {
    // As SunRsaSign: refused locally (no Keyhold call, so no KeyholdException cause).
    Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    c.init(Cipher.DECRYPT_MODE, rsaHandle);
    assertThatThrownBy(() -> c.doFinal(new byte[257]))
        .isInstanceOf(IllegalBlockSizeException.class)
        .hasNoCause();
    byte[] modulus = new byte[256];
    byte[] n = ((java.security.interfaces.RSAKey) rsaHandle).getModulus().toByteArray();
    System.arraycopy(n, n.length - 256, modulus, 0, 256);
    c.init(Cipher.DECRYPT_MODE, rsaHandle);
    assertThatThrownBy(() -> c.doFinal(modulus))
        .isInstanceOf(IllegalBlockSizeException.class)
        .hasNoCause();
  }

  @Test
  void decrypt_shorterThanModulus_isASmallerNumberSentToKeyhold() throws Exception {
    // As SunRsaSign: a short ciphertext is decrypted as the number it is; here the (unreachable)
    // service is asked, which proves it was not refused locally.
    Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    c.init(Cipher.DECRYPT_MODE, rsaHandle);
    assertThatThrownBy(() -> c.doFinal(new byte[100]))
        .isInstanceOf(IllegalBlockSizeException.class)
        .hasCauseInstanceOf(KeyholdException.class);
  }

  @Test
  void cipher_encryptModeWithHandle_refused() throws Exception {
    Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding");
    assertThatThrownBy(() -> c.init(Cipher.ENCRYPT_MODE, rsaHandle))
        .isInstanceOf(InvalidKeyException.class);
  }

  @Test
  void versionHandoff_sameKeyOnce_otherKeyNever() throws Exception {
    KeyholdRsaPrivateKey k = (KeyholdRsaPrivateKey) rsaHandle;
    TlsVersionHandoff.offer(k, 0x0302);
    assertThat(TlsVersionHandoff.take(k)).contains(0x0302);
    assertThat(TlsVersionHandoff.take(k)).isEmpty();
    KeyholdRsaPrivateKey other =
        (KeyholdRsaPrivateKey)
            OfflineClients.handle(offline, "other", OfflineClients.rsa(2048).getPublic(), null);
    TlsVersionHandoff.offer(other, 0x0303);
    assertThat(TlsVersionHandoff.take(k)).isEmpty();
  }

  @Test
  void versionHandoff_foreignSpec_refused() {
    assertThatThrownBy(
            () ->
                TlsVersionHandoff.clientVersionOf(
                    new javax.crypto.spec.IvParameterSpec(new byte[16])))
        .isInstanceOf(InvalidAlgorithmParameterException.class);
  }

  @Test
  void decryptInit_withoutHandoff_defaultsToTls12() throws Exception {
    KeyholdRsaCipherSpi spi = new KeyholdRsaCipherSpi();
    spi.engineInit(Cipher.DECRYPT_MODE, rsaHandle, (java.security.SecureRandom) null);
    assertThat(spi.clientVersion()).isEqualTo(0x0303);
  }
}
