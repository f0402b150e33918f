package dev.keyhold.service.auth;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Who is calling, from the client certificate of the mTLS session: its DNS and URI SANs, its
 * subject CN and the SHA-256 pin of its public key.
 *
 * <p>Security note: the caller has one identity for the policy and the audit log alike. A policy
 * entry names the form it matches ({@code dns:}, {@code uri:}, {@code cn:}, {@code spki-sha256:});
 * a bare name means a DNS SAN, or the CN only when the certificate has no SAN at all. The CN is
 * never consulted when SANs are present, so a certificate cannot borrow rights through a CN its
 * SANs contradict. DNS names compare ASCII case-insensitively (RFC 4343); URIs and CNs exactly; the
 * pin's hex in either case. {@link #primary()} is what a call no rule allowed is audited as.
 *
 * @param hasSan whether the certificate carries any subjectAltName entry (of any type)
 */
public record ClientIdentity(
    List<String> dnsNames, List<String> uris, String commonName, boolean hasSan, String spkiPin) {

  /** The forms a policy entry can match, by the prefix it is written with. */
  public enum Form {
    DNS("dns"),
    URI("uri"),
    CN("cn"),
    SPKI_SHA256("spki-sha256");

    private final String prefix;

    Form(String prefix) {
      this.prefix = prefix;
    }

    public String prefix() {
      return prefix;
    }

    /** The form a policy entry names by its prefix, if it starts with one. */
    public static Optional<Form> ofEntry(String entry) {
      for (Form f : values()) {
        if (entry.startsWith(f.prefix + ":")) {
          return Optional.of(f);
        }
      }
      return Optional.empty();
    }
  }

  /** One name of the caller in one form; {@link #toString()} is {@code form:value}. */
  public record Name(Form form, String value) {
    @Override
    public String toString() {
      return form.prefix() + ":" + value;
    }
  }

  public ClientIdentity {
    dnsNames = List.copyOf(dnsNames);
    uris = List.copyOf(uris);
  }

  public static ClientIdentity of(X509Certificate cert) {
    List<String> dns = new ArrayList<>();
    List<String> uris = new ArrayList<>();
    boolean hasSan = false;
    try {
      Collection<List<?>> sans = cert.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          hasSan = true;
          int type = (Integer) san.get(0);
          if (type == 2) { // dNSName
            dns.add(String.valueOf(san.get(1)));
          } else if (type == 6) { // uniformResourceIdentifier
            uris.add(String.valueOf(san.get(1)));
          }
        }
      }
    } catch (CertificateParsingException e) {
      // An unparseable SAN extension names nobody, and it still rules the CN out: the pin remains.
      hasSan = true;
    }
    String pin = HexFormat.of().formatHex(sha256(cert.getPublicKey().getEncoded()));
    return new ClientIdentity(dns, uris, commonName(cert), hasSan, pin);
  }

  /**
   * The caller's main name: its first DNS SAN, else its first URI SAN, else (no SAN at all) its CN,
   * else its SPKI pin.
   */
  public Name primary() {
    if (!dnsNames.isEmpty()) {
      return new Name(Form.DNS, dnsNames.get(0));
    }
    if (!uris.isEmpty()) {
      return new Name(Form.URI, uris.get(0));
    }
    if (!hasSan && commonName != null) {
      return new Name(Form.CN, commonName);
    }
    return new Name(Form.SPKI_SHA256, spkiPin);
  }

  /**
   * The caller's name that a policy rule's {@code client} entry matches, if any: {@code *} matches
   * as {@link #primary()}.
   */
  public Optional<Name> match(String entry) {
    if (entry.equals("*")) {
      return Optional.of(primary());
    }
    Optional<Form> form = Form.ofEntry(entry);
    if (form.isEmpty()) {
      return dns(entry).or(() -> cn(entry));
    }
    String value = entry.substring(form.get().prefix().length() + 1);
    return switch (form.get()) {
      case DNS -> dns(value);
      case URI -> uris.contains(value) ? Optional.of(new Name(Form.URI, value)) : Optional.empty();
      case CN -> cn(value);
      case SPKI_SHA256 ->
          spkiPin.equalsIgnoreCase(value)
              ? Optional.of(new Name(Form.SPKI_SHA256, spkiPin))
              : Optional.empty();
    };
  }

  /** Whether a policy rule's {@code client} entry names this caller. */
  public boolean matches(String entry) {
    return match(entry).isPresent();
  }

  private Optional<Name> dns(String name) {
    return dnsNames.stream()
        .filter(d -> asciiEqualsIgnoreCase(d, name))
        .findFirst()
        .map(d -> new Name(Form.DNS, d));
  }

  private Optional<Name> cn(String name) {
    return !hasSan && name.equals(commonName)
        ? Optional.of(new Name(Form.CN, commonName))
        : Optional.empty();
  }

  /** DNS case folding is ASCII only (RFC 4343): no Unicode folding such as K/KELVIN SIGN. */
  static boolean asciiEqualsIgnoreCase(String a, String b) {
    if (a.length() != b.length()) {
      return false;
    }
    for (int i = 0; i < a.length(); i++) {
      if (asciiLower(a.charAt(i)) != asciiLower(b.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static char asciiLower(char c) {
    return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
  }

  private static String commonName(X509Certificate cert) {
    try {
      for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          return String.valueOf(rdn.getValue());
        }
      }
    } catch (InvalidNameException e) {
      return null;
    }
    return null;
  }

  private static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
