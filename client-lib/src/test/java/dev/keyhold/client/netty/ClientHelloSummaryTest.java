package dev.keyhold.client.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.HexFormat;
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

  // Hand-built bodies. Each sits in a larger buffer whose bytes past the writer index hold a stale
  // hello tail (TLS 1.3 offered, ECDSA suites, ecdsa_secp256r1_sha256): nothing of it may show.

  private static final String STALE = "002b0003020304" + "000d000400020403" + "c02bc02c1301";

  /** client_version 3,3, zero random, empty session_id, then {@code rest} (hex) as given. */
  private static ByteBuf body(String rest) {
    byte[] tail = HexFormat.of().parseHex(rest);
    ByteBuf b = Unpooled.buffer(7 + 35 + tail.length + 64);
    b.writeZero(7).readerIndex(7); // the body need not start at index 0
    b.writeShort(0x0303).writeZero(32).writeByte(0).writeBytes(tail);
    int w = b.writerIndex();
    byte[] stale = HexFormat.of().parseHex(STALE.repeat(3));
    b.setBytes(w, stale, 0, Math.min(stale.length, b.capacity() - w));
    return b;
  }

  /** suites (hex, with length), one null compression method, and the extensions (hex) if any. */
  private static ByteBuf hello(String suites, String... extensions) {
    String ext = String.join("", extensions);
    return body(
        lenHex2(suites) + suites + "0100" + (extensions.length == 0 ? "" : lenHex2(ext) + ext));
  }

  private static String ext(int type, String dataHex) {
    return String.format("%04x", type) + lenHex2(dataHex) + dataHex;
  }

  private static String lenHex2(String hex) {
    return String.format("%04x", hex.length() / 2);
  }

  private static final int SV = 0x002b;
  private static final int SIG_ALGS = 0x000d;

  @Test
  void parse_handBuilt_fieldsAndIndicesKept() {
    ByteBuf b = hello("1301c02b002f", ext(SV, "020304"), ext(SIG_ALGS, "000408040403"));
    int r = b.readerIndex();
    int w = b.writerIndex();
    ClientHelloSummary s = ClientHelloSummary.parse(b);
    assertThat(s.clientVersion()).isEqualTo(0x0303);
    assertThat(s.tls13()).isTrue();
    assertThat(s.ecdsaSuites()).isTrue();
    assertThat(s.rsaSuites()).isTrue();
    assertThat(s.signatureSchemes()).containsExactlyInAnyOrder(0x0804, 0x0403);
    assertThat(b.readerIndex()).isEqualTo(r);
    assertThat(b.writerIndex()).isEqualTo(w);
  }

  @Test
  void parse_noExtensions_tls12SummaryNotNull() {
    ClientHelloSummary s = ClientHelloSummary.parse(hello("c02f"));
    assertThat(s).isNotNull();
    assertThat(s.tls13()).isFalse();
    assertThat(s.rsaSuites()).isTrue();
    assertThat(s.ecdsaSuites()).isFalse();
    assertThat(s.signatureSchemes()).isEmpty();
    assertThat(s.offersScheme(0x0403)).isFalse();
  }

  @Test
  void parse_versionOtherThanTls12_reported() {
    ByteBuf b = hello("002f");
    b.setShort(b.readerIndex(), 0x0301);
    assertThat(ClientHelloSummary.parse(b).clientVersion()).isEqualTo(0x0301);
  }

  @Test
  void parse_tls13InSupportedVersionsButNoTls13Suite_notTls13() {
    assertThat(ClientHelloSummary.parse(hello("c02b", ext(SV, "020304"))).tls13()).isFalse();
  }

  @Test
  void parse_tls13SuiteButOnlyTls12Versions_notTls13() {
    assertThat(ClientHelloSummary.parse(hello("1301", ext(SV, "020303"))).tls13()).isFalse();
    assertThat(ClientHelloSummary.parse(hello("1301")).tls13()).isFalse();
  }

  @Test
  void parse_supportedVersionsLast_stillRead() {
    ClientHelloSummary s =
        ClientHelloSummary.parse(hello("1301", ext(0x0000, "0000"), ext(SV, "0403030304")));
    assertThat(s.tls13()).isTrue();
  }

  @Test
  void parse_oddSuitesLength_lastByteIgnored() {
    // 00 2f is RSA; a lone 13 must not pair with the compression length byte (01) into 0x1301.
    ClientHelloSummary s =
        ClientHelloSummary.parse(body("0003002f13" + "0100" + "0007" + ext(SV, "020304")));
    assertThat(s.rsaSuites()).isTrue();
    assertThat(s.tls13()).isFalse();
    // ... nor c0 with a compression length of 09 into 0xc009 (ECDSA).
    ClientHelloSummary e = ClientHelloSummary.parse(body("0003002fc0" + "09" + "00".repeat(9)));
    assertThat(e.ecdsaSuites()).isFalse();
  }

  @Test
  void parse_suitesPastEnd_null() {
    assertThat(ClientHelloSummary.parse(body("0004002f"))).isNull();
  }

  @Test
  void parse_severalCompressionMethods_extensionsStillFound() {
    ClientHelloSummary s =
        ClientHelloSummary.parse(body("00021301" + "03000102" + "0007" + ext(SV, "020304")));
    assertThat(s.tls13()).isTrue();
  }

  @Test
  void parse_extensionsShorterThanBody_restIgnored() {
    // The extensions block declares only the first extension; a supported_versions after it is
    // not part of the hello.
    String first = ext(0x0000, "0000");
    ClientHelloSummary s =
        ClientHelloSummary.parse(
            body("00021301" + "0100" + lenHex2(first) + first + ext(SV, "020304")));
    assertThat(s.tls13()).isFalse();
  }

  @Test
  void parse_extensionsLongerThanBody_readUpToTheEnd() {
    ClientHelloSummary s =
        ClientHelloSummary.parse(body("00021301" + "0100" + "0100" + ext(SV, "020304")));
    assertThat(s).isNotNull();
    assertThat(s.tls13()).isTrue();
  }

  @Test
  void parse_lastExtensionRunsPastTheEnd_null() {
    assertThat(ClientHelloSummary.parse(body("00021301" + "0100" + "0008" + "002b0004"))).isNull();
    assertThat(ClientHelloSummary.parse(body("00021301" + "0100" + "0008" + "000d000600")))
        .isNull();
  }

  @Test
  void parse_signatureAlgorithmsOnlyFromThatExtension() {
    // supported_groups (0x000a) has the same shape; its x25519/secp256r1 are not schemes.
    ClientHelloSummary s =
        ClientHelloSummary.parse(
            hello("c02b", ext(0x000a, "0004001d0017"), ext(SIG_ALGS, "00020804")));
    assertThat(s.signatureSchemes()).containsExactly(0x0804);
  }

  @Test
  void parse_signatureListShorterThanExtension_onlyTheList() {
    // list length 3 (odd): one whole scheme; the rest of the extension is not a scheme.
    ClientHelloSummary s = ClientHelloSummary.parse(hello("c02b", ext(SIG_ALGS, "000308040403")));
    assertThat(s.signatureSchemes()).containsExactly(0x0804);
  }

  @Test
  void parse_signatureListLongerThanExtension_stopsAtTheExtension() {
    // extension length 5 holds one scheme and a byte; the next extension's type is not a scheme.
    ClientHelloSummary s =
        ClientHelloSummary.parse(hello("c02b", ext(SIG_ALGS, "0004080404"), ext(0x0000, "")));
    assertThat(s.signatureSchemes()).containsExactly(0x0804);
    ClientHelloSummary even =
        ClientHelloSummary.parse(hello("c02b", ext(SIG_ALGS, "00040804"), ext(0x0403, "")));
    assertThat(even.signatureSchemes()).containsExactly(0x0804);
  }

  @Test
  void parse_signatureAlgorithmsTooShort_noSchemes() {
    ClientHelloSummary s =
        ClientHelloSummary.parse(hello("c02b", ext(SIG_ALGS, "00"), ext(0x0804, "")));
    assertThat(s.signatureSchemes()).isEmpty();
  }

  @Test
  void parse_versionListShorterThanExtension_onlyTheList() {
    ClientHelloSummary s = ClientHelloSummary.parse(hello("1301", ext(SV, "0203030304")));
    assertThat(s.tls13()).isFalse();
  }

  @Test
  void parse_versionListLongerThanExtension_stopsAtTheExtension() {
    // extension length 4: one version and a byte; 03 + the next type's 04 is not TLS 1.3.
    assertThat(
            ClientHelloSummary.parse(hello("1301", ext(SV, "04030303"), ext(0x0400, ""))).tls13())
        .isFalse();
    // extension length 3, list length 4: the next extension's type 0x0304 is not a version.
    assertThat(ClientHelloSummary.parse(hello("1301", ext(SV, "040303"), ext(0x0304, ""))).tls13())
        .isFalse();
  }

  @Test
  void parse_emptyVersionsExtension_notTls13() {
    assertThat(ClientHelloSummary.parse(hello("1301", ext(SV, ""), ext(0x0304, ""))).tls13())
        .isFalse();
  }
}
