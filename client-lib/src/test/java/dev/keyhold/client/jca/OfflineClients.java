package dev.keyhold.client.jca;

import com.google.protobuf.ByteString;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.rpc.KeyholdClientConfig;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyType;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Keyhold clients and key handles for unit tests, with no service behind them: the channel connects
 * lazily, so a client aimed at a closed port builds fine and fails every call with UNAVAILABLE.
 */
public final class OfflineClients {
  private OfflineClients() {}

  /** A client for 127.0.0.1:1 (nothing listens there), with throwaway mTLS files in {@code dir}. */
  public static KeyholdClient unreachable(Path dir) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair kp = g.generateKeyPair();
    X500Name name = new X500Name("CN=offline");
    var cert =
        new JcaX509CertificateConverter()
            .getCertificate(
                new JcaX509v3CertificateBuilder(
                        name,
                        BigInteger.ONE,
                        new Date(),
                        new Date(System.currentTimeMillis() + 86_400_000L),
                        name,
                        kp.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
    Path certFile = dir.resolve("offline.pem");
    Path keyFile = dir.resolve("offline-key.pem");
    Files.writeString(certFile, pem(cert));
    Files.writeString(keyFile, pem(new JcaPKCS8Generator(kp.getPrivate(), null)));
    return KeyholdClient.create(
        KeyholdClientConfig.builder()
            .target("127.0.0.1:1")
            .trustedCa(certFile)
            .clientCertificate(certFile, keyFile)
            .deadline(Duration.ofSeconds(2))
            .maxAttempts(2)
            .build());
  }

  /** A self-signed certificate for a key pair, with the given subject. */
  public static java.security.cert.X509Certificate selfSigned(KeyPair kp, String dn)
      throws Exception {
    X500Name name = new X500Name(dn);
    String alg = kp.getPublic().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
    return new JcaX509CertificateConverter()
        .getCertificate(
            new JcaX509v3CertificateBuilder(
                    name,
                    BigInteger.valueOf(System.nanoTime()),
                    new Date(),
                    new Date(System.currentTimeMillis() + 86_400_000L),
                    name,
                    kp.getPublic())
                .build(new JcaContentSignerBuilder(alg).build(kp.getPrivate())));
  }

  private static String pem(Object o) throws Exception {
    StringWriter sw = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
      w.writeObject(o);
    }
    return sw.toString();
  }

  public static KeyPair rsa(int bits) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(bits);
    return g.generateKeyPair();
  }

  public static KeyPair ec(String curve) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec(curve));
    return g.generateKeyPair();
  }

  /** A handle as the service would describe a key with this public key. */
  public static KeyholdPrivateKey handle(
      KeyholdClient client, String name, PublicKey pub, String curve) throws Exception {
    KeyType type = pub.getAlgorithm().equals("RSA") ? KeyType.KEY_TYPE_RSA : KeyType.KEY_TYPE_EC;
    int bits =
        type == KeyType.KEY_TYPE_RSA
            ? ((java.security.interfaces.RSAPublicKey) pub).getModulus().bitLength()
            : ((java.security.interfaces.ECPublicKey) pub)
                .getParams()
                .getCurve()
                .getField()
                .getFieldSize();
    KeyInfo.Builder info =
        KeyInfo.newBuilder()
            .setName(name)
            .setSpkiDer(ByteString.copyFrom(pub.getEncoded()))
            .setKeyType(type)
            .setKeyBits(bits)
            .setCurve(curve == null ? "" : curve);
    for (SignatureScheme s : SignatureScheme.values()) {
      if (s.fits(type, bits, curve == null ? "" : curve)) {
        info.addSchemes(s.codePoint());
      }
    }
    return KeyholdPrivateKey.of(client, info.build());
  }
}
