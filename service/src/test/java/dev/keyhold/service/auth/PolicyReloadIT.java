package dev.keyhold.service.auth;

import static dev.keyhold.service.testing.GrpcErrors.assertFails;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.keyhold.config.ConfigLoader;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.KeyholdServer;
import dev.keyhold.service.setup.PkiDirectory;
import dev.keyhold.service.testing.CapturedLog;
import dev.keyhold.service.testing.HealthProbe;
import dev.keyhold.service.testing.KeyholdJvm;
import dev.keyhold.service.testing.TestHsm;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The policy reloads without a restart: a change of the config file grants and revokes a caller
 * live (real mTLS clients), a broken file is rejected with a message naming the file and line while
 * the old policy stays in force, and SIGHUP reloads a running {@code keyhold serve} (which a JVM
 * without a handler would die of).
 */
class PolicyReloadIT {
  private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");
  private static final String TEST_ONLY =
      """
      policy:
        - client: test-client
          keys: ["*"]
          operations: [sign]
      """;
  private static final String TEST_AND_OTHER =
      TEST_ONLY
          + """
            - client: other-client
              keys: ["rsa2048"]
              operations: [sign]
          """;

  @TempDir static Path dir;
  private static Path config;
  private static KeyholdServer server;
  private static ManagedChannel test;
  private static ManagedChannel other;
  private static int edits;

  @BeforeAll
  static void start() throws Exception {
    TestHsm hsm = TestHsm.shared();
    config = dir.resolve("keyhold.yaml");
    write(config, TEST_ONLY);
    server =
        KeyholdServer.start(new ConfigLoader().load(config), hsm.token(), UnaryOperator.identity());
    server.policy().watch(config);
    test = channel(hsm.pki(), server.port(), "test-client");
    other = channel(hsm.pki(), server.port(), "other-client");
  }

