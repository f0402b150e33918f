package dev.keyhold.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A tiny kustomize for a patch-free base: the documents of the files in {@code resources}, in
 * order. Any other transformation is refused, so what the test checks is what {@code kubectl apply
 * -k} sends.
 */
final class Kustomization {
  private static final Set<String> ALLOWED = Set.of("apiVersion", "kind", "resources");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private Kustomization() {}

  static List<JsonNode> render(Path dir) throws IOException {
    JsonNode k = YAML.readTree(dir.resolve("kustomization.yaml").toFile());
    k.fieldNames()
        .forEachRemaining(
            f -> {
              if (!ALLOWED.contains(f)) {
                throw new IllegalArgumentException(
                    dir
                        + "/kustomization.yaml: '"
                        + f
                        + "' is not supported; keep the base patch-free");
              }
            });
    List<JsonNode> docs = new ArrayList<>();
    for (JsonNode r : k.path("resources")) {
      docs.addAll(documents(dir.resolve(r.asText())));
    }
    if (docs.isEmpty()) {
      throw new IllegalArgumentException(dir + "/kustomization.yaml lists no resources");
    }
    return docs;
  }

  static List<JsonNode> documents(Path file) throws IOException {
    List<JsonNode> docs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
      while (it.hasNext()) {
        JsonNode d = it.next();
        if (d != null && !d.isNull() && !d.isEmpty()) {
          docs.add(d);
        }
      }
    }
    return docs;
  }
}
