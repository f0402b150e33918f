package dev.keyhold.service.pkcs11;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.testing.TestHsm;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * "Keys are sensitive and never extractable", read back through PKCS#11 rather than from the
 * configuration: OpenSC's {@code pkcs11-tool}, a separate process, logs in to the test token whose
 * keys {@link KeyProvisioner} (what the bootstrap runs) created and prints each private key's
 * CKA_SENSITIVE, CKA_ALWAYS_SENSITIVE, CKA_EXTRACTABLE and CKA_NEVER_EXTRACTABLE. The PIN travels
 * in the child's environment ({@code --pin env:VAR}), never in its arguments.
 */
class KeyAttributesIT {
  private static final Pattern OBJECT =
      Pattern.compile("(?m)^Private Key Object;.*?(?=^\\S|\\z)", Pattern.DOTALL);
  // KeyProvisioner names a key by its CKA_ID (the name's bytes); pkcs11-tool prints it in hex.
  private static final Pattern ID = Pattern.compile("(?m)^\\s*ID:\\s*([0-9a-fA-F]+)");
  private static final Pattern ACCESS = Pattern.compile("(?m)^\\s*Access:\\s*(.+)$");

  @Test
  void everyProvisionedPrivateKey_isSensitiveAndNeverExtractable_onTheToken() throws Exception {
    TestHsm hsm = TestHsm.shared();
    ProcessBuilder pb =
        new ProcessBuilder(
                "pkcs11-tool",
                "--module",
                TestHsm.LIBRARY,
                "--token-label",
                TestHsm.TOKEN_LABEL,
                "--login",
                "--pin",
                "env:KH_TEST_PIN",
                "--list-objects",
                "--type",
                "privkey")
            .redirectErrorStream(true);
    pb.environment().put("SOFTHSM2_CONF", hsm.softhsmConf().toString());
    pb.environment().put("KH_TEST_PIN", new String(hsm.hsmConfig().pin().read()));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();

    Map<String, String> access = new LinkedHashMap<>();
    Matcher m = OBJECT.matcher(out);
    while (m.find()) {
      Matcher id = ID.matcher(m.group());
      Matcher acc = ACCESS.matcher(m.group());
      assertThat(id.find() && acc.find()).as("id and access of %s", m.group()).isTrue();
      access.put(
          new String(HexFormat.of().parseHex(id.group(1)), StandardCharsets.UTF_8),
          acc.group(1).trim());
    }
    List<String> names = TestHsm.KEYS.stream().map(KeyProvisioner.KeySpec::name).toList();
    assertThat(access).as(out).containsOnlyKeys(names);
    access.forEach(
        (name, flags) -> {
          List<String> words = List.of(flags.split(",\\s*"));
          assertThat(words)
              .as("%s: %s", name, flags)
              .contains("sensitive", "always sensitive", "never extractable")
              .doesNotContain("extractable");
        });
  }
}
