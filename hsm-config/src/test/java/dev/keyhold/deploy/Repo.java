package dev.keyhold.deploy;

import java.nio.file.Files;
import java.nio.file.Path;

/** The repository root, found from the module's working directory (Maven runs tests in it). */
final class Repo {
  private Repo() {}

  static Path root() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null) {
      if (Files.isDirectory(dir.resolve("deploy/kubernetes"))
          && Files.isDirectory(dir.resolve("hsm-config/docker"))) {
        return dir;
      }
      dir = dir.getParent();
    }
    throw new IllegalStateException(
        "repository root not found above " + Path.of("").toAbsolutePath());
  }
}
