package dev.keyhold.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.keyhold.proto.Durations;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads a {@link ServiceConfig} from YAML, with environment variables overriding the file.
 *
 * <p>Override rule: every scalar field outside lists can be set by {@code KEYHOLD_} followed by its
 * dotted path in upper case with dots as underscores ({@code hsm.tokenLabel} is {@code
 * KEYHOLD_HSM_TOKENLABEL}, {@code metrics.listen} is {@code KEYHOLD_METRICS_LISTEN}). Setting
 * {@code KEYHOLD_HSM_PIN_FILE} or {@code KEYHOLD_HSM_PIN_ENV} replaces the file's whole {@code pin}
 * (it names where the PIN is, never the PIN itself). Policy rules come from the file only.
 *
 * <p>Unknown fields are errors (a typo must not silently drop a setting), relative paths resolve
 * against the file's folder, and every failure names the file, the field, its line (or the variable
 * that set it) and what is expected.
 */
public final class ConfigLoader {

  private final ObjectMapper mapper;
  private final Map<String, String> environment;

  /** A loader whose overrides come from this process's environment. */
  public ConfigLoader() {
    this(System.getenv());
  }

  /** A loader whose overrides come from {@code environment} (tests, `config check`). */
  public ConfigLoader(Map<String, String> environment) {
    this.environment = Map.copyOf(environment);
    SimpleModule module = new SimpleModule("keyhold-config");
    module.addDeserializer(Duration.class, new DurationDeserializer());
    module.addDeserializer(Path.class, new PathDeserializer());
    this.mapper =
        YAMLMapper.builder()
            .addModule(module)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .build();
  }

