package dev.keyhold.config;

import java.nio.file.Path;

/**
 * The service's own mTLS identity and the CA that client certificates must chain to. The service's
 * TLS key is an ordinary PEM file: it protects the channel, it is not one of the keys Keyhold
 * serves.
 *
 * @param certChain PEM certificate chain of the service, leaf first
 * @param privateKey PEM (PKCS#8) private key of the service
 * @param clientCa PEM bundle of CAs that issue client certificates
 */
public record TlsConfig(Path certChain, Path privateKey, Path clientCa) {
  public TlsConfig {
    if (certChain == null || privateKey == null || clientCa == null) {
      throw new ConfigException(
          "tls.certChain, tls.privateKey and tls.clientCa are all required: mTLS is not optional");
    }
  }
}
