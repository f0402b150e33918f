package dev.keyhold.client.netty;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.Test;

class KeyholdAsyncPrivateKeyMethodTest {

  private static SSLSession sessionWith(String protocol) {
    return (SSLSession)
        Proxy.newProxyInstance(
            SSLSession.class.getClassLoader(),
            new Class<?>[] {SSLSession.class},
            (p, m, a) -> m.getName().equals("getProtocol") ? protocol : null);
  }

  @Test
  void clientVersion_recordedFromClientHello_wins() {
    assertThat(KeyholdAsyncPrivateKeyMethod.clientVersion(0x0301, sessionWith("TLSv1.2")))
        .isEqualTo(0x0301);
    // Out of range (a non-conforming client): fall back to the negotiated version.
    assertThat(KeyholdAsyncPrivateKeyMethod.clientVersion(0x0304, sessionWith("TLSv1.2")))
        .isEqualTo(0x0303);
  }

  @Test
  void clientVersion_tls12_is0x0303() {
    assertThat(KeyholdAsyncPrivateKeyMethod.clientVersion(null, sessionWith("TLSv1.2")))
        .isEqualTo(0x0303);
  }

  @Test
  void clientVersion_olderProtocols_theirWireVersion() {
    assertThat(KeyholdAsyncPrivateKeyMethod.clientVersion(null, sessionWith("TLSv1.1")))
        .isEqualTo(0x0302);
    assertThat(KeyholdAsyncPrivateKeyMethod.clientVersion(null, sessionWith("TLSv1")))
        .isEqualTo(0x0301);
  }

  @Test
  void clientVersion_unknown_defaultsToTls12() {
    assertThat(KeyholdAsyncPrivateKeyMethod.clientVersion(null, null)).isEqualTo(0x0303);
    assertThat(KeyholdAsyncPrivateKeyMethod.clientVersion(null, sessionWith("NONE")))
        .isEqualTo(0x0303);
  }
}
