package dev.keyhold.client.keys;

import com.google.protobuf.ByteString;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/** Reads X.509 certificates: PEM (or DER) files, and the DER list a {@code KeyInfo} carries. */
public final class Certificates {
  private Certificates() {}

  /**
   * Every certificate in a PEM (or DER) file, in file order (a chain: leaf first). An empty list if
   * the file holds none; callers decide whether that is an error.
   *
   * @throws IOException if the file cannot be read
   * @throws CertificateException if a certificate in it cannot be parsed
   */
  public static List<X509Certificate> readPem(Path pem) throws IOException, CertificateException {
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    try (InputStream in = Files.newInputStream(pem)) {
      List<X509Certificate> out = new ArrayList<>();
      for (Certificate c : cf.generateCertificates(in)) {
        out.add((X509Certificate) c);
      }
      return out;
    }
  }

  /** The certificates of DER encodings, in order. */
  public static X509Certificate[] fromDer(List<ByteString> ders) throws CertificateException {
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    X509Certificate[] out = new X509Certificate[ders.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] =
          (X509Certificate)
              cf.generateCertificate(new ByteArrayInputStream(ders.get(i).toByteArray()));
    }
    return out;
  }
}
