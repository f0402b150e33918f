package dev.keyhold.demo.jsse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.client.rpc.KeyholdException;
import io.grpc.Status;
import java.security.SignatureException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

class HandshakeFailuresTest {
  private static SSLHandshakeException handshake(String msg, Throwable cause) {
    SSLHandshakeException e = new SSLHandshakeException(msg);
    e.initCause(cause);
    return e;
  }

  @Test
  void describe_keyholdDown_saysUnavailableFirst() {
    KeyholdException ke =
        new KeyholdException(
            Status.Code.UNAVAILABLE, "", "Keyhold UNAVAILABLE: io exception", null);
    SSLHandshakeException e =
        handshake(
            "Cannot produce CertificateVerify signature",
            new SignatureException(
                "Keyhold rsa_pss_rsae_sha256 signature with key 'rsa2048' failed", ke));
    assertThat(HandshakeFailures.causedByKeyhold(e)).isTrue();
    assertThat(HandshakeFailures.describe(e))
        .isEqualTo(
            "Keyhold unavailable (Keyhold rsa_pss_rsae_sha256 signature with key 'rsa2048' failed):"
                + " Keyhold UNAVAILABLE: io exception; TLS: Cannot produce CertificateVerify"
                + " signature");
  }

  @Test
  void describe_keyholdRefused_saysRefused() {
    KeyholdException ke =
        new KeyholdException(
            Status.Code.NOT_FOUND, "KEY_NOT_FOUND", "Keyhold NOT_FOUND KEY_NOT_FOUND: no", null);
    assertThat(HandshakeFailures.describe(handshake("x", ke)))
        .startsWith("Keyhold refused: Keyhold NOT_FOUND");
  }

  @Test
  void describe_otherFailure_classAndMessage() {
    SSLHandshakeException e = new SSLHandshakeException("Empty client certificate chain");
    assertThat(HandshakeFailures.causedByKeyhold(e)).isFalse();
    assertThat(HandshakeFailures.peerLeft(e)).isFalse();
    assertThat(HandshakeFailures.describe(e))
        .isEqualTo("SSLHandshakeException: Empty client certificate chain");
  }

  @Test
  void peerLeft_probeConnection_true() {
    assertThat(
            HandshakeFailures.peerLeft(
                handshake(
                    "Remote host terminated the handshake",
                    new java.io.EOFException("SSL peer shut down incorrectly"))))
        .isTrue();
  }
}
