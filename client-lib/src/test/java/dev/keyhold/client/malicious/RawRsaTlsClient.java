package dev.keyhold.client.malicious;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A deliberately hostile TLS 1.2 client for {@code TLS_RSA_WITH_AES_128_GCM_SHA256}, written from
 * RFC 5246 so that every byte of the ClientKeyExchange is ours: it sends the encrypted pre-master
 * of a {@link Variant} (built with raw RSA on the server's public key, or not encrypted at all),
 * then ChangeCipherSpec and a Finished computed from what it believes the pre-master is, and
 * reports what the server answered. A server that decrypts well and checks in constant time answers
 * every invalid variant identically: its random substitute pre-master makes our Finished fail to
 * decrypt, so {@code bad_record_mac} after our Finished.
 */
final class RawRsaTlsClient {
  static final int TLS12 = 0x0303;
  private static final int SUITE = 0x009C; // TLS_RSA_WITH_AES_128_GCM_SHA256
  private static final int SCSV = 0x00FF; // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
  private static final SecureRandom RANDOM = new SecureRandom();

  /** The encrypted pre-masters the client can send. */
  enum Variant {
    VALID,
    WRONG_FIRST_BYTE,
    WRONG_BLOCK_TYPE,
    NO_ZERO_SEPARATOR,
    SEPARATOR_IN_FIRST_8_PADDING_BYTES,
    PLAINTEXT_LENGTH_47,
    PLAINTEXT_LENGTH_49,
    WRONG_VERSION,
    ALL_ZEROS,
    EQUAL_TO_MODULUS,
    SAME_LENGTH_GARBAGE,
    CIPHERTEXT_ONE_BYTE_SHORT,
    CIPHERTEXT_ONE_BYTE_LONG,
    CIPHERTEXT_HALF_LENGTH,
    CIPHERTEXT_EMPTY
  }

  /**
   * What the server did after our ClientKeyExchange, ChangeCipherSpec and Finished: {@code
   * completed} (its ChangeCipherSpec and a Finished that decrypted and verified), or the alert it
   * sent ({@code level}, {@code description}), or {@code closed} without an alert.
   *
   * @param serverBytesAfterHelloDone bytes the server sent after ServerHelloDone before its answer
   *     (the "point": anything but 0 would mean it spoke before reading our whole flight)
   */
  record Outcome(String kind, int level, int description, int serverBytesAfterHelloDone) {
    static Outcome completed() {
      return new Outcome("completed", 0, 0, 0);
    }

    @Override
    public String toString() {
      return switch (kind) {
        case "alert" -> "alert " + (level == 2 ? "fatal " : "warning ") + alertName(description);
        default -> kind;
      };
    }
  }

  private RawRsaTlsClient() {}

  static String alertName(int d) {
    return switch (d) {
      case 10 -> "unexpected_message";
      case 20 -> "bad_record_mac";
      case 40 -> "handshake_failure";
      case 47 -> "illegal_parameter";
      case 50 -> "decode_error";
      case 51 -> "decrypt_error";
      case 80 -> "internal_error";
      default -> "alert(" + d + ")";
    };
  }

  /** One connection to 127.0.0.1:{@code port} sending {@code variant}. */
  static Outcome run(int port, Variant variant) throws IOException, GeneralSecurityException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(30_000);
      s.setTcpNoDelay(true);
      Records in = new Records(new DataInputStream(s.getInputStream()));
      OutputStream out = s.getOutputStream();
      ByteArrayOutputStream transcript = new ByteArrayOutputStream();

      byte[] clientRandom = randomBytes(32);
      byte[] hello = handshake(1, clientHello(clientRandom));
      transcript.write(hello);
      out.write(record(22, hello));
      out.flush();

      byte[] serverRandom = null;
      RSAPublicKey serverKey = null;
      while (true) {
        byte[] msg = in.handshakeMessage();
        if (msg == null) {
          throw new IOException("server ended the hello phase: " + in.lastAlert);
        }
        transcript.write(msg);
        ByteBuffer b = ByteBuffer.wrap(msg, 4, msg.length - 4);
        int type = msg[0] & 0xff;
        if (type == 2) {
          b.getShort();
          serverRandom = new byte[32];
          b.get(serverRandom);
          int sessionIdLength = b.get() & 0xff;
          b.position(b.position() + sessionIdLength);
          int suite = b.getShort() & 0xffff;
          if (suite != SUITE) {
            throw new IOException("server chose suite 0x" + Integer.toHexString(suite));
          }
        } else if (type == 11) {
          b.position(b.position() + 3);
          int len = u24(b);
          byte[] der = new byte[len];
          b.get(der);
          X509Certificate cert =
              (X509Certificate)
                  CertificateFactory.getInstance("X.509")
                      .generateCertificate(new java.io.ByteArrayInputStream(der));
          serverKey = (RSAPublicKey) cert.getPublicKey();
        } else if (type == 14) {
          break;
        } else {
          throw new IOException("unexpected handshake message " + type);
        }
      }
      if (serverRandom == null || serverKey == null) {
        throw new IOException("no ServerHello or Certificate");
      }

      byte[] premaster = randomBytes(48);
      premaster[0] = 3;
      premaster[1] = 3;
      byte[] ciphertext = ciphertext(variant, serverKey, premaster);
      if (variant != Variant.VALID) {
        // What a client that does not know the server's substitute can do: guess.
        premaster = randomBytes(48);
      }
      ByteBuffer cke = ByteBuffer.allocate(2 + ciphertext.length);
      cke.putShort((short) ciphertext.length).put(ciphertext);
      byte[] ckeMsg = handshake(16, cke.array());
      transcript.write(ckeMsg);

      byte[] master = prf(premaster, "master secret", concat(clientRandom, serverRandom), 48);
      byte[] keys = prf(master, "key expansion", concat(serverRandom, clientRandom), 40);
      byte[] verify =
          prf(
              master,
              "client finished",
              MessageDigest.getInstance("SHA-256").digest(transcript.toByteArray()),
              12);
      byte[] finished = handshake(20, verify);
      transcript.write(finished);

      ByteArrayOutputStream flight = new ByteArrayOutputStream();
      flight.write(record(22, ckeMsg));
      flight.write(record(20, new byte[] {1}));
      flight.write(
          record(
              22,
              seal(Arrays.copyOfRange(keys, 0, 16), Arrays.copyOfRange(keys, 32, 36), finished)));
      out.write(flight.toByteArray());
      out.flush();

      int before = in.bytesRead;
      Records.Rec r = in.next();
      if (r == null) {
        return new Outcome("closed", 0, 0, 0);
      }
      if (r.type == 21) {
        return new Outcome("alert", r.body[0] & 0xff, r.body[1] & 0xff, 0);
      }
      if (r.type != 20) {
        return new Outcome("record type " + r.type, 0, 0, in.bytesRead - before);
      }
      Records.Rec fin = in.next();
      if (fin == null || fin.type != 22) {
        return new Outcome("no server Finished after ChangeCipherSpec", 0, 0, 0);
      }
      byte[] serverFinished =
          open(Arrays.copyOfRange(keys, 16, 32), Arrays.copyOfRange(keys, 36, 40), fin.body);
      byte[] expected =
          handshake(
              20,
              prf(
                  master,
                  "server finished",
                  MessageDigest.getInstance("SHA-256").digest(transcript.toByteArray()),
                  12));
      if (!Arrays.equals(serverFinished, expected)) {
        return new Outcome("server Finished did not verify", 0, 0, 0);
      }
      return Outcome.completed();
    }
  }

  /** The ClientKeyExchange payload of {@code v}, for a server key and a well-formed premaster. */
  static byte[] ciphertext(Variant v, RSAPublicKey key, byte[] premaster) {
    BigInteger n = key.getModulus();
    int k = (n.bitLength() + 7) / 8;
    switch (v) {
      case ALL_ZEROS:
        return new byte[k];
      case EQUAL_TO_MODULUS:
        return fixed(n, k);
      case SAME_LENGTH_GARBAGE:
        return fixed(new BigInteger(n.bitLength() - 1, RANDOM), k);
      case CIPHERTEXT_ONE_BYTE_SHORT:
        return Arrays.copyOf(encrypt(block(k, premaster), key, k), k - 1);
      case CIPHERTEXT_ONE_BYTE_LONG:
        return Arrays.copyOf(encrypt(block(k, premaster), key, k), k + 1);
      case CIPHERTEXT_HALF_LENGTH:
        return Arrays.copyOf(encrypt(block(k, premaster), key, k), k / 2);
      case CIPHERTEXT_EMPTY:
        return new byte[0];
      default:
        break;
    }
    byte[] m;
    switch (v) {
      case VALID:
        m = block(k, premaster);
        break;
      case WRONG_FIRST_BYTE:
        m = block(k, premaster);
        m[0] = 1;
        break;
      case WRONG_BLOCK_TYPE:
        m = block(k, premaster);
        m[1] = 1;
        break;
      case NO_ZERO_SEPARATOR:
        m = block(k, premaster);
        m[k - 49] = 7;
        for (int i = k - 48; i < k; i++) {
          if (m[i] == 0) {
            m[i] = 9;
          }
        }
        break;
      case SEPARATOR_IN_FIRST_8_PADDING_BYTES:
        m = block(k, premaster);
        m[k - 49] = 7;
        m[2 + 4] = 0;
        break;
      case PLAINTEXT_LENGTH_47:
        m = block(k, Arrays.copyOf(premaster, 47));
        break;
      case PLAINTEXT_LENGTH_49:
        m = block(k, Arrays.copyOf(premaster, 49));
        break;
      case WRONG_VERSION:
        byte[] p = premaster.clone();
        p[1] = 2;
        m = block(k, p);
        break;
      default:
        throw new IllegalArgumentException(v.name());
    }
    return encrypt(m, key, k);
  }

  /** {@code 00 02 PS 00 msg}, k bytes, PS nonzero. */
  static byte[] block(int k, byte[] msg) {
    byte[] m = new byte[k];
    m[1] = 2;
    for (int i = 2; i < k - msg.length - 1; i++) {
      m[i] = (byte) (1 + RANDOM.nextInt(255));
    }
    System.arraycopy(msg, 0, m, k - msg.length, msg.length);
    return m;
  }

  private static byte[] encrypt(byte[] m, RSAPublicKey key, int k) {
    return fixed(new BigInteger(1, m).modPow(key.getPublicExponent(), key.getModulus()), k);
  }

  private static byte[] fixed(BigInteger v, int k) {
    byte[] raw = v.toByteArray();
    byte[] out = new byte[k];
    int n = Math.min(raw.length, k);
    System.arraycopy(raw, raw.length - n, out, k - n, n);
    return out;
  }

  private static byte[] clientHello(byte[] random) {
    ByteBuffer b = ByteBuffer.allocate(128);
    b.putShort((short) TLS12).put(random).put((byte) 0);
    b.putShort((short) 4).putShort((short) SUITE).putShort((short) SCSV);
    b.put((byte) 1).put((byte) 0);
    // signature_algorithms: rsa_pkcs1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha384
    byte[] sigalgs = {0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x01, 0x08, 0x04, 0x05, 0x01};
    b.putShort((short) sigalgs.length).put(sigalgs);
    return Arrays.copyOf(b.array(), b.position());
  }

  private static byte[] handshake(int type, byte[] body) {
    byte[] m = new byte[4 + body.length];
    m[0] = (byte) type;
    m[1] = (byte) (body.length >>> 16);
    m[2] = (byte) (body.length >>> 8);
    m[3] = (byte) body.length;
    System.arraycopy(body, 0, m, 4, body.length);
    return m;
  }

  private static byte[] record(int type, byte[] body) {
    ByteBuffer b = ByteBuffer.allocate(5 + body.length);
    b.put((byte) type).putShort((short) TLS12).putShort((short) body.length).put(body);
    return b.array();
  }

  /** AES-128-GCM record payload for sequence number 0 (RFC 5288). */
  private static byte[] seal(byte[] key, byte[] salt, byte[] plaintext)
      throws GeneralSecurityException {
    byte[] explicit = new byte[8];
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(
        Cipher.ENCRYPT_MODE,
        new SecretKeySpec(key, "AES"),
        new GCMParameterSpec(128, concat(salt, explicit)));
    c.updateAAD(aad(22, plaintext.length));
    return concat(explicit, c.doFinal(plaintext));
  }

  private static byte[] open(byte[] key, byte[] salt, byte[] payload)
      throws GeneralSecurityException {
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(
        Cipher.DECRYPT_MODE,
        new SecretKeySpec(key, "AES"),
        new GCMParameterSpec(128, concat(salt, Arrays.copyOf(payload, 8))));
    c.updateAAD(aad(22, payload.length - 8 - 16));
    return c.doFinal(payload, 8, payload.length - 8);
  }

  private static byte[] aad(int type, int length) {
    ByteBuffer b = ByteBuffer.allocate(13);
    b.putLong(0).put((byte) type).putShort((short) TLS12).putShort((short) length);
    return b.array();
  }

  /** The TLS 1.2 PRF with HMAC-SHA256 (RFC 5246 §5). */
  static byte[] prf(byte[] secret, String label, byte[] seed, int length)
      throws GeneralSecurityException {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret, "HmacSHA256"));
    byte[] s = concat(label.getBytes(StandardCharsets.US_ASCII), seed);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] a = s;
    while (out.size() < length) {
      a = mac.doFinal(a);
      mac.update(a);
      out.writeBytes(mac.doFinal(s));
    }
    return Arrays.copyOf(out.toByteArray(), length);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  private static int u24(ByteBuffer b) {
    return ((b.get() & 0xff) << 16) | ((b.get() & 0xff) << 8) | (b.get() & 0xff);
  }

  /** Plaintext record reader that reassembles handshake messages. */
  private static final class Records {
    record Rec(int type, byte[] body) {}

    private final DataInputStream in;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    int bytesRead;
    String lastAlert = "connection closed";

    Records(DataInputStream in) {
      this.in = in;
    }

    Rec next() throws IOException {
      try {
        int type = in.readUnsignedByte();
        in.readUnsignedShort();
        int len = in.readUnsignedShort();
        byte[] body = new byte[len];
        in.readFully(body);
        bytesRead += 5 + len;
        return new Rec(type, body);
      } catch (EOFException | SocketException e) {
        return null;
      }
    }

    byte[] handshakeMessage() throws IOException {
      while (true) {
        byte[] p = pending.toByteArray();
        if (p.length >= 4) {
          int len = ((p[1] & 0xff) << 16) | ((p[2] & 0xff) << 8) | (p[3] & 0xff);
          if (p.length >= 4 + len) {
            pending.reset();
            pending.write(p, 4 + len, p.length - 4 - len);
            return Arrays.copyOf(p, 4 + len);
          }
        }
        Rec r = next();
        if (r == null) {
          return null;
        }
        if (r.type == 21) {
          lastAlert = "alert " + alertName(r.body[1] & 0xff);
          return null;
        }
        if (r.type != 22) {
          throw new IOException("unexpected record type " + r.type);
        }
        pending.write(r.body);
      }
    }
  }
}
