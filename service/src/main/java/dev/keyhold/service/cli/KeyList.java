package dev.keyhold.service.cli;

import dev.keyhold.proto.v1.KeyType;
import dev.keyhold.service.keys.KeyDescription;
import dev.keyhold.service.pkcs11.Pkcs11Key;
import dev.keyhold.service.pkcs11.TokenObjects;
import dev.keyhold.service.pkcs11.TokenObjects.PrivateKeyFacts;
import java.io.PrintWriter;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code keys list}: one block per key the service would serve: label, id, type, SPKI SHA-256,
 * certificate subject, SANs and expiry, and the operations allowed (by the key type, the token's
 * attributes and the certificate's key usage).
 */
@Command(name = "list", description = "List the keys the service would serve.")
final class KeyList implements Callable<Integer> {
  private static final Map<String, String> CURVES =
      Map.of("secp256r1", "p256", "secp384r1", "p384", "secp521r1", "p521");
  private static final Map<Integer, String> SAN_KINDS =
      Map.of(1, "EMAIL", 2, "DNS", 6, "URI", 7, "IP");

  @Mixin HsmOptions hsm;
  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    List<Pkcs11Key> keys = hsm.token().discoverKeys();
    if (keys.isEmpty()) {
      out.println("no keys on " + hsm.config().hsm().describeToken());
    }
    int warnDays = hsm.config().expiryWarningDays();
    Instant now = Instant.now();
    for (Pkcs11Key k : keys) {
      KeyDescription d = k.description();
      Optional<PrivateKeyFacts> facts = TokenObjects.privateKey(hsm.token(), d.name());
      X509Certificate leaf = d.chain().get(0);
      out.printf("%s%n", d.name());
      out.printf("  id           %s%n", facts.map(PrivateKeyFacts::id).orElse("?"));
      out.printf("  type         %s%n", typeOf(d));
      out.printf("  spki-sha256  %s%n", HexFormat.of().formatHex(d.spkiSha256()));
      boolean placeholder = leaf.getSubjectX500Principal().equals(leaf.getIssuerX500Principal());
      out.printf(
          "  certificate  %s%s%n",
          leaf.getSubjectX500Principal(),
          placeholder
              ? " (self-signed placeholder)"
              : ", issued by " + leaf.getIssuerX500Principal());
      out.printf("  sans         %s%n", String.join(", ", sans(leaf)));
      out.printf("  expires      %s%n", expiry(leaf, now, warnDays));
      out.printf("  usages       %s%n", usages(d, leaf, facts));
    }
    out.flush();
    return 0;
  }

  static String typeOf(KeyDescription d) {
    return d.type() == KeyType.KEY_TYPE_RSA
        ? "rsa:" + d.bits()
        : "ec:" + CURVES.getOrDefault(String.valueOf(d.curve()), String.valueOf(d.curve()));
  }

  /** Days left and a warning inside {@code keys.expiryWarningDays}. */
  static String expiry(X509Certificate leaf, Instant now, int warnDays) {
    Instant notAfter = leaf.getNotAfter().toInstant();
    long days = Duration.between(now, notAfter).toDays();
    if (notAfter.isBefore(now)) {
      return notAfter + " (EXPIRED " + Math.abs(days) + " days ago)";
    }
    String warn = warnDays > 0 && days < warnDays ? " WARNING: renew it" : "";
    return notAfter + " (in " + days + " days)" + warn;
  }

  private static List<String> sans(X509Certificate leaf) throws CertificateParsingException {
    List<String> out = new ArrayList<>();
    var names = leaf.getSubjectAlternativeNames();
    if (names == null) {
      return List.of("none");
    }
    for (List<?> n : names) {
      String kind = SAN_KINDS.getOrDefault((Integer) n.get(0), "OTHER");
      out.add(kind + ":" + n.get(1));
    }
    return out;
  }

  private static String usages(
      KeyDescription d, X509Certificate leaf, Optional<PrivateKeyFacts> facts) {
    boolean[] ku = leaf.getKeyUsage(); // null: no restriction
    boolean sign = (ku == null || ku[0]) && facts.map(PrivateKeyFacts::sign).orElse(true);
    boolean decrypt =
        d.type() == KeyType.KEY_TYPE_RSA
            && (ku == null || ku[2])
            && facts.map(PrivateKeyFacts::decrypt).orElse(true);
    List<String> ops = new ArrayList<>();
    if (sign) {
      ops.add("sign");
    }
    if (decrypt) {
      ops.add("decrypt_premaster");
    }
    String token =
        facts
            .map(
                f ->
                    (f.sensitive() ? "sensitive" : "NOT sensitive")
                        + ", "
                        + (f.extractable() ? "EXTRACTABLE" : "not extractable"))
            .orElse("attributes unknown");
    return (ops.isEmpty() ? "none" : String.join(", ", ops)) + " (" + token + ")";
  }
}
