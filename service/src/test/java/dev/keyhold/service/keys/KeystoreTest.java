package dev.keyhold.service.keys;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.config.HsmConfig.VerifyMode;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.service.testing.SoftwareKey;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Lookups by name and by pin, the sorted listing, a swap as a whole, and token states. */
class KeystoreTest {
  private static SoftwareKey b;
  private static SoftwareKey a;

  @BeforeAll
  static void keys() throws Exception {
    b = SoftwareKey.ec("b-key", "secp256r1");
    a = SoftwareKey.ec("a-key", "secp256r1");
  }

  @Test
  void staticKeystore_findsByNameAndPin_andListsSortedByName() {
    StaticKeystore ks = new StaticKeystore(List.of(b, a));

    assertThat(ks.byName("a-key")).containsSame(a);
    assertThat(ks.byName("c-key")).isEmpty();
    assertThat(ks.bySpkiSha256(b.description().spkiSha256())).containsSame(b);
    assertThat(ks.bySpkiSha256(new byte[32])).isEmpty();
    assertThat(ks.all()).containsExactly(a, b);
  }

  @Test
  void swappableKeystore_servesTheNewSetAfterASwap() {
    SwappableKeystore ks = new SwappableKeystore(new StaticKeystore(List.of(a)));
    assertThat(ks.byName("a-key")).containsSame(a);
    assertThat(ks.bySpkiSha256(a.description().spkiSha256())).containsSame(a);
    assertThat(ks.all()).containsExactly(a);

    ks.swap(new StaticKeystore(List.of(b)));

    assertThat(ks.byName("a-key")).isEmpty();
    assertThat(ks.byName("b-key")).containsSame(b);
    assertThat(ks.bySpkiSha256(b.description().spkiSha256())).containsSame(b);
    assertThat(ks.all()).containsExactly(b);
  }

  @Test
  void swappableKeystore_dropsTheP256TablesOfKeysItNoLongerServes() throws Exception {
    SoftwareKey retired = SoftwareKey.ec("retired-key", "secp256r1");
    SwappableKeystore ks = new SwappableKeystore(new StaticKeystore(List.of(a, retired)));
    Signer signer = new Signer(VerifyMode.ALL);
    byte[] digest = new byte[32];
    signer.sign(a, SignatureScheme.ECDSA_SECP256R1_SHA256, digest);
    signer.sign(retired, SignatureScheme.ECDSA_SECP256R1_SHA256, digest);
    assertThat(SoftwareVerifier.hasP256Table(a.description().publicKey())).isTrue();
    assertThat(SoftwareVerifier.hasP256Table(retired.description().publicKey())).isTrue();

    ks.swap(new StaticKeystore(List.of(a, b)));

    assertThat(SoftwareVerifier.hasP256Table(retired.description().publicKey())).isFalse();
    assertThat(SoftwareVerifier.hasP256Table(a.description().publicKey())).isTrue();
    // A key that comes back gets its table again on its next signature.
    ks.swap(new StaticKeystore(List.of(retired)));
    signer.sign(retired, SignatureScheme.ECDSA_SECP256R1_SHA256, digest);
    assertThat(SoftwareVerifier.hasP256Table(retired.description().publicKey())).isTrue();
    assertThat(SoftwareVerifier.hasP256Table(a.description().publicKey())).isFalse();
  }

  @Test
  void tokenState_servingUnlessNotServing() {
    assertThat(TokenState.SERVING.serving()).isTrue();
    assertThat(TokenState.RECOVERING.serving()).isTrue();
    assertThat(TokenState.NOT_SERVING.serving()).isFalse();
  }
}
