package dev.keyhold.service.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.rpc.ErrorInfo;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.DecryptPremasterRequest;
import dev.keyhold.proto.v1.DecryptPremasterResponse;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.GetKeyRequest;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.ListKeysRequest;
import dev.keyhold.proto.v1.ListKeysResponse;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.proto.v1.SignResponse;
import dev.keyhold.service.testing.GrpcErrors;
import dev.keyhold.service.testing.RawCalls;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.lang.management.ManagementFactory;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Cipher;
import org.junit.jupiter.api.Test;

/**
 * Randomized API test: thousands of hostile requests to every RPC (random bytes, truncated, bit
 * flipped, wrong wire types, huge length prefixes, oversized), interleaved with valid ones, on
 * several channels at once. Every failure carries a documented status and ErrorInfo reason, every
 * valid call succeeds with a correct result, the log grows by a bounded number of bytes, and
 * afterwards no HSM thread is stuck, the service answers as before and the heap (after GC) is back
 * near its baseline. The seed is printed; {@code -Dkeyhold.fuzz.seed=N} replays a run, {@code
 * -Dkeyhold.fuzz.requests=N} sets its size (default 4,000).
 */
class RandomizedApiIT {
  /** The reason each documented failure is sent with, and its status code. */
  private static final Map<ErrorReason, Status.Code> DOCUMENTED =
      Map.ofEntries(
          Map.entry(ErrorReason.MALFORMED_REQUEST, Status.Code.INVALID_ARGUMENT),
          Map.entry(ErrorReason.REQUEST_TOO_LARGE, Status.Code.RESOURCE_EXHAUSTED),
          Map.entry(ErrorReason.MISSING_FIELD, Status.Code.INVALID_ARGUMENT),
          Map.entry(ErrorReason.UNKNOWN_SCHEME, Status.Code.INVALID_ARGUMENT),
          Map.entry(ErrorReason.SCHEME_KEY_MISMATCH, Status.Code.INVALID_ARGUMENT),
          Map.entry(ErrorReason.DIGEST_LENGTH, Status.Code.INVALID_ARGUMENT),
          Map.entry(ErrorReason.CIPHERTEXT_LENGTH, Status.Code.INVALID_ARGUMENT),
          Map.entry(ErrorReason.CLIENT_VERSION, Status.Code.INVALID_ARGUMENT),
          Map.entry(ErrorReason.KEY_NOT_FOUND, Status.Code.NOT_FOUND));

  private static final int CHANNELS = 4;

