package dev.keyhold.config;

import java.util.List;
import java.util.Set;

/**
 * One authorization rule: a client identity may use the keys that match {@code keys} for {@code
 * operations}. Default is deny: a caller no rule matches can do nothing.
 *
 * @param client the identity, in one of the forms {@code dns:NAME} (a DNS SAN, ASCII
 *     case-insensitive), {@code uri:URI} (a URI SAN such as a SPIFFE ID, exact), {@code cn:NAME}
 *     (the subject CN, exact, only of a certificate without any SAN), {@code spki-sha256:HEX} (pins
 *     the client's public key); a bare {@code NAME} means a DNS SAN, or the CN when the certificate
 *     has no SAN; {@code *} matches any authenticated client
 * @param keys key names, or glob patterns with {@code *} (e.g. {@code "web-*"})
 * @param operations any of {@code sign}, {@code decrypt_premaster}
 */
public record PolicyRule(String client, List<String> keys, Set<String> operations) {
  public static final Set<String> KNOWN_OPERATIONS = Set.of("sign", "decrypt_premaster");

  /** The prefixes a {@code client} entry may name its form with. */
  public static final List<String> CLIENT_FORMS = List.of("dns", "uri", "cn", "spki-sha256");

  public PolicyRule {
    if (client == null || client.isBlank()) {
      throw new ConfigException("policy rule without 'client'");
    }
    checkClient(client);
    keys = keys == null ? List.of() : List.copyOf(keys);
    operations = operations == null ? Set.of() : Set.copyOf(operations);
    if (keys.isEmpty()) {
      throw new ConfigException("policy rule for '" + client + "' lists no keys");
    }
    for (String op : operations) {
      if (!KNOWN_OPERATIONS.contains(op)) {
        throw new ConfigException(
            "policy rule for '"
                + client
                + "': unknown operation '"
                + op
                + "' (known: sign, decrypt_premaster)");
      }
    }
    if (operations.isEmpty()) {
      throw new ConfigException("policy rule for '" + client + "' lists no operations");
    }
  }

  private static void checkClient(String client) {
    int colon = client.indexOf(':');
    if (colon < 0) {
      return;
    }
    String form = client.substring(0, colon);
    if (!CLIENT_FORMS.contains(form)) {
      // A bare value with a colon would silently match nothing (bare names are DNS names or CNs):
      // most likely a URI SAN written without its form.
      throw new ConfigException(
          "policy rule client '"
              + client
              + "': unknown form '"
              + form
              + ":' (known: dns:, uri:, cn:, spki-sha256:; write a URI SAN as uri:"
              + client
              + ")");
    }
    if (colon == client.length() - 1) {
      throw new ConfigException("policy rule client '" + client + "' names no value");
    }
  }
}
