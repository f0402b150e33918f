package dev.keyhold.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Cheap static checks of the container files (hsm-config/docker/podman-check.sh runs them for
 * real): no PIN in the image or compose file, a non-root USER, a HEALTHCHECK that needs no bash,
 * host ports from the environment, and a build context without state, secrets or build output.
 */
class ContainerFilesTest {
  private static final Path ROOT = Repo.root();
  private static final Path DOCKER = ROOT.resolve("hsm-config/docker");
  private static final Pattern PIN_VALUE =
      Pattern.compile("(?i)(pin|password|secret)[a-z_]*\\s*[:=]\\s*['\"]?[0-9a-f]{4,}");

  private static String read(Path p) throws Exception {
    return Files.readString(p);
  }

  @Test
  void dockerfileBuildsInsideRunsAsNonRootAndChecksReadinessWithCurl() throws Exception {
    String df = read(DOCKER.resolve("Dockerfile"));
    // Instructions, with continuation lines joined.
    List<String> lines =
        List.of(
            df.lines()
                .map(String::strip)
                .filter(l -> !l.startsWith("#"))
                .reduce(
                    "",
                    (a, l) ->
                        a.endsWith("\\") ? a.substring(0, a.length() - 1) + " " + l : a + "\n" + l)
                .strip()
                .split("\n"));
    assertThat(lines).anyMatch(l -> l.startsWith("RUN") && l.contains("mvn"));
    assertThat(lines).noneMatch(l -> l.startsWith("COPY") && l.contains("target/"));

    // The last stage is the default target, the key service: it ends as a non-root user.
    int lastFrom = lastIndex(lines, "FROM ");
    String user =
        lines.subList(lastFrom, lines.size()).stream()
            .filter(l -> l.startsWith("USER "))
            .reduce((a, b) -> b)
            .orElseThrow();
    assertThat(user.substring(5).split(":")[0].strip()).isNotIn("root", "0");
    assertThat(lines.subList(lastFrom, lines.size())).anyMatch(l -> l.startsWith("HEALTHCHECK"));
    assertThat(String.join("\n", lines)).doesNotContain("/dev/tcp");
    String health = df.substring(df.indexOf("\nHEALTHCHECK"));
    assertThat(health).contains("curl").contains("${KEYHOLD_READY_PATH}");
    // One place names the readiness path.
    assertThat(Pattern.compile("ARG READY_PATH=").matcher(df).results().count()).isEqualTo(1);
    assertThat(df).doesNotContainPattern(PIN_VALUE).doesNotContain("KEYHOLD_PIN");
    assertThat(lines)
        .noneMatch(l -> l.startsWith("COPY") && (l.contains("var/") || l.contains(".pin")));
  }

  @Test
  void composeHasTokenInitServiceAndDemoWithPortsFromTheEnvironmentAndNoPin() throws Exception {
    String text = read(DOCKER.resolve("compose.yaml"));
    assertThat(text)
        .doesNotContain("/dev/tcp")
        .doesNotContainPattern(PIN_VALUE)
        .doesNotContain("KEYHOLD_PIN");
    JsonNode compose = Kustomization.documents(DOCKER.resolve("compose.yaml")).get(0);
    JsonNode services = compose.get("services");
    assertThat(services.has("token-init") && services.has("keyhold") && services.has("demo"))
        .isTrue();
    assertThat(services.at("/keyhold/depends_on/token-init/condition").asText())
        .isEqualTo("service_completed_successfully");
    assertThat(services.at("/demo/depends_on/keyhold/condition").asText())
        .isEqualTo("service_healthy");
    assertThat(compose.at("/volumes").has("keyhold")).isTrue();
    Pattern hostPort = Pattern.compile("^127\\.0\\.0\\.1:\\$\\{KEYHOLD_[A-Z]+_PORT:-\\d+}:\\d+$");
    for (String s : List.of("keyhold", "demo")) {
      assertThat(services.at("/" + s + "/ports")).isNotEmpty();
      services.at("/" + s + "/ports").forEach(p -> assertThat(p.asText()).matches(hostPort));
      assertThat(services.at("/" + s + "/healthcheck/test").toString()).contains("curl");
      assertThat(services.at("/" + s + "/volumes").toString()).contains("keyhold:/var/keyhold");
    }
    for (JsonNode arg : services.at("/demo/command")) {
      assertThat(arg.asText()).doesNotContainIgnoringCase("pin");
    }
  }

  @Test
  void entrypointIsPosixShAndPassesNoPin() throws Exception {
    String sh = read(DOCKER.resolve("entrypoint.sh"));
    assertThat(sh).startsWith("#!/bin/sh\n").doesNotContain("/dev/tcp").doesNotContain("[[");
    Matcher java = Pattern.compile("exec java[^\\n]*").matcher(sh);
    while (java.find()) {
      assertThat(java.group()).doesNotContainIgnoringCase("pin");
    }
  }

  @Test
  void dockerignoreKeepsStateSecretsAndBuildOutputOut() throws Exception {
    List<String> ignored = read(ROOT.resolve(".dockerignore")).lines().map(String::strip).toList();
    assertThat(ignored)
        .contains(
            "var/",
            "**/target/",
            ".git/",
            "**/*.pin",
            "**/*.key",
            "pki/",
            "secrets/",
            "bench/results/");
    // Java sources under .../pki/ must stay in the context: no pattern that matches every pki
    // folder.
    assertThat(ignored).doesNotContain("**/pki/", "**/pki");
  }

  private static int lastIndex(List<String> lines, String prefix) {
    for (int i = lines.size() - 1; i >= 0; i--) {
      if (lines.get(i).startsWith(prefix)) {
        return i;
      }
    }
    throw new AssertionError("no " + prefix);
  }
}
