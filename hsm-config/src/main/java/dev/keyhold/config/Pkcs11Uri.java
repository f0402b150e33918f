package dev.keyhold.config;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * An RFC 7512 {@code pkcs11:} URI, the way p11-kit, OpenSSL and GnuTLS name a token and an object:
 * {@code pkcs11:token=keyhold;object=web;type=private?pin-source=file:/run/secrets/pin}.
 *
 * <p>Path attributes are separated by {@code ;}, query attributes by {@code &}; values are
 * percent-decoded ({@code id} stays bytes, the others are UTF-8 text). A standard attribute may
 * appear once; vendor attributes ({@code x-...} or containing a {@code -} and unknown) are kept.
 * {@code pin-value} is parsed so that it can be refused by callers: Keyhold takes PINs only from a
 * file or a variable, and no message of this class quotes a value.
 *
 * @param path the path attributes, decoded, in order ({@code id} as its raw percent form)
 * @param query the query attributes, decoded, in order
 * @param id the {@code id} attribute's bytes, or null
 */
public record Pkcs11Uri(Map<String, String> path, Map<String, String> query, byte[] id) {
  private static final Set<String> PATH_ATTRIBUTES =
      Set.of(
          "token",
          "manufacturer",
          "serial",
          "model",
          "library-manufacturer",
          "library-description",
          "library-version",
          "object",
          "type",
          "id",
          "slot-description",
          "slot-manufacturer",
          "slot-id");
  private static final Set<String> QUERY_ATTRIBUTES =
      Set.of("pin-source", "pin-value", "module-name", "module-path");
  private static final Set<String> TYPES =
      Set.of("public", "private", "cert", "secret-key", "data");

  /** Parses {@code text}; a malformed URI fails with what is wrong (never quoting a PIN). */
  public static Pkcs11Uri parse(String text) {
    if (text == null || !text.regionMatches(true, 0, "pkcs11:", 0, 7)) {
      throw new ConfigException("a PKCS#11 URI starts with 'pkcs11:' (RFC 7512)");
    }
    String rest = text.substring(7);
    int q = rest.indexOf('?');
    String pathPart = q < 0 ? rest : rest.substring(0, q);
    String queryPart = q < 0 ? "" : rest.substring(q + 1);
    Map<String, String> path = new LinkedHashMap<>();
    byte[] id = null;
    for (String attr : split(pathPart, ';')) {
      int eq = attr.indexOf('=');
      if (eq <= 0) {
        throw new ConfigException("PKCS#11 URI path attribute '" + name(attr) + "' has no value");
      }
      String key = attr.substring(0, eq).toLowerCase(java.util.Locale.ROOT);
      String raw = attr.substring(eq + 1);
      if (!PATH_ATTRIBUTES.contains(key) && !key.contains("-")) {
        throw new ConfigException("PKCS#11 URI: unknown path attribute '" + key + "'");
      }
      if (path.containsKey(key)) {
        throw new ConfigException("PKCS#11 URI: path attribute '" + key + "' appears twice");
      }
      byte[] bytes = decode(raw, key);
      if (key.equals("id")) {
        id = bytes;
        path.put(key, raw);
      } else {
        path.put(key, new String(bytes, StandardCharsets.UTF_8));
      }
    }
    String type = path.get("type");
    if (type != null && !TYPES.contains(type)) {
      throw new ConfigException(
          "PKCS#11 URI: type '" + type + "' is not one of public, private, cert, secret-key, data");
    }
    String slotId = path.get("slot-id");
    if (slotId != null && !slotId.matches("[0-9]+")) {
      throw new ConfigException("PKCS#11 URI: slot-id '" + slotId + "' is not a decimal number");
    }
    Map<String, String> query = new LinkedHashMap<>();
    for (String attr : split(queryPart, '&')) {
      int eq = attr.indexOf('=');
      if (eq <= 0) {
        throw new ConfigException("PKCS#11 URI query attribute '" + name(attr) + "' has no value");
      }
      String key = attr.substring(0, eq).toLowerCase(java.util.Locale.ROOT);
      if (!QUERY_ATTRIBUTES.contains(key) && !key.contains("-")) {
        throw new ConfigException("PKCS#11 URI: unknown query attribute '" + key + "'");
      }
      if (query.containsKey(key)) {
        throw new ConfigException("PKCS#11 URI: query attribute '" + key + "' appears twice");
      }
      query.put(key, new String(decode(attr.substring(eq + 1), key), StandardCharsets.UTF_8));
    }
    if (query.containsKey("pin-source") && query.containsKey("pin-value")) {
      throw new ConfigException("PKCS#11 URI: pin-source and pin-value are mutually exclusive");
    }
    return new Pkcs11Uri(Collections.unmodifiableMap(path), Collections.unmodifiableMap(query), id);
  }

