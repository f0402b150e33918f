package dev.keyhold.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.keyhold.proto.Durations;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Reads a {@link ServiceConfig} from YAML. Unknown fields are errors (a typo must not silently drop
 * a setting), relative paths resolve against the file's folder, and every failure becomes a {@link
 * ConfigException} naming the file, the line and what to fix.
 */
public final class ConfigLoader {

  private final ObjectMapper mapper;

  public ConfigLoader() {
    SimpleModule module = new SimpleModule("keyhold-config");
    module.addDeserializer(Duration.class, new DurationDeserializer());
    module.addDeserializer(Path.class, new PathDeserializer());
    this.mapper =
        YAMLMapper.builder()
            .addModule(module)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .disable(DeserializationFeature.WRAP_EXCEPTIONS)
            .build();
  }

  /** Loads and validates the file. */
  public ServiceConfig load(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException("config file " + file + " does not exist");
    } catch (IOException e) {
      throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
    }
    Path base = file.toAbsolutePath().getParent();
    return parse(text, file.toString()).resolveAgainst(base);
  }

  ServiceConfig.Raw parse(String yaml, String origin) {
    try {
      ServiceConfig.Raw raw = mapper.readValue(yaml, ServiceConfig.Raw.class);
      if (raw == null) {
        throw new ConfigException("config " + origin + " is empty");
      }
      return raw;
    } catch (ConfigException e) {
      throw new ConfigException("config " + origin + ": " + e.getMessage(), e);
    } catch (JsonProcessingException e) {
      Throwable cause = e.getCause();
      while (cause != null && !(cause instanceof ConfigException)) {
        cause = cause.getCause();
      }
      JsonLocation loc = e.getLocation();
      String where = loc == null ? "" : " (line " + loc.getLineNr() + ")";
      String field = fieldPath(e);
      // Jackson does not always fill the path (WRAP_EXCEPTIONS is off): a failure to build the
      // PinSource itself is also about the secret field.
      String original = String.valueOf(e.getOriginalMessage());
      if (isSecret(field) || original.contains(PinSource.class.getName())) {
        field = "hsm.pin";
        // Jackson's messages quote the offending value ("from String value ('1234')"): for a
        // secret field, say what is expected and nothing of what was written. No cause either,
        // so that no stack trace or log line can carry the message.
        throw new ConfigException(
            "config "
                + origin
                + where
                + ": "
                + field
                + " must be {file: PATH} or {env: VARIABLE}; an inline PIN is not accepted"
                + " (the value written is not shown)");
      }
      String what = cause != null ? cause.getMessage() : e.getOriginalMessage();
      String prefix = field.isEmpty() || cause != null ? "" : field + ": ";
      throw new ConfigException("config " + origin + where + ": " + prefix + firstLine(what), e);
    }
  }

  /** Fields whose values are secret: errors about them never quote what was written. */
  private static final java.util.Set<String> SECRET_FIELDS = java.util.Set.of("pin");

  private static boolean isSecret(String fieldPath) {
    for (String part : fieldPath.split("\\.")) {
      if (SECRET_FIELDS.contains(part)) {
        return true;
      }
    }
    return false;
  }

  /** The failing field as {@code hsm.sessions}, or "" when Jackson names none. */
  private static String fieldPath(JsonProcessingException e) {
    if (!(e instanceof JsonMappingException m)) {
      return "";
    }
    StringBuilder b = new StringBuilder();
    for (JsonMappingException.Reference r : m.getPath()) {
      if (r.getFieldName() != null) {
        b.append(b.length() == 0 ? "" : ".").append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        b.append('[').append(r.getIndex()).append(']');
      }
    }
    return b.toString();
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "malformed";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  /** Parses "500ms", "30s", "5m", "1h" (the shared grammar, {@link Durations}). */
  public static Duration parseDuration(String text) {
    try {
      return Durations.parse(text);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  private static final class DurationDeserializer extends JsonDeserializer<Duration> {
    @Override
    public Duration deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      return parseDuration(p.getValueAsString());
    }
  }

  private static final class PathDeserializer extends JsonDeserializer<Path> {
    @Override
    public Path deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      String s = p.getValueAsString();
      if (s == null || s.isBlank()) {
        throw new ConfigException("empty path");
      }
      return Path.of(s);
    }
  }
}
