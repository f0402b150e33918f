package dev.keyhold.client.netty;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyType;
import java.lang.reflect.Constructor;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The per-ClientHello key choice, without any TLS: first usable key in the caller's order. */
class KeyholdServerTlsTest {

  private static KeyholdServerTls chooser(OffloadedKey... keys) throws Exception {
    Constructor<KeyholdServerTls> c =
        KeyholdServerTls.class.getDeclaredConstructor(
            List.class, List.class, ClientHelloVersions.class);
    c.setAccessible(true);
    return c.newInstance(List.of(keys), List.of(), new ClientHelloVersions());
  }

  private static OffloadedKey key(String name, KeyType type, String curve) throws Exception {
    java.security.KeyPairGenerator g =
        java.security.KeyPairGenerator.getInstance(type == KeyType.KEY_TYPE_EC ? "EC" : "RSA");
    var kp = g.generateKeyPair();
    var cert = SelfSigned.certificate(kp, "CN=" + name);
    KeyInfo info =
        KeyInfo.newBuilder()
            .setName(name)
            .setKeyType(type)
            .setKeyBits(type == KeyType.KEY_TYPE_EC ? 256 : 2048)
            .setCurve(curve)
            .setSpkiDer(ByteString.copyFrom(kp.getPublic().getEncoded()))
            .build();
    return OffloadedKey.of(info, cert);
  }

  @Test
  void choose_byClientHello_firstUsableKey() throws Exception {
    OffloadedKey rsa = key("rsa", KeyType.KEY_TYPE_RSA, "");
    OffloadedKey ec = key("ec", KeyType.KEY_TYPE_EC, "secp256r1");
    KeyholdServerTls rsaFirst = chooser(rsa, ec);
    KeyholdServerTls ecFirst = chooser(ec, rsa);
    ClientHelloSummary tls13Both =
        new ClientHelloSummary(0x0303, true, true, true, Set.of(0x0804, 0x0403));
    ClientHelloSummary tls13EcdsaOnly =
        new ClientHelloSummary(0x0303, true, false, false, Set.of(0x0403));
    ClientHelloSummary tls12RsaOnly =
        new ClientHelloSummary(0x0303, false, false, true, Set.of(0x0401, 0x0403));
    ClientHelloSummary tls12EcdsaOnly =
        new ClientHelloSummary(0x0303, false, true, false, Set.of(0x0401, 0x0403));
    assertThat(rsaFirst.choose(tls13Both)).isZero();
    assertThat(ecFirst.choose(tls13Both)).isZero();
    assertThat(rsaFirst.choose(tls13EcdsaOnly)).isEqualTo(1);
    assertThat(ecFirst.choose(tls12RsaOnly)).isEqualTo(1);
    assertThat(rsaFirst.choose(tls12EcdsaOnly)).isEqualTo(1);
    assertThat(rsaFirst.choose(null)).isZero();
  }
}
