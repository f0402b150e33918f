package dev.keyhold.service;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import dev.keyhold.service.keys.RawRsaKey;
import dev.keyhold.service.keys.Signer;
import dev.keyhold.service.tls.PremasterDecryptor;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Pins the package boundaries of DESIGN.md §2: PKCS#11 stays in ..pkcs11, gRPC stays out of the key
 * layer, no package cycles, the raw RSA oracle stays with its two users, and the demo CA stays out
 * of the serving path. Each rule is a function of the root package, so {@link #rules_fail} can run
 * the same rule over deliberately violating classes ({@code ..archfixture}).
 */
class ArchitectureTest {
  private static final String ROOT = "dev.keyhold.service";
  private static final String FIXTURES = "dev.keyhold.service.archfixture";
  private static JavaClasses classes;
  private static JavaClasses fixtures;

  static ArchRule packagesAreFreeOfCycles(String root) {
    return slices().matching(root + ".(*)..").should().beFreeOfCycles();
  }

  static ArchRule pkcs11ImportsNoGrpc(String root) {
    return noClasses()
        .that()
        .resideInAPackage(root + ".pkcs11..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("io.grpc..");
  }

  static ArchRule sunPkcs11OnlyInPkcs11(String root) {
    return noClasses()
        .that()
        .resideInAPackage(root + "..")
        .and()
        .resideOutsideOfPackage(root + ".pkcs11..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("sun.security.pkcs11..");
  }

  /** Raw RSA is a signing oracle: only the PSS encoder and the pre-master decryptor name it. */
  static ArchRule rawRsaOnlyForItsTwoUsers(String root) {
    return noClasses()
        .that()
        .resideInAPackage(root + "..")
        .and()
        .resideOutsideOfPackage(root + ".pkcs11..")
        .and()
        .doNotBelongToAnyOf(RawRsaKey.class, Signer.class, PremasterDecryptor.class)
        .should()
        .dependOnClassesThat()
        .belongToAnyOf(RawRsaKey.class);
  }

  static ArchRule servingPathDoesNotUseSetup(String root) {
    return noClasses()
        .that()
        .resideInAnyPackage(
            root + ".grpc..",
            root + ".auth..",
            root + ".keys..",
            root + ".pkcs11..",
            root + ".tls..",
            root + ".ops..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage(root + ".setup..");
  }

  @BeforeAll
  static void importClasses() {
    // Only the module's own classes folder: scanning the whole class path for the package is slow.
    try {
      Path mainClasses =
          Path.of(KeyholdServer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      classes =
          new ClassFileImporter()
              .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
              .importPath(mainClasses);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    assertThat(classes.contain(KeyholdServer.class)).isTrue();
    fixtures = new ClassFileImporter().importPackages(FIXTURES);
    assertThat(fixtures).isNotEmpty();
  }

  @Test
  void rules_fail() {
    // Every rule below, run over classes that break it on purpose, must reject them.
    for (ArchRule rule :
        new ArchRule[] {
          packagesAreFreeOfCycles(FIXTURES),
          pkcs11ImportsNoGrpc(FIXTURES),
          sunPkcs11OnlyInPkcs11(FIXTURES),
          rawRsaOnlyForItsTwoUsers(FIXTURES),
          servingPathDoesNotUseSetup(FIXTURES)
        }) {
      assertThatThrownBy(() -> rule.check(fixtures))
          .as(rule.getDescription())
          .isInstanceOf(AssertionError.class);
    }
  }

  @Test
  void packages_areFreeOfCycles() {
    packagesAreFreeOfCycles(ROOT).check(classes);
  }

  @Test
  void pkcs11Package_importsNoGrpc() {
    pkcs11ImportsNoGrpc(ROOT).check(classes);
  }

  @Test
  void rawRsa_isReachableOnlyByThePssEncoderAndThePremasterDecryptor() {
    rawRsaOnlyForItsTwoUsers(ROOT).check(classes);
  }

  @Test
  void servingPackages_doNotUseTheSetUpTools() {
    servingPathDoesNotUseSetup(ROOT).check(classes);
  }

  @Test
  void rules_seeTheDependenciesTheyGuard() {
    // Guards the guards: the pkcs11 package really does use SunPKCS11, and the rules see it.
    assertThatThrownBy(
            () ->
                noClasses()
                    .that()
                    .resideInAPackage("dev.keyhold.service.pkcs11..")
                    .should()
                    .dependOnClassesThat()
                    .resideInAnyPackage("sun.security.pkcs11..")
                    .check(classes))
        .isInstanceOf(AssertionError.class);
    assertThatThrownBy(
            () ->
                noClasses()
                    .that()
                    .resideInAPackage("dev.keyhold.service.pkcs11..")
                    .should()
                    .callMethod(java.security.Security.class, "getProvider", String.class)
                    .check(classes))
        .isInstanceOf(AssertionError.class);
  }

  @Test
  void sunPkcs11_isUsedOnlyInThePkcs11Package() {
    sunPkcs11OnlyInPkcs11(ROOT).check(classes);
  }

  @Test
  void sunPkcs11Provider_isLookedUpOnlyInThePkcs11Package() {
    noClasses()
        .that()
        .resideOutsideOfPackage("dev.keyhold.service.pkcs11..")
        .should()
        .callMethod(java.security.Security.class, "getProvider", String.class)
        .check(classes);
  }

  @Test
  void grpcPackage_doesNotDependOnPkcs11() {
    noClasses()
        .that()
        .resideInAPackage("dev.keyhold.service.grpc..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.keyhold.service.pkcs11..")
        .check(classes);
  }

  @Test
  void keysAndTlsPackages_doNotDependOnGrpcOrPkcs11() {
    noClasses()
        .that()
        .resideInAnyPackage("dev.keyhold.service.keys..", "dev.keyhold.service.tls..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "io.grpc..", "dev.keyhold.service.grpc..", "dev.keyhold.service.pkcs11..")
        .check(classes);
  }
}
