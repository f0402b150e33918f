package dev.keyhold.client;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import dev.keyhold.client.archfixturea.CycleStart;
import dev.keyhold.client.archfixtureb.CycleEnd;
import dev.keyhold.client.jca.KeyholdProvider;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Pins client-lib's package boundaries: no package cycles, no dependency on the service's code, and
 * Netty (an optional dependency) only in {@code ..client.netty}, so JSSE users never load it.
 */
class ArchitectureTest {
  static final ArchRule NO_PACKAGE_CYCLES =
      slices().matching("dev.keyhold.client.(*)..").should().beFreeOfCycles();

  static final ArchRule NO_SERVICE_CODE =
      noClasses()
          .that()
          .resideInAPackage("dev.keyhold.client..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("dev.keyhold.service..");

  static final ArchRule NETTY_ONLY_IN_NETTY_PACKAGE =
      noClasses()
          .that()
          .resideInAPackage("dev.keyhold.client..")
          .and()
          .resideOutsideOfPackage("dev.keyhold.client.netty..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("io.netty..");

  static final List<ArchRule> RULES =
      List.of(NO_PACKAGE_CYCLES, NO_SERVICE_CODE, NETTY_ONLY_IN_NETTY_PACKAGE);

  private static JavaClasses mainClasses;
  private static JavaClasses violations;

  @BeforeAll
  static void importClasses() throws URISyntaxException {
    // Only the module's own classes folder: scanning the whole class path for the package is slow.
    Path main =
        Path.of(KeyholdProvider.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    mainClasses =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPath(main);
    assertThat(mainClasses.contain(KeyholdProvider.class)).isTrue();
    assertThat(mainClasses.contain(CycleStart.class)).isFalse();
    violations = new ClassFileImporter().importClasses(CycleStart.class, CycleEnd.class);
  }

  @ParameterizedTest
  @FieldSource("RULES")
  void mainCode_keepsTheRule(ArchRule rule) {
    rule.check(mainClasses);
  }

  @ParameterizedTest
  @FieldSource("RULES")
  void rule_catchesADeliberateViolation(ArchRule rule) {
    assertThatThrownBy(() -> rule.check(violations)).isInstanceOf(AssertionError.class);
  }

  @Test
  void nettyRule_seesTheNettyPackagesOwnImports() {
    // Guards the guard: ..netty really imports io.netty, and the importer sees it.
    assertThatThrownBy(
            () ->
                noClasses()
                    .that()
                    .resideInAPackage("dev.keyhold.client.netty..")
                    .should()
                    .dependOnClassesThat()
                    .resideInAPackage("io.netty..")
                    .check(mainClasses))
        .isInstanceOf(AssertionError.class);
  }
}
