package dev.keyhold.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The RFC 7512 section 3.3 examples, and what Keyhold refuses. */
class Pkcs11UriTest {

  static Stream<Arguments> rfcExamples() {
    return Stream.of(
        Arguments.of("pkcs11:", Map.of(), Map.of()),
        Arguments.of(
            "pkcs11:object=my-pubkey;type=public",
            Map.of("object", "my-pubkey", "type", "public"),
            Map.of()),
        Arguments.of(
            "pkcs11:object=my-key;type=private?pin-source=file:/etc/token",
            Map.of("object", "my-key", "type", "private"),
            Map.of("pin-source", "file:/etc/token")),
        Arguments.of(
            "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;"
                + "model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial="
                + "?pin-source=file:/etc/token_pin",
            Map.of(
                "token", "The Software PKCS#11 Softtoken",
                "manufacturer", "Snake Oil, Inc.",
                "model", "1.0",
                "object", "my-certificate",
                "type", "cert",
                "id", "%69%95%3E%5C%F4%BD%EC%91",
                "serial", ""),
            Map.of("pin-source", "file:/etc/token_pin")),
        Arguments.of(
            "pkcs11:object=my-sign-key;type=private?module-name=mypkcs11",
            Map.of("object", "my-sign-key", "type", "private"),
            Map.of("module-name", "mypkcs11")),
        Arguments.of(
            "pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1",
            Map.of("object", "my-sign-key", "type", "private"),
            Map.of("module-path", "/mnt/libmypkcs11.so.1")),
        Arguments.of(
            "pkcs11:token=Software%20PKCS%2311%20softtoken;manufacturer=Snake%20Oil,%20Inc."
                + "?pin-value=the-pin",
            Map.of("token", "Software PKCS#11 softtoken", "manufacturer", "Snake Oil, Inc."),
            Map.of("pin-value", "the-pin")),
        Arguments.of(
            "pkcs11:slot-description=Sun%20Metaslot",
            Map.of("slot-description", "Sun Metaslot"), Map.of()),
        Arguments.of(
            "pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;"
                + "library-description=Soft%20Token%20Library;library-version=1.23",
            Map.of(
                "library-manufacturer", "Snake Oil, Inc.",
                "library-description", "Soft Token Library",
                "library-version", "1.23"),
            Map.of()),
        Arguments.of(
            "pkcs11:token=My%20token%25%20created%20by%20Joe;library-version=3;"
                + "id=%01%02%03%Ba%dd%Ef%08",
            Map.of(
                "token", "My token% created by Joe",
                "library-version", "3",
                "id", "%01%02%03%Ba%dd%Ef%08"),
            Map.of()),
        Arguments.of(
            "pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;object=my-certificate;type=cert",
            Map.of(
                "token", "A name with a substring %;", "object", "my-certificate", "type", "cert"),
            Map.of()),
        Arguments.of(
            "pkcs11:token=Name%20with%20a%20small%20A%20with%20acute:%20%C3%A1;"
                + "object=my-certificate;type=cert",
            Map.of(
                "token",
                "Name with a small A with acute: \u00e1",
                "object",
                "my-certificate",
                "type",
                "cert"),
            Map.of()),
        Arguments.of(
            "pkcs11:token=my-token;object=my-certificate;type=cert;vendor-aaa=value-a"
                + "?pin-source=file:/etc/token_pin&vendor-bbb=value-b",
            Map.of(
                "token",
                "my-token",
                "object",
                "my-certificate",
                "type",
                "cert",
                "vendor-aaa",
                "value-a"),
            Map.of("pin-source", "file:/etc/token_pin", "vendor-bbb", "value-b")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rfcExamples")
  void parse_rfc7512Examples(String uri, Map<String, String> path, Map<String, String> query) {
    Pkcs11Uri u = Pkcs11Uri.parse(uri);
    assertThat(u.path()).containsExactlyInAnyOrderEntriesOf(path);
    assertThat(u.query()).containsExactlyInAnyOrderEntriesOf(query);
  }

  @Test
  void id_isBytes_tokenObjectSlotAndPinSourceForKeyhold() {
    Pkcs11Uri u =
        Pkcs11Uri.parse(
            "pkcs11:token=keyhold;slot-id=7;object=web;type=private;id=%01%02%Ff"
                + "?pin-source=file:/run/secrets/pin");
    assertThat(u.id()).containsExactly(0x01, 0x02, 0xff);
    assertThat(u.token()).isEqualTo("keyhold");
    assertThat(u.slotId()).isEqualTo(7L);
    assertThat(u.object()).isEqualTo("web");
    assertThat(u.pinSource()).isEqualTo(PinSource.ofFile(Path.of("/run/secrets/pin")));
    assertThat(Pkcs11Uri.parse("pkcs11:token=t?pin-source=/etc/pin").pinSource())
        .isEqualTo(PinSource.ofFile(Path.of("/etc/pin")));
    assertThat(Pkcs11Uri.parse("pkcs11:token=t").pinSource()).isNull();
  }

  static Stream<Arguments> broken() {
    return Stream.of(
        Arguments.of("pkcs12:token=t", "starts with 'pkcs11:'"),
        Arguments.of("pkcs11:token", "path attribute 'token' has no value"),
        Arguments.of("pkcs11:tokn=t", "unknown path attribute 'tokn'"),
        Arguments.of("pkcs11:token=a;token=b", "'token' appears twice"),
        Arguments.of("pkcs11:type=key", "type 'key' is not one of"),
        Arguments.of("pkcs11:slot-id=0x1", "slot-id '0x1' is not a decimal number"),
        Arguments.of("pkcs11:token=a%2", "truncated %XX"),
        Arguments.of("pkcs11:token=a%zz", "bad %XX escape"),
        Arguments.of("pkcs11:?pin=1", "unknown query attribute 'pin'"),
        Arguments.of("pkcs11:?pin-source=file:/a&pin-value=secret-pin", "mutually exclusive"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("broken")
  void parse_malformed_saysWhat_neverQuotesAPin(String uri, String message) {
    assertThatThrownBy(() -> Pkcs11Uri.parse(uri))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(message)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("secret-pin"));
  }

  @Test
  void pinValue_isRefused_andToStringNeverShowsTheQuery() {
    Pkcs11Uri u = Pkcs11Uri.parse("pkcs11:token=t?pin-value=secret-pin");
    assertThatThrownBy(u::pinSource)
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("pin-value is not accepted")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("secret-pin"));
    assertThat(u.toString()).doesNotContain("secret-pin");
    assertThatThrownBy(() -> Pkcs11Uri.parse("pkcs11:?pin-source=env:PIN").pinSource())
        .hasMessageContaining("pin-source must be file:PATH");
  }
}
