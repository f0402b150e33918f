package dev.keyhold.config;

import java.util.List;
import java.util.Set;

/**
 * One authorization rule: a client identity may use the keys that match {@code keys} for {@code
 * operations}. Default is deny: a caller no rule matches can do nothing.
 *
 * @param client the identity: a certificate SAN (DNS or URI), its subject CN, or {@code
 *     spki-sha256:<hex>} pinning the client's public key; {@code *} matches any authenticated
 *     client
 * @param keys key names, or glob patterns with {@code *} (e.g. {@code "web-*"})
 * @param operations any of {@code sign}, {@code decrypt_premaster}
 */
public record PolicyRule(String client, List<String> keys, Set<String> operations) {
  public static final Set<String> KNOWN_OPERATIONS = Set.of("sign", "decrypt_premaster");

  public PolicyRule {
    if (client == null || client.isBlank()) {
      throw new ConfigException("policy rule without 'client'");
    }
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
}