  /** Loads and validates the file; the first problem is thrown. */
  public ServiceConfig load(Path file) {
    List<String> problems = new ArrayList<>();
    ServiceConfig config = read(file, problems);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems.get(0));
    }
    return config;
  }

  /**
   * Every problem of the file, one line each, without starting anything: the YAML, unknown fields,
   * values, and whether the files it names exist. Empty when the service could start from it (the
   * token itself is not opened).
   */
  public List<String> check(Path file) {
    List<String> problems = new ArrayList<>();
    ServiceConfig c = read(file, problems);
    if (c == null) {
      return problems;
    }
    String origin = "config " + file + ": ";
    requireFile(problems, origin, "tls.certChain", c.tls().certChain());
    requireFile(problems, origin, "tls.privateKey", c.tls().privateKey());
    requireFile(problems, origin, "tls.clientCa", c.tls().clientCa());
    requireFile(problems, origin, "hsm.library", c.hsm().library());
    PinSource pin = c.hsm().pin();
    if (pin.file() != null) {
      requireFile(problems, origin, "hsm.pin.file", pin.file());
    } else if (environment.get(pin.env()) == null || environment.get(pin.env()).isEmpty()) {
      problems.add(origin + "hsm.pin.env: environment variable " + pin.env() + " is not set");
    }
    return problems;
  }

  private static void requireFile(List<String> problems, String origin, String field, Path p) {
    if (!Files.isRegularFile(p)) {
      problems.add(origin + field + ": " + p + " does not exist or is not a file");
    } else if (!Files.isReadable(p)) {
      problems.add(origin + field + ": " + p + " is not readable by this user");
    }
  }

  private ServiceConfig read(Path file, List<String> problems) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      problems.add("config file " + file + " does not exist");
      return null;
    } catch (IOException e) {
      problems.add("cannot read config file " + file + ": " + e.getMessage());
      return null;
    }
    ServiceConfig.Raw raw = parse(text, file.toString(), problems);
    if (raw == null) {
      return null;
    }
    try {
      return raw.resolveAgainst(file.toAbsolutePath().getParent());
    } catch (ConfigException e) {
      problems.add("config " + file + ": " + e.getMessage());
      return null;
    }
  }

  ServiceConfig.Raw parse(String yaml, String origin, List<String> problems) {
    JsonNode tree;
    Map<String, Integer> lines;
    try {
      tree = mapper.readTree(yaml);
      lines = keyLines(yaml);
    } catch (JsonProcessingException e) {
      JsonLocation loc = e.getLocation();
      String where = loc == null ? "" : " (line " + loc.getLineNr() + ")";
      problems.add(
          "config " + origin + where + ": malformed YAML: " + firstLine(e.getOriginalMessage()));
      return null;
    } catch (IOException e) {
      problems.add("config " + origin + ": " + e.getMessage());
      return null;
    }
    if (tree == null || tree.isMissingNode() || tree.isNull()) {
      tree = mapper.createObjectNode();
    }
    if (!tree.isObject()) {
      problems.add("config " + origin + ": expected a mapping of fields (key: value lines)");
      return null;
    }
    Map<String, String> fromEnv = applyEnvironment((ObjectNode) tree);
    if (tree.isEmpty()) {
      problems.add("config " + origin + " is empty");
      return null;
    }
    Where where = new Where(origin, lines, fromEnv);
    unknownFields(tree, ConfigSchema.ROOT, "", where, problems);
    if (!problems.isEmpty()) {
      return null;
    }
    try {
      return mapper.treeToValue(tree, ServiceConfig.Raw.class);
    } catch (JsonProcessingException e) {
      problems.add(describe(e, tree, where));
      return null;
    }
  }

  /** Where a field's value came from, for messages: the file and line, or a variable. */
  private record Where(String origin, Map<String, Integer> lines, Map<String, String> fromEnv) {
    String of(String path) {
      String env = fromEnv.get(path);
      if (env != null) {
        return "config " + origin + " (" + path + " from " + env + ")";
      }
      Integer line = lines.get(path);
      if (line == null && !path.isEmpty()) {
        // A list item (policy[1]) has no key of its own: its first key's line.
        line =
            lines.entrySet().stream()
                .filter(e -> e.getKey().startsWith(path + ".") || e.getKey().startsWith(path + "["))
                .map(Map.Entry::getValue)
                .min(Integer::compare)
                .orElse(null);
      }
      return "config " + origin + (line == null ? "" : " (line " + line + ")");
    }
  }

  private Map<String, String> applyEnvironment(ObjectNode root) {
    Map<String, String> applied = new HashMap<>();
    Set<String> replaced = new HashSet<>();
    for (ConfigSchema.Field f : ConfigSchema.scalars()) {
      String name = ConfigSchema.envName(f.path());
      String value = environment.get(name);
      if (value == null) {
        continue;
      }
      String[] parts = f.path().split("\\.");
      ObjectNode parent = root;
      StringBuilder prefix = new StringBuilder();
      for (int i = 0; i < parts.length - 1; i++) {
        prefix.append(i == 0 ? "" : ".").append(parts[i]);
        JsonNode child = parent.get(parts[i]);
        boolean pinSection = prefix.toString().equals("hsm.pin");
        if (!(child instanceof ObjectNode) || (pinSection && replaced.add(prefix.toString()))) {
          child = parent.putObject(parts[i]);
        }
        parent = (ObjectNode) child;
      }
      parent.put(parts[parts.length - 1], value);
      applied.put(f.path(), name);
    }
    return applied;
  }

  private static void unknownFields(
      JsonNode node,
      Map<String, ConfigSchema.Field> fields,
      String path,
      Where where,
      List<String> problems) {
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      String here = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
      ConfigSchema.Field f = fields.get(e.getKey());
      if (f == null) {
        problems.add(
            where.of(here)
                + ": unknown field '"
                + here
                + "' (known"
                + (path.isEmpty() ? "" : " in " + path)
                + ": "
                + String.join(", ", fields.keySet())
                + ")");
      } else if (f.isSection() && f.list() && e.getValue().isArray()) {
        for (int i = 0; i < e.getValue().size(); i++) {
          JsonNode item = e.getValue().get(i);
          if (item.isObject()) {
            unknownFields(item, f.children(), here + "[" + i + "]", where, problems);
          }
        }
      } else if (f.isSection() && !f.list() && e.getValue().isObject()) {
        unknownFields(e.getValue(), f.children(), here, where, problems);
      }
    }
  }

  private static String describe(JsonProcessingException e, JsonNode tree, Where where) {
    if (!(e instanceof JsonMappingException m)) {
      return where.of("") + ": " + firstLine(e.getOriginalMessage());
    }
    String path = pathOf(m.getPath());
    for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
      if (c instanceof ConfigException ce) {
        String msg = ce.getMessage();
        return where.of(path) + ": " + (msg.startsWith(path) ? msg : path + ": " + msg);
      }
    }
    // ConfigExceptions (above) never carry a value. Jackson's messages quote the offending value
    // ("from String value ('1234')"): for a secret
    // field, say what is expected and nothing of what was written. Jackson does not always fill the
    // path, so a failure to build the PinSource itself also counts as the secret field.
    if (isSecret(path)
        || String.valueOf(m.getOriginalMessage()).contains(PinSource.class.getName())) {
      return where.of("hsm.pin")
          + ": hsm.pin must be {file: PATH} or {env: VARIABLE}; an inline PIN is not accepted"
          + " (the value written is not shown)";
    }
    Class<?> type = m instanceof MismatchedInputException mi ? mi.getTargetType() : null;
    if (type != null) {
      JsonNode bad = at(tree, m.getPath());
      String got =
          m instanceof InvalidFormatException ife
              ? "'" + ife.getValue() + "'"
              : bad == null ? "nothing" : describeNode(bad);
      return where.of(path) + ": " + path + ": expected " + expected(type) + ", got " + got;
    }
    return where.of(path) + ": " + path + ": " + firstLine(m.getOriginalMessage());
  }

  private static boolean isSecret(String fieldPath) {
    for (String part : fieldPath.split("[.\\[\\]]")) {
      if (part.equals("pin")) {
        return true;
      }
    }
    return false;
  }

  private static JsonNode at(JsonNode tree, List<JsonMappingException.Reference> refs) {
    JsonNode n = tree;
    for (JsonMappingException.Reference r : refs) {
      if (n == null) {
        return null;
      }
      n = r.getFieldName() != null ? n.get(r.getFieldName()) : n.get(r.getIndex());
    }
    return n;
  }

  private static String describeNode(JsonNode n) {
    if (n.isObject()) {
      return "a section";
    }
    if (n.isArray()) {
      return "a list";
    }
    return "'" + n.asText() + "'";
  }

  static String expected(Class<?> t) {
    if (t == int.class || t == Integer.class || t == long.class || t == Long.class) {
      return "a whole number";
    }
    if (t == boolean.class || t == Boolean.class) {
      return "true or false";
    }
    if (t.isEnum()) {
      List<String> names = new ArrayList<>();
      for (Object c : t.getEnumConstants()) {
        names.add(((Enum<?>) c).name().toLowerCase(Locale.ROOT));
      }
      return "one of " + String.join(", ", names);
    }
    if (t == Duration.class) {
      return "a duration such as 500ms, 30s, 5m or 1h";
    }
    if (t == Path.class) {
      return "a file path";
    }
    if (t == String.class) {
      return "a single value";
    }
    if (List.class.isAssignableFrom(t) || Set.class.isAssignableFrom(t)) {
      return "a list";
    }
    return "a section of key: value lines";
  }

  private static String pathOf(List<JsonMappingException.Reference> refs) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference r : refs) {
      if (r.getFieldName() != null) {
        sb.append(sb.length() == 0 ? "" : ".").append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        sb.append('[').append(r.getIndex()).append(']');
      }
    }
    return sb.toString();
  }

  /** The line of every key in the file, by dotted path ({@code policy[0].client}). */
  private Map<String, Integer> keyLines(String yaml) throws IOException {
    Map<String, Integer> lines = new HashMap<>();
    try (JsonParser p = mapper.getFactory().createParser(yaml)) {
      for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
        if (t == JsonToken.FIELD_NAME) {
          lines.putIfAbsent(pathOf(p.getParsingContext()), p.currentLocation().getLineNr());
        }
      }
    }
    return lines;
  }

  private static String pathOf(JsonStreamContext ctx) {
    List<String> parts = new ArrayList<>();
    for (JsonStreamContext c = ctx; c != null && !c.inRoot(); c = c.getParent()) {
      parts.add(0, c.inArray() ? "[" + c.getCurrentIndex() + "]" : c.getCurrentName());
    }
    StringBuilder sb = new StringBuilder();
    for (String s : parts) {
      if (s == null) {
        continue;
      }
      sb.append(s.startsWith("[") || sb.length() == 0 ? "" : ".").append(s);
    }
    return sb.toString();
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
        throw new ConfigException("expected a file path, got nothing");
      }
      return Path.of(s);
    }
  }
}
