package dev.keyhold.client.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;

class ClientHelloSummaryTest {

  /**
   * A real ClientHello body from the JDK's TLS client, with the record and handshake headers cut
   * off.
   */
  private static ByteBuf clientHello(String[] protocols, String[] suites) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, null, null);
    SSLEngine e = ctx.createSSLEngine("localhost", 443);
    e.setUseClientMode(true);
    e.setEnabledProtocols(protocols);
    if (suites != null) {
      e.setEnabledCipherSuites(suites);
    }
    ByteBuffer out = ByteBuffer.allocate(e.getSession().getPacketBufferSize());
    e.wrap(ByteBuffer.allocate(0), out);
    out.flip();
    ByteBuf b = Unpooled.wrappedBuffer(out);
    return b.slice(5 + 4, b.readableBytes() - 9);
  }

  @Test
  void parse_jdkTls13Client_tls13AndBothKinds() throws Exception {
    ClientHelloSummary s =
        ClientHelloSummary.parse(clientHello(new String[] {"TLSv1.3", "TLSv1.2"}, null));
    assertThat(s).isNotNull();
    assertThat(s.clientVersion()).isEqualTo(0x0303);
    assertThat(s.tls13()).isTrue();
    assertThat(s.ecdsaSuites()).isTrue();
    assertThat(s.rsaSuites()).isTrue();
    assertThat(s.offersScheme(0x0804)).isTrue(); // rsa_pss_rsae_sha256
    assertThat(s.offersScheme(0x0403)).isTrue(); // ecdsa_secp256r1_sha256
  }

  @Test
  void parse_tls12RsaKeyExchangeOnly_rsaOnly() throws Exception {
    ClientHelloSummary s =
        ClientHelloSummary.parse(
            clientHello(
                new String[] {"TLSv1.2"}, new String[] {"TLS_RSA_WITH_AES_128_GCM_SHA256"}));
    assertThat(s.clientVersion()).isEqualTo(0x0303);
    assertThat(s.tls13()).isFalse();
    assertThat(s.ecdsaSuites()).isFalse();
    assertThat(s.rsaSuites()).isTrue();
  }

  @Test
  void parse_tls12EcdsaOnly_ecdsaOnly() throws Exception {
    ClientHelloSummary s =
        ClientHelloSummary.parse(
            clientHello(
                new String[] {"TLSv1.2"},
                new String[] {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}));
    assertThat(s.tls13()).isFalse();
    assertThat(s.ecdsaSuites()).isTrue();
    assertThat(s.rsaSuites()).isFalse();
  }

  @Test
  void parse_truncated_null() {
    assertThat(ClientHelloSummary.parse(Unpooled.wrappedBuffer(new byte[] {3, 3, 0}))).isNull();
    byte[] cut = new byte[40];
    cut[34] = 0; // empty session id
    cut[35] = (byte) 0xff; // cipher suites longer than the buffer
    assertThat(ClientHelloSummary.parse(Unpooled.wrappedBuffer(cut))).isNull();
  }
}
