package dev.keyhold.client.netty;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Test-time self-signed certificates, so nothing committed expires. */
final class SelfSigned {
  private SelfSigned() {}

  static X509Certificate certificate(KeyPair kp, String dn) throws Exception {
    X500Name name = new X500Name(dn);
    String alg = kp.getPrivate().getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
    var holder =
        new JcaX509v3CertificateBuilder(
                name,
                BigInteger.valueOf(System.nanoTime()),
                new Date(),
                new Date(System.currentTimeMillis() + 86_400_000L),
                name,
                kp.getPublic())
            .build(new JcaContentSignerBuilder(alg).build(kp.getPrivate()));
    return new JcaX509CertificateConverter().getCertificate(holder);
  }
}