  private static String name(String attr) {
    int eq = attr.indexOf('=');
    return eq < 0 ? attr : attr.substring(0, eq);
  }

  private static java.util.List<String> split(String s, char sep) {
    java.util.List<String> out = new java.util.ArrayList<>();
    if (s.isEmpty()) {
      return out;
    }
    int start = 0;
    for (int i = 0; i <= s.length(); i++) {
      if (i == s.length() || s.charAt(i) == sep) {
        if (i > start) {
          out.add(s.substring(start, i));
        }
        start = i + 1;
      }
    }
    return out;
  }

  private static byte[] decode(String raw, String attr) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        if (i + 2 >= raw.length()) {
          throw new ConfigException("PKCS#11 URI: attribute '" + attr + "' has a truncated %XX");
        }
        int hi = Character.digit(raw.charAt(i + 1), 16);
        int lo = Character.digit(raw.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw new ConfigException("PKCS#11 URI: attribute '" + attr + "' has a bad %XX escape");
        }
        out.write((hi << 4) | lo);
        i += 2;
      } else {
        byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        out.write(b, 0, b.length);
      }
    }
    return out.toByteArray();
  }

  /** The {@code token} attribute (the token label), or null. */
  public String token() {
    return path.get("token");
  }

  /** The {@code slot-id} attribute, or null. */
  public Long slotId() {
    String s = path.get("slot-id");
    return s == null ? null : Long.valueOf(s);
  }

  /** The {@code object} attribute (CKA_LABEL; Keyhold's key name), or null. */
  public String object() {
    return path.get("object");
  }

  /** The {@code type} attribute, or null. */
  public String type() {
    return path.get("type");
  }

  /**
   * The PIN source as a {@link PinSource}: {@code pin-source=file:PATH} (or a bare path, as RFC
   * 7512 allows); null when the URI has none. A {@code pin-value} is refused: PINs come from files
   * or variables only.
   */
  public PinSource pinSource() {
    if (query.containsKey("pin-value")) {
      throw new ConfigException(
          "PKCS#11 URI: pin-value is not accepted (a PIN in a URI ends up in logs and process"
              + " lists); use pin-source=file:PATH");
    }
    String src = query.get("pin-source");
    if (src == null) {
      return null;
    }
    if (src.startsWith("file:")) {
      String p = src.substring(5);
      if (p.startsWith("//")) {
        p = p.substring(2); // file:///etc/pin
      }
      return PinSource.ofFile(java.nio.file.Path.of(p));
    }
    if (src.startsWith("/")) {
      return PinSource.ofFile(java.nio.file.Path.of(src));
    }
    throw new ConfigException(
        "PKCS#11 URI: pin-source must be file:PATH (other schemes are not supported)");
  }

  /** The {@code module-path} attribute, or null. */
  public String modulePath() {
    return query.get("module-path");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Pkcs11Uri u
        && path.equals(u.path)
        && query.equals(u.query)
        && java.util.Arrays.equals(id, u.id);
  }

  @Override
  public int hashCode() {
    return path.hashCode() * 31 + query.hashCode();
  }

  @Override
  public String toString() {
    // Attribute names only: the query may hold a pin-value, which no message may quote.
    return "pkcs11:" + String.join(";", path.keySet()) + (query.isEmpty() ? "" : "?...");
  }
}