  @Test
  void hostileRequestsInterleavedWithValidOnes_allAnsweredAsDocumented() throws Exception {
    long seed = Long.getLong("keyhold.fuzz.seed", System.nanoTime());
    int requests = Integer.getInteger("keyhold.fuzz.requests", 4000);
    System.out.println(
        "RandomizedApiIT seed=" + seed + " (replay: -Dkeyhold.fuzz.seed=" + seed + ")");
    try (TestKeyholdService svc =
        TestKeyholdService.builder().sessions(4).queue(4096).metrics(true).start()) {
      List<ManagedChannel> channels = new ArrayList<>();
      for (int i = 0; i < CHANNELS; i++) {
        channels.add(svc.channel(i % 2 == 0 ? "test-client" : "other-client"));
      }
      KeyInfo rsa =
          KeyServiceGrpc.newBlockingStub(channels.get(0))
              .withDeadlineAfter(30, TimeUnit.SECONDS)
              .getKey(GetKeyRequest.newBuilder().setKey(name("rsa2048")).build());
      PublicKey rsaPublic =
          KeyFactory.getInstance("RSA")
              .generatePublic(new X509EncodedKeySpec(rsa.getSpkiDer().toByteArray()));
      // Baseline after a warm-up round of valid calls (classes loaded, sessions opened).
      SplittableRandom warm = new SplittableRandom(seed - 1);
      for (int i = 0; i < 40; i++) {
        Fuzz f = new Fuzz(warm, rsaPublic);
        RawCalls.call(channels.get(0), f.method, f.validBytes);
      }
      long heapBefore = heapAfterGc();
      Map<String, Long> seen = new ConcurrentHashMap<>();
      AtomicLong validOk = new AtomicLong();
      ExecutorService pool = Executors.newFixedThreadPool(CHANNELS * 2);
      try (RawCalls.LogCapture log = new RawCalls.LogCapture()) {
        List<Future<?>> running = new ArrayList<>();
        int perWorker = requests / (CHANNELS * 2);
        for (int w = 0; w < CHANNELS * 2; w++) {
          SplittableRandom rnd = new SplittableRandom(seed + w);
          ManagedChannel ch = channels.get(w % CHANNELS);
          boolean authorized = (w % CHANNELS) % 2 == 0;
          int worker = w;
          running.add(
              pool.submit(
                  () -> {
                    for (int i = 0; i < perWorker; i++) {
                      Fuzz f = new Fuzz(rnd, rsaPublic);
                      one(ch, f, authorized, rsaPublic, seen, validOk, seed, worker, i);
                    }
                    return null;
                  }));
        }
        for (Future<?> f : running) {
          f.get(10, TimeUnit.MINUTES);
        }
        System.out.println("RandomizedApiIT outcomes: " + seen + ", log bytes " + log.bytes());
        assertThat(log.stackTraces()).as("stack traces logged").isZero();
        // Rate-limited: a few lines per 10 s however many requests; 16 KiB is generous.
        assertThat(log.bytes()).as("bytes logged for %d requests", requests).isLessThan(16 * 1024);
      } finally {
        pool.shutdownNow();
      }
      assertThat(validOk.get()).as("valid calls that succeeded").isPositive();
      assertThat(seen).containsKeys("MALFORMED_REQUEST", "REQUEST_TOO_LARGE");

      // Afterwards: no HSM thread left in a call, and the service serves as before.
      assertThat(svc.server().metrics().scrape())
          .containsPattern("keyhold_hsm_stuck_threads(\\{[^}]*\\})? 0\\.0");
      for (ManagedChannel ch : channels.subList(0, 1)) {
        ListKeysResponse keys =
            KeyServiceGrpc.newBlockingStub(ch)
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .listKeys(ListKeysRequest.getDefaultInstance());
        assertThat(keys.getKeysCount()).isPositive();
      }
      seen.clear();
      long heapAfter = heapAfterGc();
      assertThat(heapAfter - heapBefore)
          .as("heap growth after GC (before %d, after %d)", heapBefore, heapAfter)
          .isLessThan(32L << 20);
      for (ManagedChannel ch : channels) {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  /** One request and the check of its answer. */
  private static void one(
      ManagedChannel ch,
      Fuzz f,
      boolean authorized,
      PublicKey rsaPublic,
      Map<String, Long> seen,
      AtomicLong validOk,
      long seed,
      int worker,
      int i)
      throws Exception {
    String where =
        "seed "
            + seed
            + " worker "
            + worker
            + " request "
            + i
            + " ("
            + f.kind
            + " "
            + f.method.getBareMethodName()
            + ")";
    byte[] response;
    try {
      response = RawCalls.call(ch, f.method, f.bytes);
    } catch (StatusRuntimeException e) {
      assertThat(f.valid && authorized)
          .as("%s: a valid call failed: %s", where, e.getStatus())
          .isFalse();
      ErrorInfo info = GrpcErrors.errorInfo(e);
      assertThat(info).as("%s: ErrorInfo of %s", where, e.getStatus()).isNotNull();
      assertThat(info.getDomain()).isEqualTo("keyhold.dev");
      ErrorReason reason = ErrorReason.valueOf(info.getReason());
      assertThat(DOCUMENTED).as("%s: documented reasons", where).containsKey(reason);
      assertThat(e.getStatus().getCode())
          .as("%s: status of %s", where, reason)
          .isEqualTo(DOCUMENTED.get(reason));
      assertThat(e.getStatus().getDescription()).as(where).isNotBlank();
      if (f.kind.equals("oversized")) {
        assertThat(reason).as(where).isEqualTo(ErrorReason.REQUEST_TOO_LARGE);
      }
      if (!authorized && !f.kind.equals("oversized") && reason != ErrorReason.MALFORMED_REQUEST) {
        assertThat(reason)
            .as("%s: an unlisted caller learns nothing of keys", where)
            .isIn(ErrorReason.KEY_NOT_FOUND, ErrorReason.MISSING_FIELD);
      }
      seen.merge(reason.name(), 1L, Long::sum);
      return;
    }
    seen.merge("OK", 1L, Long::sum);
    if (!f.valid) {
      return; // a mutation that happened to be a valid request (a flipped digest bit)
    }
    if (!authorized) {
      assertThat(f.method.getBareMethodName()).as(where).isEqualTo("ListKeys");
      assertThat(ListKeysResponse.parseFrom(response).getKeysCount())
          .as("%s: an unlisted caller sees no keys", where)
          .isZero();
      return;
    }
    check(f, response, rsaPublic, where);
    validOk.incrementAndGet();
  }

  /** A valid call's answer is the right one: signatures verify, premasters match. */
  private static void check(Fuzz f, byte[] response, PublicKey rsaPublic, String where)
      throws Exception {
    switch (f.method.getBareMethodName()) {
      case "Sign" -> {
        Signature v = Signature.getInstance("NONEwithRSA");
        v.initVerify(rsaPublic);
        v.update(Fuzz.digestInfo(f.digest));
        assertThat(v.verify(SignResponse.parseFrom(response).getSignature().toByteArray()))
            .as("%s: signature verifies", where)
            .isTrue();
      }
      case "DecryptPremaster" ->
          assertThat(DecryptPremasterResponse.parseFrom(response).getPremaster().toByteArray())
              .as(where)
              .isEqualTo(f.premaster);
      case "GetKey" -> assertThat(KeyInfo.parseFrom(response).getName()).isEqualTo("rsa2048");
      case "ListKeys" ->
          assertThat(ListKeysResponse.parseFrom(response).getKeysCount()).as(where).isPositive();
      default -> throw new AssertionError(where);
    }
  }

  private static KeyRef name(String n) {
    return KeyRef.newBuilder().setName(n).build();
  }

  private static long heapAfterGc() {
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return used;
  }

  /** One random request: a valid one (about one in four) or a hostile variant of one. */
  private static final class Fuzz {
    private static final List<MethodDescriptor<?, ?>> METHODS =
        List.of(
            KeyServiceGrpc.getSignMethod(),
            KeyServiceGrpc.getDecryptPremasterMethod(),
            KeyServiceGrpc.getGetKeyMethod(),
            KeyServiceGrpc.getListKeysMethod());

    final MethodDescriptor<?, ?> method;
    final String kind;
    final byte[] bytes;
    final byte[] validBytes;
    final boolean valid;
    byte[] digest;
    byte[] premaster;

    Fuzz(SplittableRandom rnd, PublicKey rsaPublic) throws Exception {
      method = METHODS.get(rnd.nextInt(METHODS.size()));
      byte[] good = valid(rnd, rsaPublic);
      validBytes = good;
      int pick = rnd.nextInt(100);
      if (pick < 25) {
        kind = "valid";
        bytes = good;
      } else if (pick < 40) {
        kind = "random";
        bytes = new byte[rnd.nextInt(200)];
        rnd.nextBytes(bytes);
      } else if (pick < 55 && good.length > 1) {
        kind = "truncated";
        bytes = Arrays.copyOf(good, 1 + rnd.nextInt(good.length - 1));
      } else if (pick < 75 && good.length > 0) {
        kind = "bitflip";
        bytes = good.clone();
        for (int n = 1 + rnd.nextInt(3); n > 0; n--) {
          bytes[rnd.nextInt(bytes.length)] ^= (byte) (1 << rnd.nextInt(8));
        }
      } else if (pick < 85) {
        kind = "wiretype";
        // Field 1 to 3 with each wire type, including the deprecated groups (3, 4) and 6, 7.
        int field = 1 + rnd.nextInt(3);
        int wire = rnd.nextInt(8);
        byte[] tail = new byte[rnd.nextInt(12)];
        rnd.nextBytes(tail);
        bytes = concat(new byte[] {(byte) (field << 3 | wire)}, tail);
      } else if (pick < 95) {
        kind = "hugelength";
        // A length-delimited field claiming up to 4 GiB, followed by a few bytes.
        byte[] tail = new byte[rnd.nextInt(16)];
        rnd.nextBytes(tail);
        bytes =
            concat(
                new byte[] {0x0a, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f}, tail);
      } else {
        kind = "oversized";
        byte[] big = new byte[17 * 1024 + rnd.nextInt(40 * 1024)];
        rnd.nextBytes(big);
        bytes = concat(good, concat(new byte[] {0x72}, concat(varint(big.length), big)));
      }
      valid = kind.equals("valid");
    }

    private byte[] valid(SplittableRandom rnd, PublicKey rsaPublic) throws Exception {
      switch (method.getBareMethodName()) {
        case "Sign" -> {
          byte[] msg = new byte[16];
          rnd.nextBytes(msg);
          digest = MessageDigest.getInstance("SHA-256").digest(msg);
          return SignRequest.newBuilder()
              .setKey(name("rsa2048"))
              .setScheme(SignatureScheme.RSA_PKCS1_SHA256.codePoint())
              .setDigest(ByteString.copyFrom(digest))
              .build()
              .toByteArray();
        }
        case "DecryptPremaster" -> {
          premaster = new byte[48];
          rnd.nextBytes(premaster);
          premaster[0] = 0x03;
          premaster[1] = 0x03;
          Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding");
          c.init(Cipher.ENCRYPT_MODE, rsaPublic);
          return DecryptPremasterRequest.newBuilder()
              .setKey(name("rsa2048"))
              .setCiphertext(ByteString.copyFrom(c.doFinal(premaster)))
              .setClientVersion(0x0303)
              .build()
              .toByteArray();
        }
        case "GetKey" -> {
          return GetKeyRequest.newBuilder().setKey(name("rsa2048")).build().toByteArray();
        }
        default -> {
          return ListKeysRequest.getDefaultInstance().toByteArray();
        }
      }
    }

    /** The PKCS#1 v1.5 DigestInfo of a SHA-256 digest. */
    static byte[] digestInfo(byte[] sha256) {
      byte[] prefix = {
        0x30,
        0x31,
        0x30,
        0x0d,
        0x06,
        0x09,
        0x60,
        (byte) 0x86,
        0x48,
        0x01,
        0x65,
        0x03,
        0x04,
        0x02,
        0x01,
        0x05,
        0x00,
        0x04,
        0x20
      };
      return concat(prefix, sha256);
    }

    private static byte[] varint(int v) {
      byte[] out = new byte[5];
      int n = 0;
      while ((v & ~0x7f) != 0) {
        out[n++] = (byte) ((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      out[n++] = (byte) v;
      return Arrays.copyOf(out, n);
    }

    private static byte[] concat(byte[] a, byte[] b) {
      byte[] out = Arrays.copyOf(a, a.length + b.length);
      System.arraycopy(b, 0, out, a.length, b.length);
      return out;
    }
  }
}
