package dev.keyhold.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.config.HsmConfig.DecryptMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The vendor profiles of hsm-config/profiles/: every file loads, and its defaults merge. */
class VendorProfileTest {
  private static final Path PROFILES = Path.of("profiles"); // Maven runs tests in the module

  @TempDir Path dir;

  private static HsmConfig hsm(
      String profile, Path library, int sessions, DecryptMode mode, List<String> codes) {
    return new HsmConfig(
        library, "t", null, PinSource.ofEnv("X"), sessions, 0, mode, profile, null, null, 0, codes);
  }

  @Test
  void everyDataFile_isAKnownProfile_andEveryKnownProfileHasACompleteFile() throws Exception {
    List<String> files;
    try (Stream<Path> s = Files.list(PROFILES)) {
      files =
          s.map(p -> p.getFileName().toString())
              .filter(n -> n.endsWith(".yaml"))
              .map(n -> n.substring(0, n.length() - ".yaml".length()))
              .sorted()
              .toList();
    }
    assertThat(files).containsExactlyInAnyOrderElementsOf(VendorProfile.KNOWN);
    for (String name : VendorProfile.KNOWN) {
      VendorProfile fromFile =
          VendorProfile.parse(Files.readAllBytes(PROFILES.resolve(name + ".yaml")), name);
      assertThat(VendorProfile.named(name)).as("classpath copy of %s", name).isEqualTo(fromFile);
      assertThat(fromFile.title()).as(name).isNotBlank();
      assertThat(fromFile.install()).as(name).isNotBlank();
      assertThat(fromFile.slotSelection()).as(name).isNotBlank();
      assertThat(fromFile.login()).as(name).isNotBlank();
      assertThat(fromFile.setupHints()).as(name).isNotEmpty();
      assertThat(fromFile.sources()).as(name).isNotEmpty();
      if (!name.equals("generic")) {
        assertThat(fromFile.libraries()).as(name).isNotEmpty().allMatch(l -> l.startsWith("/"));
      }
    }
    // The README documents every profile.
    String readme = Files.readString(PROFILES.resolve("README.md"));
    assertThat(VendorProfile.KNOWN).allMatch(n -> readme.contains("`" + n + "`"));
  }

  static Stream<Arguments> merges() {
    List<String> std = HsmConfig.STANDARD_BAD_PADDING_CODES;
    List<String> soft =
        List.of("CKR_ENCRYPTED_DATA_INVALID", "CKR_ENCRYPTED_DATA_LEN_RANGE", "CKR_GENERAL_ERROR");
    int cores = Math.max(2, Runtime.getRuntime().availableProcessors());
    return Stream.of(
        // profile, user sessions, user decryptMode, user codes -> sessions, decryptMode, codes
        Arguments.of("softhsm2", 0, null, null, cores, DecryptMode.RAW, soft),
        Arguments.of(null, 0, null, null, cores, DecryptMode.RAW, soft),
        Arguments.of("generic", 0, null, null, cores, DecryptMode.RAW, std),
        Arguments.of("tpm2-pkcs11", 0, null, null, 2, DecryptMode.RAW, std),
        Arguments.of("opencryptoki-soft", 0, null, null, 1, DecryptMode.RAW, std),
        Arguments.of("opencryptoki-soft", 4, null, null, 4, DecryptMode.RAW, std),
        Arguments.of("luna", 0, null, null, cores, DecryptMode.PKCS1, std),
        Arguments.of("nshield", 0, null, null, cores, DecryptMode.PKCS1, std),
        Arguments.of("cloudhsm", 0, null, null, cores, DecryptMode.PKCS1, std),
        Arguments.of("cloudhsm", 8, DecryptMode.RAW, null, 8, DecryptMode.RAW, std),
        Arguments.of("yubihsm2", 0, null, null, 2, DecryptMode.PKCS1, std),
        Arguments.of(
            "softhsm2",
            3,
            DecryptMode.PKCS1,
            List.of("CKR_ENCRYPTED_DATA_INVALID"),
            3,
            DecryptMode.PKCS1,
            List.of("CKR_ENCRYPTED_DATA_INVALID")));
  }

