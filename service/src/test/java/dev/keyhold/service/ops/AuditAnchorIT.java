package dev.keyhold.service.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.keyhold.config.AuditConfig;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.KeyServiceGrpc.KeyServiceBlockingStub;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.testing.GrpcErrors;
import dev.keyhold.service.testing.TestHsm;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signed checkpoints detect what the plain chain cannot (a rewrite with the chain recomputed, a cut
 * through a checkpoint), verify names broken lines by their file line number, the chain continues
 * across files, and a real write failure (/dev/full, ENOSPC) refuses operations with
 * AUDIT_UNAVAILABLE unless audit.onFailure is continue.
 */
class AuditAnchorIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CHECKPOINT_KEY = "ec-p256";

  @TempDir Path dir;

  private static PublicKey checkpointPublicKey() {
    return TestHsm.shared().token().discoverKeys().stream()
        .filter(k -> k.description().name().equals(CHECKPOINT_KEY))
        .findFirst()
        .orElseThrow()
        .description()
        .publicKey();
  }

  /** A log written by a real service: start checkpoint, 7 signs (checkpoint every 3), final. */
  private Path writeLog(String name) throws Exception {
    Path file = dir.resolve(name);
    try (TestKeyholdService svc =
        TestKeyholdService.builder()
            .auditFile(file)
            .audit(new AuditConfig(null, CHECKPOINT_KEY, Duration.ofMinutes(10), 3L))
            .start()) {
      ManagedChannel ch = svc.channel("test-client");
      try {
        for (int i = 0; i < 7; i++) {
          sign(ch);
        }
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    return file;
  }

  private static void sign(ManagedChannel ch) throws Exception {
    stub(ch)
        .sign(
            SignRequest.newBuilder()
                .setKey(KeyRef.newBuilder().setName("ec-p256"))
                .setScheme(SignatureScheme.ECDSA_SECP256R1_SHA256.codePoint())
                .setDigest(
                    ByteString.copyFrom(MessageDigest.getInstance("SHA-256").digest(new byte[1])))
                .build());
  }

  private static KeyServiceBlockingStub stub(ManagedChannel ch) {
    return KeyServiceGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  @Test
  void verify_logOfACleanRun_isIntactWithAFinalSignedCheckpoint() throws Exception {
    Path file = writeLog("audit.log");
    List<String> lines = Files.readAllLines(file);

    AuditVerifier.Report r = AuditVerifier.verify(List.of(file), checkpointPublicKey());

    assertThat(r.intact()).as(String.join("\n", r.describe())).isTrue();
    assertThat(r.checkpoints()).isEqualTo(4); // at open, after 3 and 6 lines, at close
    assertThat(r.lastCheckpointLine()).isEqualTo(lines.size());
    assertThat(r.lastCheckpointFinal()).isTrue();
    assertThat(r.unprotected()).isZero();
  }

  @Test
  void verify_rewrittenWithTheChainRecomputed_failsAtTheFirstCheckpointAfterTheChange()
      throws Exception {
    Path file = writeLog("audit.log");
    List<String> lines = new ArrayList<>(Files.readAllLines(file));
    ObjectNode second = (ObjectNode) JSON.readTree(lines.get(1));
    second.put("client", "someone-else");
    lines.set(1, second.toString());
    Path rewritten = Files.write(dir.resolve("rewritten.log"), rechain(lines));

    AuditVerifier.Report plain = AuditVerifier.verify(List.of(rewritten), null);
    AuditVerifier.Report anchored = AuditVerifier.verify(List.of(rewritten), checkpointPublicKey());

    assertThat(plain.intact()).as("the plain chain cannot tell").isTrue();
    assertThat(anchored.intact()).isFalse();
    assertThat(anchored.brokenLine()).isEqualTo(5); // the checkpoint after lines 2..4
    assertThat(anchored.problem()).contains("signature");
  }

  @Test
  void verify_cutThroughTheFinalCheckpoint_saysTheLogDoesNotEndWithIt() throws Exception {
    Path file = writeLog("audit.log");
    List<String> lines = Files.readAllLines(file);
    // 11 lines: checkpoints at 1, 5, 9 and the final one at 11; cut the final one.
    Path cut = Files.write(dir.resolve("cut.log"), lines.subList(0, lines.size() - 1));

    AuditVerifier.Report r = AuditVerifier.verify(List.of(cut), checkpointPublicKey());

    assertThat(r.intact()).isTrue();
    assertThat(r.lastCheckpointFinal()).isFalse();
    assertThat(r.lastCheckpointLine()).isEqualTo(lines.size() - 2);
    assertThat(r.unprotected()).isEqualTo(1);
    assertThat(String.join("\n", r.describe()))
        .contains("1 lines after the last checkpoint are unprotected")
        .contains("does not end with a shutdown checkpoint");
  }

  @Test
  void verify_lineThatIsNotJson_isNamedByItsFileLineNumber() throws Exception {
    Path file = writeLog("audit.log");
    List<String> lines = new ArrayList<>(Files.readAllLines(file));
    lines.set(3, lines.get(3).substring(0, 20));
    Path broken = Files.write(dir.resolve("broken.log"), lines);

    AuditVerifier.Report r = AuditVerifier.verify(List.of(broken), checkpointPublicKey());

    assertThat(r.intact()).isFalse();
    assertThat(r.brokenLine()).isEqualTo(4);
    assertThat(r.problem()).isEqualTo("not valid JSON");
    assertThat(r.intactLine()).isEqualTo(3);
    assertThat(AuditLog.verify(broken)).isEqualTo(4);
  }

  @Test
  void verify_setOfFiles_chainContinuesAcrossThemInOrder() throws Exception {
    Path file = writeLog("audit.log");
    List<String> lines = Files.readAllLines(file);
    Path older = Files.write(dir.resolve("audit.log.1"), lines.subList(0, 6));
    Path newer = Files.write(dir.resolve("audit.log.0"), lines.subList(6, lines.size()));

    AuditVerifier.Report inOrder =
        AuditVerifier.verify(List.of(older, newer), checkpointPublicKey());
    AuditVerifier.Report reversed =
        AuditVerifier.verify(List.of(newer, older), checkpointPublicKey());

    assertThat(inOrder.intact()).isTrue();
    assertThat(inOrder.lastCheckpointFile()).isEqualTo(newer);
    assertThat(reversed.intact()).isFalse();
    assertThat(reversed.brokenFile()).isEqualTo(newer);
    assertThat(reversed.brokenLine()).isEqualTo(1);
  }

  @Test
  void auditFileOnAFullDevice_refusesOperationsWithAuditUnavailable() throws Exception {
    try (TestKeyholdService svc =
        TestKeyholdService.builder().auditFile(Path.of("/dev/full")).start()) {
      ManagedChannel ch = svc.channel("test-client");
      try {
        StatusRuntimeException refused = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        // The first calls are answered before their line is written; once a write fails
        // (ENOSPC at flush), every operation is refused.
        while (refused == null && System.nanoTime() < deadline) {
          try {
            sign(ch);
          } catch (StatusRuntimeException e) {
            refused = e;
          }
        }
        assertThat(refused).as("refused within 20 s").isNotNull();
        StatusRuntimeException last = refused;
        GrpcErrors.assertFails(
            () -> {
              throw last;
            },
            Status.Code.UNAVAILABLE,
            ErrorReason.AUDIT_UNAVAILABLE);
        GrpcErrors.assertFails(
            () -> sign(ch), Status.Code.UNAVAILABLE, ErrorReason.AUDIT_UNAVAILABLE);
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void auditFileOnAFullDevice_onFailureContinue_keepsServing() throws Exception {
    try (TestKeyholdService svc =
        TestKeyholdService.builder()
            .auditFile(Path.of("/dev/full"))
            .audit(new AuditConfig(AuditConfig.OnFailure.CONTINUE, null, null, null))
            .start()) {
      ManagedChannel ch = svc.channel("test-client");
      try {
        for (int i = 0; i < 50; i++) {
          sign(ch);
        }
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  /** Recomputes prev and hash of every line, as someone who can write the file could. */
  private static List<String> rechain(List<String> lines) throws Exception {
    List<String> out = new ArrayList<>();
    String prev = "0".repeat(64);
    for (String line : lines) {
      ObjectNode n = (ObjectNode) JSON.readTree(line);
      n.remove("hash");
      n.put("prev", prev);
      if ("checkpoint".equals(n.path("op").asText())) {
        n.put("head", prev);
      }
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(prev.getBytes(StandardCharsets.US_ASCII));
      md.update(n.toString().getBytes(StandardCharsets.UTF_8));
      prev = HexFormat.of().formatHex(md.digest());
      n.put("hash", prev);
      out.add(n.toString());
    }
    return out;
  }
}
