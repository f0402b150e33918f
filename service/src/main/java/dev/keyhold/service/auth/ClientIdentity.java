package dev.keyhold.service.auth;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Who is calling, from the client certificate of the mTLS session: its SANs (DNS and URI), its
 * subject CN and the SHA-256 pin of its public key. {@link #name()} is what the audit log records.
 */
public record ClientIdentity(String name, List<String> names, String spkiPin) {

  public ClientIdentity {
    names = List.copyOf(names);
  }

  public static ClientIdentity of(X509Certificate cert) {
    List<String> names = new ArrayList<>();
    try {
      Collection<List<?>> sans = cert.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          int type = (Integer) san.get(0);
          if (type == 2 || type == 6) { // dNSName, uniformResourceIdentifier
            names.add(String.valueOf(san.get(1)));
          }
        }
      }
    } catch (CertificateParsingException e) {
      // An unparseable SAN extension contributes no names; the CN and pin still identify the
      // caller.
    }
    String cn = commonName(cert);
    if (cn != null) {
      names.add(cn);
    }
    String pin =
        "spki-sha256:" + HexFormat.of().formatHex(sha256(cert.getPublicKey().getEncoded()));
    String primary = names.isEmpty() ? pin : names.get(0);
    return new ClientIdentity(primary, names, pin);
  }

  /** Whether a policy rule's {@code client} value names this caller. */
  public boolean matches(String client) {
    return client.equals("*")
        || client.equalsIgnoreCase(spkiPin)
        || names.stream().anyMatch(client::equalsIgnoreCase);
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
