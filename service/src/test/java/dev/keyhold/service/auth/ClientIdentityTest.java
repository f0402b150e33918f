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
  void of_dnsSanAndCn_isTheSanAndNeverTheCn() throws Exception {
    X509Certificate cert = ca.issueFor("cn-name", newKey(), List.of("san-name.example"), true);

    ClientIdentity id = ClientIdentity.of(cert);

    assertThat(id.primary().toString()).isEqualTo("dns:san-name.example");
    assertThat(id.matches("san-name.example")).isTrue();
    assertThat(id.matches("dns:SAN-name.example")).as("DNS is case-insensitive").isTrue();
    assertThat(id.matches("cn-name")).as("the CN is ignored when SANs are present").isFalse();
    assertThat(id.matches("cn:cn-name")).isFalse();
    assertThat(id.matches("someone-else")).isFalse();
  }

  @Test
  void of_cnOnly_isTheCn() throws Exception {
    X509Certificate cert = ca.issueFor("only-cn", newKey(), List.of(), true);

    ClientIdentity id = ClientIdentity.of(cert);

    assertThat(id.primary().toString()).isEqualTo("cn:only-cn");
    assertThat(id.match("only-cn").map(Object::toString)).contains("cn:only-cn");
    assertThat(id.matches("cn:only-cn")).isTrue();
    assertThat(id.matches("cn:ONLY-CN")).as("CNs compare exactly").isFalse();
    assertThat(id.matches("dns:only-cn")).isFalse();
  }

  @Test
  void match_uriSan_onlyExactlyAndOnlyWithItsForm() throws Exception {
    ClientIdentity id =
        ClientIdentity.of(ca.issueClient("w", List.of(), List.of("spiffe://t/ns/a")).certificate());

    assertThat(id.primary().toString()).isEqualTo("uri:spiffe://t/ns/a");
    assertThat(id.matches("uri:spiffe://t/ns/a")).isTrue();
    assertThat(id.matches("uri:SPIFFE://t/ns/a")).isFalse();
    assertThat(id.matches("w")).as("a certificate with a SAN is never its CN").isFalse();
  }

  @Test
  void asciiEqualsIgnoreCase_foldsOnlyAscii() {
    assertThat(ClientIdentity.asciiEqualsIgnoreCase("Demo-App", "dEMO-aPP")).isTrue();
    // U+212A KELVIN SIGN folds to 'k' under String.equalsIgnoreCase, but is not a DNS letter.
    assertThat(ClientIdentity.asciiEqualsIgnoreCase("\u212Aey", "key")).isFalse();
    // Both ends of A..Z fold; the characters just outside them ('@', '[') do not.
    assertThat(ClientIdentity.asciiEqualsIgnoreCase("AZ", "az")).isTrue();
    assertThat(ClientIdentity.asciiEqualsIgnoreCase("@[", "`{")).isFalse();
  }

  @Test
  void primary_sanWithoutDnsOrUri_isTheSpkiPinNeverTheCn() {
    ClientIdentity ipOnly = new ClientIdentity(List.of(), List.of(), "web", true, "00aa");

    assertThat(ipOnly.primary().toString()).isEqualTo("spki-sha256:00aa");
    assertThat(ipOnly.match("*").map(Object::toString)).contains("spki-sha256:00aa");
  }

  @Test
  void of_anyCertificate_carriesTheSpkiPin() throws Exception {
    X509Certificate cert = ca.issueFor("pinned", newKey(), List.of(), true);
    ClientIdentity id = ClientIdentity.of(cert);

    assertThat("spki-sha256:" + id.spkiPin()).isEqualTo(pin(cert));
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
