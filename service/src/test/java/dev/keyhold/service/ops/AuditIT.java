package dev.keyhold.service.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.DecryptPremasterRequest;
import dev.keyhold.proto.v1.GetKeyRequest;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.auth.AuthInterceptor;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.crypto.Cipher;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit file of a real service run: one line per operation with who, what and the outcome; an
 * intact hash chain; detected tampering; and no payload bytes.
 */
class AuditIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<byte[]> PAYLOADS = new ArrayList<>();
  private static List<String> lines;
  private static Path audit;
  private static String getKeyRequestId;
  private static String failedRequestId;

  @BeforeAll
  static void runSomeOperations() throws Exception {
    SecureRandom random = new SecureRandom();
    TestKeyholdService svc = TestKeyholdService.start();
    audit = svc.auditFile();
    ManagedChannel ch = svc.channel("test-client");
    ManagedChannel limited = svc.channel("limited-client");
    try {
      var stub = KeyServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
      for (SignatureScheme s :
          List.of(SignatureScheme.RSA_PKCS1_SHA256, SignatureScheme.RSA_PSS_RSAE_SHA384)) {
        byte[] digest = new byte[s.hash().length()];
        random.nextBytes(digest);
        PAYLOADS.add(digest);
        PAYLOADS.add(
            stub.sign(
                    SignRequest.newBuilder()
                        .setKey(KeyRef.newBuilder().setName("rsa2048"))
                        .setScheme(s.codePoint())
                        .setDigest(ByteString.copyFrom(digest))
                        .build())
                .getSignature()
                .toByteArray());
      }
      AtomicReference<Metadata> headers = new AtomicReference<>();
      byte[] spki =
          stub.withInterceptors(
                  MetadataUtils.newCaptureMetadataInterceptor(headers, new AtomicReference<>()))
              .getKey(
                  GetKeyRequest.newBuilder().setKey(KeyRef.newBuilder().setName("rsa2048")).build())
              .getSpkiDer()
              .toByteArray();
      getKeyRequestId = headers.get().get(AuthInterceptor.REQUEST_ID_HEADER);
      byte[] pm = new byte[48];
      random.nextBytes(pm);
      pm[0] = 3;
      pm[1] = 3;
      Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding");
      c.init(
          Cipher.ENCRYPT_MODE,
          KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(spki)));
      byte[] ct = c.doFinal(pm);
      PAYLOADS.add(pm);
      PAYLOADS.add(ct);
      byte[] out =
          stub.decryptPremaster(
                  DecryptPremasterRequest.newBuilder()
                      .setKey(KeyRef.newBuilder().setName("rsa2048"))
                      .setCiphertext(ByteString.copyFrom(ct))
                      .setClientVersion(0x0303)
                      .build())
              .getPremaster()
              .toByteArray();
      assertThat(out).isEqualTo(pm);
      byte[] badDigest = new byte[31];
      random.nextBytes(badDigest);
      PAYLOADS.add(badDigest);
      AtomicReference<Metadata> failedHeaders = new AtomicReference<>();
      AtomicReference<Metadata> failedTrailers = new AtomicReference<>();
      assertThat(
              catchThrowable(
                  () ->
                      stub.withInterceptors(
                              MetadataUtils.newCaptureMetadataInterceptor(
                                  failedHeaders, failedTrailers))
                          .sign(
                              SignRequest.newBuilder()
                                  .setKey(KeyRef.newBuilder().setName("rsa2048"))
                                  .setScheme(0x0401)
                                  .setDigest(ByteString.copyFrom(badDigest))
                                  .build())))
          .isNotNull();
      failedRequestId =
          failedHeaders.get() != null
                  && failedHeaders.get().containsKey(AuthInterceptor.REQUEST_ID_HEADER)
              ? failedHeaders.get().get(AuthInterceptor.REQUEST_ID_HEADER)
              : failedTrailers.get().get(AuthInterceptor.REQUEST_ID_HEADER);
      var limitedStub =
          KeyServiceGrpc.newBlockingStub(limited).withDeadlineAfter(30, TimeUnit.SECONDS);
      assertThat(
              catchThrowable(
                  () ->
                      limitedStub.sign(
                          SignRequest.newBuilder()
                              .setKey(KeyRef.newBuilder().setName("rsa2048"))
                              .setScheme(0x0401)
                              .setDigest(ByteString.copyFrom(new byte[32]))
                              .build())))
          .isNotNull();
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      limited.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      svc.close();
    }
    lines = Files.readAllLines(audit).stream().filter(l -> !l.isBlank()).toList();
  }

  @Test
  void auditFile_afterOperations_hasOneStructuredLinePerOperation() throws Exception {
    assertThat(lines).hasSize(6);
    List<String> summary = new ArrayList<>();
    for (String line : lines) {
      JsonNode n = JSON.readTree(line);
      assertThat(n.path("time").asText()).isNotBlank();
      assertThat(n.path("request").asText()).matches("[0-9a-f]+-[0-9]+");
      assertThat(n.has("latency_us")).isTrue();
      summary.add(
          n.path("client").asText()
              + " "
              + n.path("op").asText()
              + " "
              + n.path("key").asText()
              + " "
              + n.path("outcome").asText());
    }
    // Lines are in completion order, which for calls on different threads is not call order.
    assertThat(summary)
        .containsExactlyInAnyOrder(
            "test-client sign rsa2048 ok",
            "test-client sign rsa2048 ok",
            "test-client get_key rsa2048 ok",
            "test-client decrypt_premaster rsa2048 ok",
            "test-client sign rsa2048 invalid_argument",
            "limited-client sign rsa2048 not_found");
  }

  @Test
  void auditFile_requestId_isTheOneEchoedToTheCaller() throws Exception {
    assertThat(getKeyRequestId).isNotBlank();
    List<JsonNode> matching = new ArrayList<>();
    for (String line : lines) {
      JsonNode n = JSON.readTree(line);
      if (n.path("request").asText().equals(getKeyRequestId)) {
        matching.add(n);
      }
    }

    assertThat(matching)
        .singleElement()
        .satisfies(n -> assertThat(n.path("op").asText()).isEqualTo("get_key"));
  }

  @Test
  void auditFile_requestIdOfAFailedCall_isEchoedToTheCallerToo() throws Exception {
    assertThat(failedRequestId)
        .as("request id in the failed call's headers or trailers")
        .isNotBlank();
    List<String> outcomes = new ArrayList<>();
    for (String line : lines) {
      JsonNode n = JSON.readTree(line);
      if (n.path("request").asText().equals(failedRequestId)) {
        outcomes.add(n.path("outcome").asText());
      }
    }

    assertThat(outcomes).containsExactly("invalid_argument");
  }

  @Test
  void verify_untouchedFile_chainIsIntact() throws Exception {
    assertThat(AuditLog.verify(audit)).isEqualTo(-1);
  }

  @Test
  void verify_oneFieldChanged_reportsThatLine(@TempDir Path dir) throws Exception {
    List<String> copy = new ArrayList<>(lines);
    copy.set(4, copy.get(4).replace("\"outcome\":\"invalid_argument\"", "\"outcome\":\"ok\""));
    assertThat(copy.get(4)).isNotEqualTo(lines.get(4));

    assertThat(AuditLog.verify(write(dir, copy))).isEqualTo(5);
  }

  @Test
  void verify_lineRemoved_reportsTheBreak(@TempDir Path dir) throws Exception {
    List<String> copy = new ArrayList<>(lines);
    copy.remove(2);

    assertThat(AuditLog.verify(write(dir, copy))).isEqualTo(3);
  }

  @Test
  void verify_firstLineRemoved_reportsTheBreak(@TempDir Path dir) throws Exception {
    List<String> copy = new ArrayList<>(lines);
    copy.remove(0);

    assertThat(AuditLog.verify(write(dir, copy))).isEqualTo(1);
  }

  @Test
  void verify_linesSwapped_reportsTheBreak(@TempDir Path dir) throws Exception {
    List<String> copy = new ArrayList<>(lines);
    Collections.swap(copy, 1, 2);

    assertThat(AuditLog.verify(write(dir, copy))).isEqualTo(2);
  }

  @Test
  void auditFile_neverContainsPayloadBytes() throws Exception {
    String text = Files.readString(audit);
    String lower = text.toLowerCase();
    for (byte[] p : PAYLOADS) {
      byte[] head = java.util.Arrays.copyOf(p, 8);
      assertThat(lower).doesNotContain(HexFormat.of().formatHex(head));
      assertThat(text)
          .doesNotContain(
              Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(p, 12)).substring(0, 16));
      assertThat(text)
          .doesNotContain(
              Base64.getUrlEncoder()
                  .encodeToString(java.util.Arrays.copyOf(p, 12))
                  .substring(0, 16));
    }
    assertThat(lower)
        .doesNotContain(
            HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(PAYLOADS.get(0)))
                .substring(0, 16));
  }

  private static Path write(Path dir, List<String> content) throws Exception {
    Path f = dir.resolve("audit.log");
    Files.write(f, content);
    return f;
  }
}
