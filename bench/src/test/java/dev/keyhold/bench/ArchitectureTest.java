package dev.keyhold.bench;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The bench uses only the service's public API: the package {@code dev.keyhold.service.api} (and
 * the service's {@code Main}, started as a child process by class name, which is no class
 * dependency). Everything else in the service module is internal.
 */
class ArchitectureTest {
  private static JavaClasses classes;
  private static JavaClasses fixtures;

  static ArchRule usesOnlyServicePublicApi(String root) {
    return noClasses()
        .that()
        .resideInAPackage(root + "..")
        .should()
        .dependOnClassesThat(
            resideInAPackage("dev.keyhold.service..")
                .and(not(resideInAPackage("dev.keyhold.service.api.."))))
        .because("the service's public API is dev.keyhold.service.api");
  }

  @BeforeAll
  static void importClasses() throws URISyntaxException {
    Path main =
        Path.of(BenchMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPath(main);
    assertThat(classes.contain(BenchMain.class)).isTrue();
    fixtures = new ClassFileImporter().importPackages("dev.keyhold.bench.archfixture");
    assertThat(fixtures).isNotEmpty();
  }

  @Test
  void bench_usesOnlyTheServicesPublicApi() {
    usesOnlyServicePublicApi("dev.keyhold.bench").check(classes);
  }

  @Test
  void rule_failsOnAClassThatReachesIntoServiceInternals() {
    assertThatThrownBy(
            () -> usesOnlyServicePublicApi("dev.keyhold.bench.archfixture").check(fixtures))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("Pkcs11Token");
  }
}
