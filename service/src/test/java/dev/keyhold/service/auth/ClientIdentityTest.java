package dev.keyhold.service.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.setup.LocalPki;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ClientIdentityTest {
  private static LocalPki ca;

  @BeforeAll
  static void ca() throws Exception {
    ca = LocalPki.create("Identity test CA");
  }

  private static PublicKey newKey() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(256);
    return g.generateKeyPair().getPublic();
  }

  private static String pin(X509Certificate cert) throws Exception {
    return "spki-sha256:"
        + HexFormat.of()
            .formatHex(
                MessageDigest.getInstance("SHA-256").digest(cert.getPublicKey().getEncoded()));
  }

  @Test
  void of_dnsSanAndCn_namesBothAndPrefersTheSan() throws Exception {
    X509Certificate cert = ca.issueFor("cn-name", newKey(), List.of("san-name.example"), true);

    ClientIdentity id = ClientIdentity.of(cert);

    assertThat(id.name()).isEqualTo("san-name.example");
    assertThat(id.names()).containsExactly("san-name.example", "cn-name");
    assertThat(id.matches("san-name.example")).isTrue();
    assertThat(id.matches("cn-name")).isTrue();
    assertThat(id.matches("someone-else")).isFalse();
  }

  @Test
  void of_cnOnly_namesTheCn() throws Exception {
    X509Certificate cert = ca.issueFor("only-cn", newKey(), List.of(), true);

    ClientIdentity id = ClientIdentity.of(cert);

    assertThat(id.name()).isEqualTo("only-cn");
    assertThat(id.names()).containsExactly("only-cn");
  }

  @Test
  void of_anyCertificate_carriesTheSpkiPin() throws Exception {
    X509Certificate cert = ca.issueFor("pinned", newKey(), List.of(), true);
    ClientIdentity id = ClientIdentity.of(cert);

    assertThat(id.spkiPin()).isEqualTo(pin(cert));
    assertThat(id.matches(pin(cert))).isTrue();
    assertThat(id.matches(pin(cert).toUpperCase().replace("SPKI-SHA256", "spki-sha256")))
        .as("hex case does not matter")
        .isTrue();
  }

  @Test
  void matches_otherKeysPin_isFalse() throws Exception {
    ClientIdentity id = ClientIdentity.of(ca.issueFor("a", newKey(), List.of(), true));
    X509Certificate other = ca.issueFor("a", newKey(), List.of(), true);

    assertThat(id.matches(pin(other))).isFalse();
  }

  @Test
  void matches_wildcard_isTrue() throws Exception {
    assertThat(ClientIdentity.of(ca.issueClient("x").certificate()).matches("*")).isTrue();
  }

  @Test
  void matches_prefixOfAName_isFalse() throws Exception {
    ClientIdentity id = ClientIdentity.of(ca.issueClient("test-client").certificate());

    assertThat(id.matches("test")).isFalse();
    assertThat(id.matches("test-client-2")).isFalse();
    assertThat(id.matches("test-client")).isTrue();
  }
}
