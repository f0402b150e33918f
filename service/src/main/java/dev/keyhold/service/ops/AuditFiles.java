package dev.keyhold.service.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The files of a rotated audit log: the current file {@code FILE} and the rotated ones {@code
 * FILE.NNNNNN}, numbered from 1 (the first file ever written) upwards. A file's number is also in
 * its first line: a {@code rotate} header with {@code "file": N} (the first file has none and
 * starts from the genesis hash).
 */
final class AuditFiles {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern ROTATED = Pattern.compile("(.*)\\.(\\d{6,})");

  private AuditFiles() {}

  /** The name file number {@code n} gets when it is rotated. */
  static Path rotatedName(Path file, long n) {
    return file.resolveSibling(file.getFileName() + "." + String.format("%06d", n));
  }

  /** The rotated files beside {@code file}, by number. */
  static NavigableMap<Long, Path> rotated(Path file) throws IOException {
    NavigableMap<Long, Path> out = new TreeMap<>();
    Path dir = file.toAbsolutePath().getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      return out;
    }
    String base = file.getFileName().toString();
    try (Stream<Path> s = Files.list(dir)) {
      s.forEach(
          p -> {
            Matcher m = ROTATED.matcher(p.getFileName().toString());
            if (m.matches() && m.group(1).equals(base) && Files.isRegularFile(p)) {
              out.put(Long.parseLong(m.group(2)), file.resolveSibling(p.getFileName()));
            }
          });
    }
    return out;
  }

  /** The first non-blank line, parsed, or null when there is none or it is not JSON. */
  static JsonNode firstLine(Path file) throws IOException {
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (!line.isBlank()) {
          try {
            return JSON.readTree(line);
          } catch (IOException e) {
            return null;
          }
        }
      }
    }
    return null;
  }

  /**
   * The file's number from its first line: N for a rotate header, 1 for a first file (chained from
   * the genesis hash), 0 when it cannot be told (no line, not JSON, or an older log without
   * headers).
   */
  static long number(Path file) throws IOException {
    JsonNode first = firstLine(file);
    if (first == null) {
      return 0;
    }
    if ("rotate".equals(first.path("op").asText())) {
      return first.path("file").asLong(0);
    }
    return AuditVerifier.GENESIS.equals(first.path("prev").asText()) ? 1 : 0;
  }
}
