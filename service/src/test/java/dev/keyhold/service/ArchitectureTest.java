package dev.keyhold.service;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Pins the package boundaries of DESIGN.md §2: PKCS#11 stays in ..pkcs11, gRPC stays out of the key
 * layer.
 */
class ArchitectureTest {
  private static JavaClasses classes;

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
    noClasses()
        .that()
        .resideOutsideOfPackage("dev.keyhold.service.pkcs11..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("sun.security.pkcs11..")
        .check(classes);
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