  @ParameterizedTest(name = "{0} sessions={1} mode={2} codes={3}")
  @MethodSource("merges")
  void profileDefaults_fillOnlyWhatTheUserLeftUnset(
      String profile,
      int sessions,
      DecryptMode mode,
      List<String> codes,
      int expectSessions,
      DecryptMode expectMode,
      List<String> expectCodes) {
    HsmConfig c = hsm(profile, Path.of("/lib/p11.so"), sessions, mode, codes);

    assertThat(c.sessions()).isEqualTo(expectSessions);
    assertThat(c.decryptMode()).isEqualTo(expectMode);
    assertThat(c.badPaddingCodes()).containsExactlyElementsOf(expectCodes);
    assertThat(c.library()).isEqualTo(Path.of("/lib/p11.so"));
  }

  @Test
  void library_unset_isTheProfilesPath_andGenericHasNone() {
    assertThat(hsm("cloudhsm", null, 0, null, null).library())
        .isEqualTo(Path.of("/opt/cloudhsm/lib/libcloudhsm_pkcs11.so"));
    assertThat(hsm("luna", null, 0, null, null).library())
        .isEqualTo(Path.of("/usr/safenet/lunaclient/lib/libCryptoki2_64.so"));
    assertThatThrownBy(() -> hsm("generic", null, 0, null, null))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "hsm.library is required (path to the PKCS#11 module; profile generic has no default)");
  }

  @Test
  void unknownProfile_failsWithTheKnownOnes() {
    assertThatThrownBy(() -> hsm("thales", Path.of("/lib/p11.so"), 0, null, null))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "hsm.profile 'thales' is unknown (known: softhsm2, tpm2-pkcs11, opencryptoki-soft,"
                + " luna, nshield, cloudhsm, yubihsm2, generic)");
  }

  @Test
  void warnings_requiredModuleVariableUnset_andTooManySessions() {
    HsmConfig yubi = hsm("yubihsm2", Path.of("/lib/p11.so"), 0, null, null);
    assertThat(yubi.vendorProfile().warnings(yubi, Map.of()))
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .startsWith("profile yubihsm2: environment variable YUBIHSM_PKCS11_CONF is not set");
    assertThat(yubi.vendorProfile().warnings(yubi, Map.of("YUBIHSM_PKCS11_CONF", "/etc/y.conf")))
        .isEmpty();

    HsmConfig ock = hsm("opencryptoki-soft", Path.of("/lib/p11.so"), 4, null, null);
    assertThat(ock.vendorProfile().warnings(ock, Map.of()))
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .contains("hsm.sessions 4 exceeds what openCryptoki soft token is known to survive (1");
    HsmConfig ockDefault = hsm("opencryptoki-soft", Path.of("/lib/p11.so"), 0, null, null);
    assertThat(ockDefault.vendorProfile().warnings(ockDefault, Map.of())).isEmpty();
  }

  @Test
  void missingLibrary_namesTheLibraryAndThatProfilesInstall() {
    Path missing = dir.resolve("nope.so");
    for (String name : VendorProfile.KNOWN) {
      HsmConfig c = hsm(name, missing, 0, null, null);
      assertThatThrownBy(c::checkLibraryExists)
          .as(name)
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("PKCS#11 library " + missing + " does not exist")
          .hasMessageContaining("profile " + name + ": install " + c.vendorProfile().install());
    }
  }

  @Test
  void configFile_profileDefaultsApply_andTheEnvironmentStillWins() throws Exception {
    String yaml =
        """
        tls: { certChain: a.pem, privateKey: a.key, clientCa: ca.pem }
        hsm:
          library: /lib/p11.so
          tokenLabel: t
          pin: { env: PIN }
          profile: cloudhsm
        """;
    Path f = dir.resolve("keyhold.yaml");
    Files.writeString(f, yaml);

    assertThat(new ConfigLoader(Map.of()).load(f).hsm().decryptMode()).isEqualTo(DecryptMode.PKCS1);
    assertThat(
            new ConfigLoader(Map.of("KEYHOLD_HSM_DECRYPTMODE", "raw")).load(f).hsm().decryptMode())
        .isEqualTo(DecryptMode.RAW);
    assertThat(new ConfigLoader(Map.of("KEYHOLD_HSM_PROFILE", "yubihsm2")).load(f).hsm().sessions())
        .isEqualTo(2);
  }
}
