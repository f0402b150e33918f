package dev.keyhold.config;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fields a configuration file may hold, read from the YAML shape ({@link ServiceConfig.Raw})
 * and the records it nests, so that a new record component is known, checked and overridable by the
 * environment without a second list to keep in step.
 */
final class ConfigSchema {
  /** One field: its dotted path and, when it is a section or a list of sections, its children. */
  record Field(String path, Class<?> type, boolean list, Map<String, Field> children) {
    boolean isSection() {
      return !children.isEmpty();
    }
  }

  static final Map<String, Field> ROOT = fieldsOf(ServiceConfig.Raw.class, "");

  private ConfigSchema() {}

  private static Map<String, Field> fieldsOf(Class<?> record, String prefix) {
    Map<String, Field> out = new LinkedHashMap<>();
    for (RecordComponent c : record.getRecordComponents()) {
      String path = prefix.isEmpty() ? c.getName() : prefix + "." + c.getName();
      Class<?> type = c.getType();
      boolean list = List.class.isAssignableFrom(type);
      if (list) {
        Type arg = ((ParameterizedType) c.getGenericType()).getActualTypeArguments()[0];
        type = (Class<?>) arg;
      }
      Map<String, Field> children = type.isRecord() ? fieldsOf(type, path) : Map.of();
      out.put(c.getName(), new Field(path, type, list, children));
    }
    return out;
  }

  /** Every scalar field outside lists, in file order: what environment variables may set. */
  static List<Field> scalars() {
    List<Field> out = new ArrayList<>();
    collect(ROOT, out);
    return out;
  }

  private static void collect(Map<String, Field> fields, List<Field> out) {
    for (Field f : fields.values()) {
      if (f.list()) {
        continue;
      }
      if (f.isSection()) {
        collect(f.children(), out);
      } else {
        out.add(f);
      }
    }
  }

  /** The environment variable for a field: {@code KEYHOLD_} and the path, dots as underscores. */
  static String envName(String path) {
    return "KEYHOLD_" + path.replace('.', '_').toUpperCase(java.util.Locale.ROOT);
  }
}