  @AfterAll
  static void stop() throws Exception {
    test.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    other.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  @Test
  void fileChange_grantsThenRevokesACaller_live() throws Exception {
    edit(TEST_ONLY);
    assertFails(() -> sign(other), Status.Code.NOT_FOUND, ErrorReason.KEY_NOT_FOUND);

    edit(TEST_AND_OTHER);
    assertThat(sign(other)).isNotEmpty();

    edit(TEST_ONLY);
    assertFails(() -> sign(other), Status.Code.NOT_FOUND, ErrorReason.KEY_NOT_FOUND);
    assertThat(sign(test)).isNotEmpty();
  }

  /**
   * The audit log usually sits in the config file's folder and is written every few milliseconds
   * under load. Its writes must not keep postponing the debounced reload (they did: every event
   * restarted the 500 ms wait of the folder watcher, so a policy change was never read while the
   * service was busy).
   */
  @Test
  void fileChange_isReadWhileAnotherFileInTheFolderIsWrittenContinuously() throws Exception {
    edit(TEST_ONLY);
    Path busy = dir.resolve("audit-neighbour.log");
    java.util.concurrent.atomic.AtomicBoolean stop =
        new java.util.concurrent.atomic.AtomicBoolean();
    Thread writer =
        new Thread(
            () -> {
              try (var out = Files.newOutputStream(busy)) {
                while (!stop.get()) {
                  out.write("{\"op\":\"sign\"}\n".getBytes(StandardCharsets.UTF_8));
                  out.flush();
                  Thread.sleep(2); // pacing of the neighbour's writes, not synchronization
                }
              } catch (java.io.IOException | InterruptedException e) {
                throw new IllegalStateException(e);
              }
            },
            "neighbour-writer");
    writer.start();
    try {
      edit(TEST_AND_OTHER);
      assertThat(sign(other)).isNotEmpty();
    } finally {
      stop.set(true);
      writer.join(10_000);
    }
    edit(TEST_ONLY);
  }

  @Test
  void brokenFile_rejectedWithFileAndLine_oldPolicyStaysInForce() throws Exception {
    edit(TEST_AND_OTHER);
    try (CapturedLog logged = CapturedLog.of(PolicyReloader.class)) {
      long rejected = server.policy().rejected();
      // "sing": an unknown operation in the second rule.
      int at = TEST_AND_OTHER.lastIndexOf("[sign]");
      write(config, TEST_AND_OTHER.substring(0, at) + "[sing]" + TEST_AND_OTHER.substring(at + 6));
      HealthProbe.await(
          "broken policy rejected",
          Duration.ofSeconds(60),
          () -> server.policy().rejected() > rejected);
      String line =
          logged.messages().stream().filter(m -> m.contains("rejected")).findFirst().orElseThrow();
      assertThat(line).contains(config.toString()).containsPattern("line \\d+").contains("sing");
      assertThat(line).doesNotContain("\n");
      assertThat(logged.events()).allMatch(e -> e.getThrowableProxy() == null);
      // The previous policy (other-client may sign) is still the one in force.
      assertThat(sign(other)).isNotEmpty();
    }
    edit(TEST_ONLY);
  }

  @Test
  void sighup_reloadsTheRunningService_andDoesNotStopIt() throws Exception {
    TestHsm hsm = TestHsm.shared();
    Path child = Files.createDirectories(dir.resolve("child"));
    Path pin = child.resolve("pin");
    char[] secret = hsm.hsmConfig().pin().read();
    Files.writeString(pin, new String(secret));
    java.util.Arrays.fill(secret, '\0');
    Path file = child.resolve("keyhold.yaml");
    String head =
        """
        listen: 127.0.0.1:0
        tls:
          certChain: %s
          privateKey: %s
          clientCa: %s
        hsm:
          library: %s
          tokenLabel: %s
          pin: { file: %s }
          sessions: 2
        audit:
          file: %s
        """
            .formatted(
                hsm.pki().cert("server"),
                hsm.pki().key("server"),
                hsm.pki().caCert(),
                TestHsm.LIBRARY,
                TestHsm.TOKEN_LABEL,
                pin,
                child.resolve("audit.log"));
    Files.writeString(file, head + TEST_ONLY);
    Path out = child.resolve("serve.out");
    Process p = serve(hsm, file, out);
    ManagedChannel ch = null;
    try {
      int port = awaitPort(p, out);
      ch = channel(hsm.pki(), port, "other-client");
      ManagedChannel otherChild = ch;
      assertFails(() -> sign(otherChild), Status.Code.NOT_FOUND, ErrorReason.KEY_NOT_FOUND);

      Files.writeString(file, head + TEST_AND_OTHER);
      Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).start();
      assertThat(kill.waitFor()).isZero();
      HealthProbe.await(
          "reload on SIGHUP logged",
          Duration.ofSeconds(60),
          () -> {
            if (!p.isAlive()) {
              throw new AssertionError("keyhold serve exited on SIGHUP: " + read(out));
            }
            return read(out).contains("(SIGHUP)");
          });
      assertThat(p.isAlive()).isTrue();
      assertThat(read(out)).contains("policy reloaded from " + file.toAbsolutePath() + " (SIGHUP)");
      assertThat(sign(otherChild)).isNotEmpty();
    } finally {
      if (ch != null) {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      p.destroy();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /** Writes the policy (made unique by a comment, so that the content always changes), waits. */
  private static void edit(String policy) throws Exception {
    long before = server.policy().reloaded();
    write(config, policy + "# edit " + (++edits) + "\n");
    HealthProbe.await(
        "policy reloaded", Duration.ofSeconds(60), () -> server.policy().reloaded() > before);
  }

  /** Writes the whole config file atomically (rename), as editors and config managers do. */
  private static void write(Path file, String policy) throws Exception {
    TestHsm hsm = TestHsm.shared();
    PkiDirectory pki = hsm.pki();
    String yaml =
        """
        listen: 127.0.0.1:0
        tls:
          certChain: %s
          privateKey: %s
          clientCa: %s
        hsm:
          library: %s
          tokenLabel: %s
          pin: { env: KEYHOLD_POLICY_RELOAD_IT_UNUSED }
          sessions: 2
        """
                .formatted(
                    pki.cert("server"),
                    pki.key("server"),
                    pki.caCert(),
                    TestHsm.LIBRARY,
                    TestHsm.TOKEN_LABEL)
            + policy;
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, yaml);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static byte[] sign(ManagedChannel ch) throws Exception {
    return KeyServiceGrpc.newBlockingStub(ch)
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .sign(
            SignRequest.newBuilder()
                .setKey(KeyRef.newBuilder().setName("rsa2048"))
                .setScheme(SignatureScheme.RSA_PKCS1_SHA256.codePoint())
                .setDigest(
                    ByteString.copyFrom(MessageDigest.getInstance("SHA-256").digest(new byte[4])))
                .build())
        .getSignature()
        .toByteArray();
  }

  private static ManagedChannel channel(PkiDirectory pki, int port, String client)
      throws Exception {
    return NettyChannelBuilder.forAddress("127.0.0.1", port)
        .overrideAuthority("localhost")
        .sslContext(
            GrpcSslContexts.forClient()
                .trustManager(pki.caCert().toFile())
                .keyManager(pki.cert(client).toFile(), pki.key(client).toFile())
                .build())
        .build();
  }

  private static Process serve(TestHsm hsm, Path config, Path out) throws Exception {
    List<String> cmd =
        KeyholdJvm.command(List.of("-Xmx256m"), "serve", "--config", config.toString());
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
    pb.environment().put("SOFTHSM2_CONF", hsm.softhsmConf().toString());
    return pb.start();
  }

  private static int awaitPort(Process p, Path out) {
    int[] port = new int[1];
    HealthProbe.await(
        "keyhold serve listening",
        Duration.ofSeconds(90),
        () -> {
          if (!p.isAlive()) {
            throw new AssertionError("keyhold serve exited: " + read(out));
          }
          Matcher m = LISTENING.matcher(read(out));
          if (m.find()) {
            port[0] = Integer.parseInt(m.group(1));
            return true;
          }
          return false;
        });
    return port[0];
  }

  private static String read(Path f) {
    try {
      return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
