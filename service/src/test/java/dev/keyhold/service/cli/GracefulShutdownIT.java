package dev.keyhold.service.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.setup.PkiDirectory;
import dev.keyhold.service.testing.HealthProbe;
import dev.keyhold.service.testing.KeyholdJvm;
import dev.keyhold.service.testing.TestHsm;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM during load: {@code keyhold serve} in a child JVM, clients signing continuously, {@link
 * Process#destroy()} (SIGTERM). No in-flight call is lost: every call either succeeded or was
 * refused with UNAVAILABLE before the service accepted it; the process exits 0.
 */
class GracefulShutdownIT {
  private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");

  @TempDir Path dir;

  @Test
  void sigtermUnderSignLoad_noInFlightCallLost_exitsZero() throws Exception {
    TestHsm hsm = TestHsm.shared();
    Path out = dir.resolve("serve.out");
    Process p = serve(hsm, config(hsm));
    ExecutorService clients = Executors.newFixedThreadPool(4);
    ManagedChannel ch = null;
    try {
      int port = awaitPort(p, out);
      ch = channel(hsm.pki(), port);
      ManagedChannel channel = ch;
      SignRequest req =
          SignRequest.newBuilder()
              .setKey(KeyRef.newBuilder().setName("rsa2048"))
              .setScheme(SignatureScheme.RSA_PKCS1_SHA256.codePoint())
              .setDigest(
                  ByteString.copyFrom(MessageDigest.getInstance("SHA-256").digest(new byte[4])))
              .build();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong ok = new AtomicLong();
      AtomicLong okAfterSigterm = new AtomicLong();
      AtomicBoolean sigtermSent = new AtomicBoolean();
      Map<String, Long> failures = new ConcurrentHashMap<>();
      List<Future<?>> running = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        running.add(
            clients.submit(
                () -> {
                  var stub = KeyServiceGrpc.newBlockingStub(channel);
                  while (!stop.get()) {
                    boolean before = sigtermSent.get();
                    try {
                      stub.withDeadlineAfter(30, TimeUnit.SECONDS).sign(req);
                      ok.incrementAndGet();
                      if (before) {
                        okAfterSigterm.incrementAndGet();
                      }
                    } catch (StatusRuntimeException e) {
                      failures.merge(e.getStatus().getCode().name(), 1L, Long::sum);
                      if (e.getStatus().getCode() == Status.Code.UNAVAILABLE && sigtermSent.get()) {
                        return; // the service is gone: nothing more to send
                      }
                    }
                  }
                }));
      }
      HealthProbe.await("load running", Duration.ofSeconds(60), () -> ok.get() >= 50);

      sigtermSent.set(true);
      p.destroy(); // SIGTERM
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exited").isTrue();
      stop.set(true);
      for (Future<?> f : running) {
        f.get(60, TimeUnit.SECONDS);
      }

      String log = Files.readString(out, StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as(log).isZero();
      assertThat(log).contains("keyhold: stopped");
      assertThat(failures.keySet())
          .as("only refusals before acceptance, never a lost call: %s", failures)
          .isSubsetOf(Status.Code.UNAVAILABLE.name());
      assertThat(ok.get()).isGreaterThanOrEqualTo(50);
    } finally {
      clients.shutdownNow();
      if (ch != null) {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  private Path config(TestHsm hsm) throws Exception {
    PkiDirectory pki = hsm.pki();
    Path pin = dir.resolve("pin");
    char[] secret = hsm.hsmConfig().pin().read();
    Files.writeString(pin, new String(secret));
    java.util.Arrays.fill(secret, '\0');
    String yaml =
        """
        listen: 127.0.0.1:0
        shutdownGrace: 10s
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
        policy:
          - client: test-client
            keys: ["*"]
            operations: [sign]
        """
            .formatted(
                pki.cert("server"),
                pki.key("server"),
                pki.caCert(),
                TestHsm.LIBRARY,
                TestHsm.TOKEN_LABEL,
                pin,
                dir.resolve("audit.log"));
    Path f = dir.resolve("keyhold.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  private Process serve(TestHsm hsm, Path config) throws Exception {
    List<String> cmd =
        KeyholdJvm.command(List.of("-Xmx256m"), "serve", "--config", config.toString());
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("serve.out").toFile());
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

  private static ManagedChannel channel(PkiDirectory pki, int port) throws Exception {
    return NettyChannelBuilder.forAddress("127.0.0.1", port)
        .overrideAuthority("localhost")
        .sslContext(
            GrpcSslContexts.forClient()
                .trustManager(pki.caCert().toFile())
                .keyManager(pki.cert("test-client").toFile(), pki.key("test-client").toFile())
                .build())
        .build();
  }
}
