package dev.keyhold.client.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.KeyType;
import io.netty.handler.ssl.OpenSslAsyncPrivateKeyMethod;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.security.InvalidKeyException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class NettySignatureSchemesTest {

  @ParameterizedTest
  @EnumSource(SignatureScheme.class)
  void sslSign_everyScheme_roundTrips(SignatureScheme scheme) {
    int sslSign = NettySignatureSchemes.sslSign(scheme);
    assertThat(NettySignatureSchemes.fromSslSign(sslSign)).contains(scheme);
    assertThat(NettySignatureSchemes.isRefused(sslSign)).isFalse();
  }

  @Test
  void sslSign_allSchemes_distinctValues() {
    Set<Integer> seen = new HashSet<>();
    for (SignatureScheme s : SignatureScheme.values()) {
      assertThat(seen.add(NettySignatureSchemes.sslSign(s))).as(s.name()).isTrue();
    }
  }

  /** Every SSL_SIGN_* constant Netty declares is either served or refused on purpose. */
  @Test
  void nettyConstants_everyOne_mappedOrRefused() throws Exception {
    int fields = 0;
    for (Field f : OpenSslAsyncPrivateKeyMethod.class.getFields()) {
      if (f.getName().startsWith("SSL_SIGN_") && Modifier.isStatic(f.getModifiers())) {
        fields++;
        int v = f.getInt(null);
        boolean mapped = NettySignatureSchemes.fromSslSign(v).isPresent();
        assertThat(mapped ^ NettySignatureSchemes.isRefused(v)).as(f.getName()).isTrue();
        if (mapped) {
          // The enum name and Netty's constant name agree (ECDSA_SECP256R1_SHA256 etc.).
          assertThat(f.getName())
              .isEqualTo("SSL_SIGN_" + NettySignatureSchemes.fromSslSign(v).get().name());
        }
      }
    }
    assertThat(fields).isEqualTo(SignatureScheme.values().length + 4);
  }

  @Test
  void schemeFor_legacyAlgorithms_refusedClearly() {
    for (int legacy :
        new int[] {
          OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PKCS1_MD5_SHA1,
          OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PKCS1_SHA1,
          OpenSslAsyncPrivateKeyMethod.SSL_SIGN_ECDSA_SHA1
        }) {
      assertThatThrownBy(() -> NettySignatureSchemes.schemeFor(legacy, KeyType.KEY_TYPE_RSA, ""))
          .isInstanceOf(NoSuchAlgorithmException.class)
          .hasMessageContaining("refuses")
          .hasMessageContaining("legacy");
    }
  }

  @Test
  void schemeFor_rsaAlgorithmOnEcKey_rejected() {
    assertThatThrownBy(
            () ->
                NettySignatureSchemes.schemeFor(
                    OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PSS_RSAE_SHA256,
                    KeyType.KEY_TYPE_EC,
                    "secp256r1"))
        .isInstanceOf(InvalidKeyException.class);
  }

  @Test
  void schemeFor_tls12EcdsaOtherCurve_usesKeyCurve() throws Exception {
    assertThat(
            NettySignatureSchemes.schemeFor(
                OpenSslAsyncPrivateKeyMethod.SSL_SIGN_ECDSA_SECP256R1_SHA256,
                KeyType.KEY_TYPE_EC,
                "secp384r1"))
        .isEqualTo(SignatureScheme.ECDSA_SECP384R1_SHA384);
    assertThat(
            NettySignatureSchemes.schemeFor(
                OpenSslAsyncPrivateKeyMethod.SSL_SIGN_ECDSA_SECP521R1_SHA512,
                KeyType.KEY_TYPE_EC,
                "secp256r1"))
        .isEqualTo(SignatureScheme.ECDSA_SECP256R1_SHA256);
    assertThat(
            NettySignatureSchemes.schemeFor(
                OpenSslAsyncPrivateKeyMethod.SSL_SIGN_ECDSA_SECP384R1_SHA384,
                KeyType.KEY_TYPE_EC,
                "secp384r1"))
        .isEqualTo(SignatureScheme.ECDSA_SECP384R1_SHA384);
  }

  /**
   * The digest fitting is what makes the TLS 1.2 curve substitution sound: a signature made over
   * the fitted digest (as the HSM does, NONEwithECDSA) verifies as "hash-with-ECDSA" over the
   * original message, for every hash and curve combination.
   */
  @Test
  void ecdsaDigestFor_everyHashOnEveryCurve_verifiesAsRequestedHash() throws Exception {
    byte[] message = "TLS 1.2 ServerKeyExchange params, 100 bytes or so".getBytes();
    for (String curve : new String[] {"secp256r1", "secp384r1", "secp521r1"}) {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec(curve));
      KeyPair kp = g.generateKeyPair();
      for (SignatureScheme.Hash hash : SignatureScheme.Hash.values()) {
        SignatureScheme keyScheme =
            NettySignatureSchemes.schemeFor(
                NettySignatureSchemes.sslSign(ecdsaFor(hash)), KeyType.KEY_TYPE_EC, curve);
        byte[] fitted =
            NettySignatureSchemes.ecdsaDigestFor(
                keyScheme, MessageDigest.getInstance(hash.jcaName()).digest(message));
        assertThat(fitted).hasSize(keyScheme.hash().length());
        Signature hsmLike = Signature.getInstance("NONEwithECDSA");
        hsmLike.initSign(kp.getPrivate());
        hsmLike.update(fitted);
        byte[] sig = hsmLike.sign();
        Signature verifier = Signature.getInstance(hash.shortName() + "withECDSA");
        verifier.initVerify(kp.getPublic());
        verifier.update(message);
        assertThat(verifier.verify(sig)).as(curve + " with " + hash).isTrue();
      }
    }
  }

  @ParameterizedTest
  @EnumSource(SignatureScheme.class)
  void requestedHash_everyScheme_itsOwnHash(SignatureScheme scheme) throws Exception {
    assertThat(NettySignatureSchemes.requestedHash(NettySignatureSchemes.sslSign(scheme)))
        .isEqualTo(scheme.hash());
  }

  @Test
  void requestedHash_refusedOrUnknown_noSuchAlgorithm() {
    assertThatThrownBy(
            () ->
                NettySignatureSchemes.requestedHash(
                    OpenSslAsyncPrivateKeyMethod.SSL_SIGN_RSA_PKCS1_SHA1))
        .isInstanceOf(NoSuchAlgorithmException.class);
    assertThatThrownBy(() -> NettySignatureSchemes.requestedHash(0x0fe0))
        .isInstanceOf(NoSuchAlgorithmException.class)
        .hasMessage("unknown BoringSSL signature algorithm 0xfe0");
  }

  @Test
  void ecdsaDigestFor_exactLength_sameDigest() {
    byte[] d = new byte[32];
    assertThat(NettySignatureSchemes.ecdsaDigestFor(SignatureScheme.ECDSA_SECP256R1_SHA256, d))
        .isSameAs(d);
  }

  @Test
  void ecdsaDigestFor_shorterLeftPadded_longerCutOnTheRight() {
    byte[] shorter = new byte[32];
    java.util.Arrays.fill(shorter, (byte) 0x11);
    byte[] padded =
        NettySignatureSchemes.ecdsaDigestFor(SignatureScheme.ECDSA_SECP384R1_SHA384, shorter);
    assertThat(java.util.Arrays.copyOfRange(padded, 0, 16)).containsOnly(0);
    assertThat(java.util.Arrays.copyOfRange(padded, 16, 48)).isEqualTo(shorter);
    byte[] longer = new byte[64];
    for (int i = 0; i < longer.length; i++) {
      longer[i] = (byte) i;
    }
    assertThat(NettySignatureSchemes.ecdsaDigestFor(SignatureScheme.ECDSA_SECP256R1_SHA256, longer))
        .isEqualTo(java.util.Arrays.copyOf(longer, 32));
  }

  @Test
  void schemeFor_unknownOrEd25519_refusedByName() {
    assertThatThrownBy(() -> NettySignatureSchemes.schemeFor(0x0fe0, KeyType.KEY_TYPE_RSA, ""))
        .isInstanceOf(NoSuchAlgorithmException.class)
        .hasMessage("unknown BoringSSL signature algorithm 0xfe0");
    assertThatThrownBy(
            () ->
                NettySignatureSchemes.schemeFor(
                    OpenSslAsyncPrivateKeyMethod.SSL_SIGN_ED25519, KeyType.KEY_TYPE_EC, ""))
        .isInstanceOf(NoSuchAlgorithmException.class)
        .hasMessageContaining("ed25519");
  }

  @Test
  void schemeFor_ecdsaOnRsaKeyOrUnservedCurve_invalidKey() {
    assertThatThrownBy(
            () ->
                NettySignatureSchemes.schemeFor(
                    OpenSslAsyncPrivateKeyMethod.SSL_SIGN_ECDSA_SECP256R1_SHA256,
                    KeyType.KEY_TYPE_RSA,
                    ""))
        .isInstanceOf(InvalidKeyException.class)
        .hasMessageContaining("does not suit");
    assertThatThrownBy(
            () ->
                NettySignatureSchemes.schemeFor(
                    OpenSslAsyncPrivateKeyMethod.SSL_SIGN_ECDSA_SECP256R1_SHA256,
                    KeyType.KEY_TYPE_EC,
                    "secp256k1"))
        .isInstanceOf(InvalidKeyException.class)
        .hasMessage("Keyhold serves no ECDSA scheme for curve 'secp256k1'");
  }

  @ParameterizedTest
  @EnumSource(SignatureScheme.class)
  void schemeFor_everySchemeOnItsOwnKey_itself(SignatureScheme scheme) throws Exception {
    assertThat(
            NettySignatureSchemes.schemeFor(
                NettySignatureSchemes.sslSign(scheme), scheme.keyType(), scheme.curve()))
        .isEqualTo(scheme);
  }

  private static SignatureScheme ecdsaFor(SignatureScheme.Hash hash) {
    for (SignatureScheme s : SignatureScheme.values()) {
      if (s.padding() == SignatureScheme.Padding.ECDSA && s.hash() == hash) {
        return s;
      }
    }
    throw new AssertionError(hash);
  }
}
