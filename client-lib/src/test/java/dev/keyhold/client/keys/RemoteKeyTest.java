package dev.keyhold.client.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyType;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import org.junit.jupiter.api.Test;

class RemoteKeyTest {

  private static KeyPair ec(String curve) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec(curve));
    return g.generateKeyPair();
  }

  private static KeyInfo.Builder info(String name, KeyType type, KeyPair kp) {
    return KeyInfo.newBuilder()
        .setName(name)
        .setKeyType(type)
        .setSpkiDer(ByteString.copyFrom(kp.getPublic().getEncoded()));
  }

  @Test
  void parse_rsa_readsSizeFromThePublicKeyAndKeepsKnownSchemes() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    KeyPair kp = g.generateKeyPair();
    RemoteKey key =
        RemoteKey.parse(
            info("rsa", KeyType.KEY_TYPE_RSA, kp)
                .setKeyBits(2048)
                .addSchemes(SignatureScheme.RSA_PSS_RSAE_SHA256.codePoint())
                .addSchemes(0xfefe) // unknown code point: dropped
                .build());
    assertThat(key.name()).isEqualTo("rsa");
    assertThat(key.keyBits()).isEqualTo(2048);
    assertThat(key.curve()).isEmpty();
    assertThat(key.publicKey()).isEqualTo(kp.getPublic());
    assertThat(key.schemes()).containsExactly(SignatureScheme.RSA_PSS_RSAE_SHA256);
    assertThat(key.serviceChain()).isEmpty();
  }

  @Test
  void parse_ecWithoutCurveName_derivesItFromTheFieldSize() throws Exception {
    RemoteKey key = RemoteKey.parse(info("ec", KeyType.KEY_TYPE_EC, ec("secp384r1")).build());
    assertThat(key.keyBits()).isEqualTo(384);
    assertThat(key.curve()).isEqualTo("secp384r1");
    assertThat(key.reportedCurve()).isEmpty();
  }

  @Test
  void parse_typeThatDoesNotMatchTheKey_isRejected() throws Exception {
    KeyInfo wrong = info("ec-as-rsa", KeyType.KEY_TYPE_RSA, ec("secp256r1")).build();
    assertThatThrownBy(() -> RemoteKey.parse(wrong)).isInstanceOf(GeneralSecurityException.class);
  }

  @Test
  void parse_unsupportedType_namesTheKey() throws Exception {
    KeyInfo none = info("odd", KeyType.KEY_TYPE_UNSPECIFIED, ec("secp256r1")).build();
    assertThatThrownBy(() -> RemoteKey.parse(none))
        .isInstanceOf(GeneralSecurityException.class)
        .hasMessageContaining("odd");
  }
}
