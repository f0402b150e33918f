package dev.keyhold.appservers;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README shows the very files the app-server tests configure servers with. */
class ReadmeSnippetsTest {
  @Test
  void readme_showsEverySnippetVerbatim() throws Exception {
    // Surefire runs in the module's folder.
    Path snippets = Path.of("src/test/resources/snippets");
    String readme = Files.readString(Path.of("../README.md"), StandardCharsets.UTF_8);
    List<Path> files;
    try (var walk = Files.walk(snippets)) {
      files = walk.filter(Files::isRegularFile).toList();
    }
    assertThat(files).hasSizeGreaterThanOrEqualTo(7);
    for (Path f : files) {
      String text = Files.readString(f, StandardCharsets.UTF_8).strip();
      assertThat(readme).as("README shows %s", snippets.relativize(f)).contains(text);
    }
  }
}
