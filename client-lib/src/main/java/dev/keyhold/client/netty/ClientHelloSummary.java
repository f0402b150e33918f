package dev.keyhold.client.netty;

import io.netty.buffer.ByteBuf;
import java.util.Set;

/**
 * What Keyhold needs from a ClientHello (RFC 5246 §7.4.1.2, RFC 8446 §4.1.2): its {@code
 * client_version}, whether TLS 1.3 is offered, and which TLS 1.2 authentication kinds its cipher
 * suites allow. Parsed with bounds checks; {@link #parse} returns null for anything malformed.
 */
record ClientHelloSummary(
    int clientVersion,
    boolean tls13,
    boolean ecdsaSuites,
    boolean rsaSuites,
    Set<Integer> signatureSchemes) {
  private static final int SIGNATURE_ALGORITHMS = 0x000d;
  private static final int SUPPORTED_VERSIONS = 0x002b;

  ClientHelloSummary {
    signatureSchemes = Set.copyOf(signatureSchemes);
  }

  /** Whether the client listed this TLS SignatureScheme code point (false if it sent no list). */
  boolean offersScheme(int codePoint) {
    return signatureSchemes.contains(codePoint);
  }

  /** TLS 1.2 suites authenticated by an ECDSA certificate (as BoringSSL implements them). */
  private static final Set<Integer> ECDSA =
      Set.of(0xC009, 0xC00A, 0xC023, 0xC024, 0xC02B, 0xC02C, 0xCCA9);

  /** TLS 1.2 suites authenticated by an RSA certificate: ECDHE_RSA and plain RSA key exchange. */
  private static final Set<Integer> RSA =
      Set.of(
          0xC013, 0xC014, 0xC027, 0xC028, 0xC02F, 0xC030, 0xCCA8, 0x000A, 0x002F, 0x0035, 0x003C,
          0x003D, 0x009C, 0x009D);

  /**
   * Parses the ClientHello body (from {@code client_version} on), as Netty's {@code
   * SslClientHelloHandler} hands it over; does not move the buffer's indices.
   */
  static ClientHelloSummary parse(ByteBuf body) {
    // Only the readable bytes are the hello: absolute getters would read on past the writer index
    // up to the capacity, so parse a slice whose capacity is exactly the hello.
    ByteBuf in = body.slice();
    try {
      int p = in.readerIndex();
      int end = in.writerIndex();
      if (end - p < 2 + 32 + 1) {
        return null;
      }
      int version = in.getUnsignedShort(p);
      p += 2 + 32;
      p += 1 + in.getUnsignedByte(p); // session_id
      int suitesLen = in.getUnsignedShort(p);
      p += 2;
      if (p + suitesLen > end) {
        return null;
      }
      boolean ecdsa = false;
      boolean rsa = false;
      boolean tls13Suite = false;
      for (int i = 0; i + 1 < suitesLen; i += 2) {
        int s = in.getUnsignedShort(p + i);
        ecdsa |= ECDSA.contains(s);
        rsa |= RSA.contains(s);
        tls13Suite |= (s & 0xff00) == 0x1300;
      }
      p += suitesLen;
      p += 1 + in.getUnsignedByte(p); // compression_methods
      boolean tls13 = false;
      java.util.Set<Integer> schemes = new java.util.HashSet<>();
      if (p + 2 <= end) {
        int extEnd = Math.min(end, p + 2 + in.getUnsignedShort(p));
        p += 2;
        while (p + 4 <= extEnd) {
          int type = in.getUnsignedShort(p);
          int len = in.getUnsignedShort(p + 2);
          p += 4;
          if (type == SIGNATURE_ALGORITHMS && len >= 2) {
            int listLen = in.getUnsignedShort(p);
            for (int i = 2; i + 1 < 2 + listLen && i + 1 < len; i += 2) {
              schemes.add(in.getUnsignedShort(p + i));
            }
          }
          if (type == SUPPORTED_VERSIONS && len >= 1) {
            int listLen = in.getUnsignedByte(p);
            for (int i = 1; i + 1 <= listLen && i + 1 < len; i += 2) {
              tls13 |= in.getUnsignedShort(p + i) == 0x0304;
            }
          }
          p += len;
        }
      }
      return new ClientHelloSummary(version, tls13 && tls13Suite, ecdsa, rsa, schemes);
    } catch (IndexOutOfBoundsException e) {
      return null;
    }
  }
}
