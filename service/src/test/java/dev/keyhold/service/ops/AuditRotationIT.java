package dev.keyhold.service.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import dev.keyhold.config.AuditConfig;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.testing.TestHsm;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.ManagedChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Size-based rotation (audit.maxBytes) under concurrent calls: the chain continues across files
 * (each new file's rotate header links to the old file's last line, a checkpoint closes each old
 * file), and {@code AuditVerifier.verifySet} checks the set from its directory, naming a missing
 * middle file, a truncated one and a rewrite with the chain recomputed (a checkpoint's signature).
 */
class AuditRotationIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CHECKPOINT_KEY = "ec-p256";
  private static final int CALLS = 240;

  @TempDir static Path root;
  private static Path logDir;

  @TempDir Path dir;

  @BeforeAll
  static void writeRotatedLogUnderConcurrentCalls() throws Exception {
    logDir = Files.createDirectories(root.resolve("log"));
    Path file = logDir.resolve("audit.log");
    try (TestKeyholdService svc =
        TestKeyholdService.builder()
            .auditFile(file)
            .audit(new AuditConfig(null, CHECKPOINT_KEY, Duration.ofMinutes(10), 40L, 4096L, 0))
            .start()) {
      ManagedChannel ch = svc.channel("test-client");
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<?>> calls = new ArrayList<>();
        for (int i = 0; i < CALLS; i++) {
          calls.add(pool.submit(() -> sign(ch)));
        }
        for (Future<?> f : calls) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private static Object sign(ManagedChannel ch) throws Exception {
    return KeyServiceGrpc.newBlockingStub(ch)
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .sign(
            SignRequest.newBuilder()
                .setKey(KeyRef.newBuilder().setName("ec-p256"))
                .setScheme(SignatureScheme.ECDSA_SECP256R1_SHA256.codePoint())
                .setDigest(
                    ByteString.copyFrom(MessageDigest.getInstance("SHA-256").digest(new byte[1])))
                .build());
  }

  private static PublicKey checkpointPublicKey() {
    return TestHsm.shared().token().discoverKeys().stream()
        .filter(k -> k.description().name().equals(CHECKPOINT_KEY))
        .findFirst()
        .orElseThrow()
        .description()
        .publicKey();
  }

  /** The rotated files oldest first, then the current one. */
  private static List<Path> files(Path d) throws Exception {
    List<Path> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(d)) {
      s.filter(p -> p.getFileName().toString().startsWith("audit.log.")).sorted().forEach(out::add);
    }
    out.add(d.resolve("audit.log"));
    return out;
  }

  private Path copy() throws Exception {
    Path d = Files.createDirectories(dir.resolve("copy"));
    for (Path f : files(logDir)) {
      Files.copy(f, d.resolve(f.getFileName()));
    }
    return d;
  }

  @Test
  void rotatedSet_isIntactAcrossFiles_everyCallAudited_eachFileClosedByACheckpoint()
      throws Exception {
    List<Path> files = files(logDir);
    AuditVerifier.Report r = AuditVerifier.verifySet(List.of(logDir), checkpointPublicKey());

    assertThat(files).as("rotated several times").hasSizeGreaterThanOrEqualTo(4);
    assertThat(r.intact()).as(String.join("\n", r.describe())).isTrue();
    assertThat(r.files()).containsExactlyElementsOf(files);
    assertThat(r.lastCheckpointFinal()).isTrue();
    assertThat(r.unprotected()).isZero();
    long signs = 0;
    for (int i = 0; i < files.size(); i++) {
      List<String> lines = Files.readAllLines(files.get(i));
      for (String l : lines) {
        signs += "sign".equals(JSON.readTree(l).path("op").asText()) ? 1 : 0;
      }
      JsonNode first = JSON.readTree(lines.get(0));
      JsonNode last = JSON.readTree(lines.get(lines.size() - 1));
      assertThat(last.path("op").asText()).isEqualTo("checkpoint");
      if (i > 0) {
        assertThat(first.path("op").asText()).isEqualTo("rotate");
        assertThat(first.path("file").asLong()).isEqualTo(i + 1);
        assertThat(first.path("continues").asText())
            .isEqualTo(files.get(i - 1).getFileName().toString());
        assertThat(Files.size(files.get(i - 1))).isGreaterThanOrEqualTo(4096);
      }
    }
    assertThat(signs).isEqualTo(CALLS);
  }

  @Test
  void verifySet_filesGivenInAnyOrder_areOrderedByTheirNumbers() throws Exception {
    List<Path> files = new ArrayList<>(files(logDir));
    java.util.Collections.reverse(files);

    AuditVerifier.Report r = AuditVerifier.verifySet(files, checkpointPublicKey());

    assertThat(r.intact()).as(String.join("\n", r.describe())).isTrue();
    assertThat(r.files()).containsExactlyElementsOf(files(logDir));
  }

  @Test
  void verifySet_middleFileDeleted_namesTheMissingFile() throws Exception {
    Path d = copy();
    Path middle = files(d).get(1);
    Files.delete(middle);

    AuditVerifier.Report r = AuditVerifier.verifySet(List.of(d), checkpointPublicKey());

    assertThat(r.intact()).isFalse();
    assertThat(r.brokenFile()).isEqualTo(files(d).get(1));
    assertThat(r.brokenLine()).isEqualTo(1);
    assertThat(r.problem()).contains("missing").contains(middle.getFileName().toString());
    assertThat(r.intactFile()).isEqualTo(files(d).get(0));
  }

  @Test
  void verifySet_middleFileTruncated_isNamedByTheNextFilesFirstLine() throws Exception {
    Path d = copy();
    Path middle = files(d).get(1);
    List<String> lines = Files.readAllLines(middle);
    Files.write(middle, lines.subList(0, lines.size() - 1));

    AuditVerifier.Report r = AuditVerifier.verifySet(List.of(d), checkpointPublicKey());

    assertThat(r.intact()).isFalse();
    assertThat(r.brokenFile()).isEqualTo(files(d).get(2));
    assertThat(r.brokenLine()).isEqualTo(1);
    assertThat(r.problem()).contains(middle.toString()).contains("truncated");
  }

  @Test
  void verifySet_lastFileTruncated_reportsTheUnprotectedTailAndNamesTheCutFile() throws Exception {
    Path d = copy();
    Path last = d.resolve("audit.log");
    List<String> lines = Files.readAllLines(last);
    Files.write(last, lines.subList(0, lines.size() - 1)); // the final checkpoint is gone

    AuditVerifier.Report cut = AuditVerifier.verifySet(List.of(d), checkpointPublicKey());
    Files.writeString(
        last,
        String.join("\n", lines.subList(0, lines.size() - 1))
            + "\n"
            + lines.get(lines.size() - 1).substring(0, 30),
        StandardCharsets.UTF_8); // cut in the middle of the last line
    AuditVerifier.Report torn = AuditVerifier.verifySet(List.of(d), checkpointPublicKey());

    assertThat(cut.intact()).isTrue();
    assertThat(cut.lastCheckpointFinal()).isFalse();
    assertThat(String.join("\n", cut.describe()))
        .contains(last + " was cut (truncated)")
        .contains("last checkpoint at line");
    assertThat(torn.intact()).isFalse();
    assertThat(torn.brokenFile()).isEqualTo(last);
    assertThat(torn.brokenLine()).isEqualTo(lines.size());
    assertThat(torn.problem()).isEqualTo("not valid JSON");
  }

  @Test
  void verifySet_rewrittenWithTheChainRecomputedAcrossFiles_failsOnACheckpointSignature()
      throws Exception {
    Path d = copy();
    List<Path> files = files(d);
    List<List<String>> all = new ArrayList<>();
    for (Path f : files) {
      all.add(new ArrayList<>(Files.readAllLines(f)));
    }
    ObjectNode changed = (ObjectNode) JSON.readTree(all.get(1).get(2));
    changed.put("client", "someone-else");
    all.get(1).set(2, changed.toString());
    String prev = AuditVerifier.GENESIS;
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    for (int i = 0; i < files.size(); i++) {
      List<String> out = new ArrayList<>();
      for (String line : all.get(i)) {
        ObjectNode n = (ObjectNode) JSON.readTree(line);
        n.remove("hash");
        n.put("prev", prev);
        if ("checkpoint".equals(n.path("op").asText())) {
          n.put("head", prev); // the rewriter keeps checkpoints consistent, but cannot re-sign
        }
        sha.reset();
        sha.update(prev.getBytes(StandardCharsets.US_ASCII));
        sha.update(n.toString().getBytes(StandardCharsets.UTF_8));
        prev = HexFormat.of().formatHex(sha.digest());
        n.put("hash", prev);
        out.add(n.toString());
      }
      Files.write(files.get(i), out);
    }

    AuditVerifier.Report plain = AuditVerifier.verifySet(List.of(d), null);
    AuditVerifier.Report anchored = AuditVerifier.verifySet(List.of(d), checkpointPublicKey());

    assertThat(plain.intact()).as("the plain chain cannot tell").isTrue();
    assertThat(anchored.intact()).isFalse();
    assertThat(anchored.brokenFile()).isEqualTo(files.get(1));
    assertThat(anchored.problem()).contains("signature");
  }
}
