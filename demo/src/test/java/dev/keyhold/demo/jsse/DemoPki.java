package dev.keyhold.demo.jsse;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.testing.TestClients;
import dev.keyhold.service.setup.LocalPki;
import dev.keyhold.service.testing.TestKeyholdService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.List;

/**
 * Test PKI around the test service: CA-signed certificates (SAN localhost) for keys that live in
 * the HSM, written as PEM chains, so real TLS peers can verify the demo server.
 */
final class DemoPki {
  private DemoPki() {}

  static KeyholdClient client(TestKeyholdService svc, String name, Duration deadline) {
    return KeyholdClient.create(
        TestClients.config(svc, name).deadline(deadline).maxAttempts(2).build());
  }

  /** Writes leaf + CA for the HSM key {@code keyName} into {@code dir}; returns the file. */
  static Path chainFor(
      TestKeyholdService svc, KeyholdClient client, String keyName, boolean clientCert, Path dir)
      throws Exception {
    LocalPki pki = svc.pki().loadOrCreateCa();
    PublicKey pub = publicKey(client, keyName);
    X509Certificate leaf =
        pki.issueFor(
            clientCert ? "hsm-" + keyName : "localhost", pub, List.of("localhost"), clientCert);
    Path file = dir.resolve(keyName + (clientCert ? "-client" : "-server") + "-chain.pem");
    Files.writeString(file, LocalPki.pem(leaf, pki.caCertificate()));
    return file;
  }

  static PublicKey publicKey(KeyholdClient client, String keyName) throws Exception {
    var info = client.getKey(keyName);
    String alg = info.getKeyType() == dev.keyhold.proto.v1.KeyType.KEY_TYPE_RSA ? "RSA" : "EC";
    return KeyFactory.getInstance(alg)
        .generatePublic(new X509EncodedKeySpec(info.getSpkiDer().toByteArray()));
  }

  /** A server certificate and key (files) with a local key, for openssl s_server. */
  static Path[] localServer(TestKeyholdService svc, Path dir) throws Exception {
    LocalPki pki = svc.pki().loadOrCreateCa();
    LocalPki.Issued issued =
        pki.issueServer("localhost", List.of("localhost"), List.of("127.0.0.1"));
    Path cert = dir.resolve("s_server.pem");
    Path key = dir.resolve("s_server-key.pem");
    Files.writeString(cert, LocalPki.pem(issued.certificate(), pki.caCertificate()));
    LocalPki.writePrivate(key, LocalPki.pem(issued.privateKey()));
    return new Path[] {cert, key};
  }
}
