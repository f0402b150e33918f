package dev.keyhold.demo;

import dev.keyhold.client.rpc.KeyholdClientConfig;
import dev.keyhold.proto.Durations;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The command-line options both demo servers share (a picocli mixin): how to reach Keyhold, which
 * keys to serve, where their chains come from, and client authentication.
 *
 * <p>Security note: {@code --key} is the client key of the mTLS channel to Keyhold, not a TLS
 * server key; the server keys never leave the HSM.
 */
public final class KeyholdOptions {
  @Option(
      names = "--keyhold-target",
      required = true,
      description = "Keyhold service, host:port (or dns:///name:port).")
  String target;

  @Option(
      names = "--ca",
      required = true,
      description = "PEM: CA that signed the Keyhold service's certificate.")
  Path ca;

  @Option(
      names = "--cert",
      required = true,
      description = "PEM: this server's client certificate for mTLS to Keyhold.")
  Path cert;

  @Option(
      names = "--key",
      required = true,
      description = "PEM (PKCS#8): the key of --cert (channel only).")
  Path key;

  @Option(
      names = "--authority",
      description = "Name the Keyhold service certificate carries, if not the target host.")
  String authority;

  @Option(
      names = "--deadline",
      defaultValue = "2s",
      description = "Deadline of each Keyhold call, e.g. 2s, 500ms (default: ${DEFAULT-VALUE}).")
  String deadline;

  @Option(
      names = "--key-name",
      description = "Keyhold key to serve (repeatable, preference order).")
  List<String> keyNames = new ArrayList<>();

  @Option(
      names = "--chain",
      description =
          "NAME=PEM: certificate chain for key NAME from a file instead of the service"
              + " (repeatable).")
  Map<String, Path> chains = new LinkedHashMap<>();

  @Option(
      names = "--client-auth",
      defaultValue = "none",
      description = "none, want or need (default: ${DEFAULT-VALUE}).")
  String clientAuth;

  @Option(
      names = "--client-ca",
      description = "PEM: CA certificates trusted for client certificates (with want/need).")
  Path clientCa;

  /** The Keyhold client configuration these options describe. */
  public KeyholdClientConfig clientConfig() {
    KeyholdClientConfig.Builder cfg =
        KeyholdClientConfig.builder()
            .target(target)
            .trustedCa(ca)
            .clientCertificate(cert, key)
            .deadline(parseDuration(deadline));
    if (authority != null) {
      cfg.authority(authority);
    }
    return cfg.build();
  }

  /** The keys to serve, or {@code defaults} when none was named. */
  public List<String> keyNames(List<String> defaults) {
    return keyNames.isEmpty() ? defaults : List.copyOf(keyNames);
  }

  /** The PEM chain file given for a key, or null to take the chain from the service. */
  public Path chain(String keyName) {
    return chains.get(keyName);
  }

  /** The {@code --client-auth} value: none, want or need. */
  public String clientAuth() {
    return clientAuth;
  }

  public Path clientCa() {
    return clientCa;
  }

  /**
   * "2s", "500ms", "1m" or an ISO-8601 duration ("PT2S"): the shared grammar, {@link Durations}.
   */
  public static Duration parseDuration(String s) {
    try {
      return Durations.parse(s);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "--deadline must look like 2s, 500ms, 1m or PT2S, not '" + s + "'", e);
    }
  }
}
