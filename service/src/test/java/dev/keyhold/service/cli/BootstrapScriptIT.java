package dev.keyhold.service.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.GetKeyRequest;
import dev.keyhold.proto.v1.KeyInfo;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.ListKeysRequest;
import dev.keyhold.proto.v1.SignRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The README's path, end to end and out of process: {@code hsm-config/softhsm/bootstrap.sh} with
 * the shaded service jar creates a token, keys, PKI and config; {@code keyhold serve} starts from
 * them; an independent gRPC client with the generated mTLS certificates calls it; {@code openssl}
 * verifies the signature. Also the start-up failures a new user meets.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BootstrapScriptIT {
  private static final Path MODULE = Path.of("").toAbsolutePath();
  private static final Path SCRIPT = MODULE.getParent().resolve("hsm-config/softhsm/bootstrap.sh");

  private Path home;
  private Path jar;
  private Process server;

  @BeforeAll
  void bootstrap() throws Exception {
    home = MODULE.resolve("target/bootstrap-it");
    deleteTree(home);
    try (var files = Files.list(MODULE.resolve("target"))) {
      jar =
          files
              .filter(p -> p.getFileName().toString().endsWith("-all.jar"))
              .findFirst()
              .orElseThrow(() -> new IllegalStateException("shaded jar missing; run mvn verify"));
    }
    Result first = run(List.of(SCRIPT.toString(), jar.toString()), 300);
    assertThat(first.code).as(first.output).isZero();
    assertThat(first.output)
        .contains("created token 'keyhold'")
        .contains("created [rsa2048, rsa3072, ec-p256, ec-p384]")
        .contains("certified rsa2048");
  }

  @AfterAll
  void stop() throws Exception {
    if (server != null) {
      server.destroy();
      if (!server.waitFor(10, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
    }
  }

  @Test
  void bootstrap_secondRun_changesNothing() throws Exception {
    Result again = run(List.of(SCRIPT.toString(), jar.toString()), 300);
    assertThat(again.code).as(again.output).isZero();
    assertThat(again.output)
        .contains("token 'keyhold' exists")
        .contains("all keys present")
        .doesNotContain("certified");
    String pin = Files.readString(home.resolve("secrets/user.pin")).trim();
    assertThat(again.output).doesNotContain(pin);
  }

  @Test
  void serve_fromBootstrappedConfig_signsWhatOpensslVerifies() throws Exception {
    Path config = home.resolve("keyhold.yaml");
    String yaml =
        Files.readString(config)
            .replaceAll("(?m)^listen: \\S+", "listen: 127.0.0.1:0")
            .replaceAll("(?m)^  listen: 127.0.0.1:9464", "  listen: 127.0.0.1:0");
    Path itConfig = home.resolve("keyhold-it.yaml");
    Files.writeString(itConfig, yaml);
    server =
        start(
            List.of(
                "java",
                "--add-exports=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED",
                "-jar",
                jar.toString(),
                "serve",
                "--config",
                itConfig.toString()));
    int port = awaitListening(60);

    Path pki = home.resolve("pki");
    ManagedChannel ch =
        NettyChannelBuilder.forAddress("127.0.0.1", port)
            .sslContext(
                GrpcSslContexts.forClient()
                    .trustManager(pki.resolve("ca.pem").toFile())
                    .keyManager(
                        pki.resolve("demo-app.pem").toFile(), pki.resolve("demo-app.key").toFile())
                    .build())
            .build();
    try {
      var stub = KeyServiceGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS);
      assertThat(stub.listKeys(ListKeysRequest.getDefaultInstance()).getKeysList())
          .extracting(KeyInfo::getName)
          .containsExactly("ec-p256", "ec-p384", "rsa2048", "rsa3072");
      for (String key : List.of("rsa2048", "ec-p256")) {
        KeyInfo info =
            stub.getKey(
                GetKeyRequest.newBuilder().setKey(KeyRef.newBuilder().setName(key)).build());
        SignatureScheme scheme =
            key.startsWith("rsa")
                ? SignatureScheme.RSA_PKCS1_SHA256
                : SignatureScheme.ECDSA_SECP256R1_SHA256;
        byte[] msg = ("message for " + key).getBytes(StandardCharsets.UTF_8);
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(msg);
        byte[] sig =
            stub.sign(
                    SignRequest.newBuilder()
                        .setKey(KeyRef.newBuilder().setName(key))
                        .setScheme(scheme.codePoint())
                        .setDigest(ByteString.copyFrom(digest))
                        .build())
                .getSignature()
                .toByteArray();
        Path dir = Files.createTempDirectory(home, "openssl");
        Files.write(dir.resolve("msg"), msg);
        Files.write(dir.resolve("sig"), sig);
        Files.writeString(
            dir.resolve("cert.pem"),
            "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes())
                    .encodeToString(info.getCertificateChain(0).toByteArray())
                + "\n-----END CERTIFICATE-----\n");
        Result pub =
            run(
                List.of(
                    "openssl",
                    "x509",
                    "-in",
                    dir.resolve("cert.pem").toString(),
                    "-pubkey",
                    "-noout",
                    "-out",
                    dir.resolve("pub.pem").toString()),
                30);
        assertThat(pub.code).as(pub.output).isZero();
        Result verify =
            run(
                List.of(
                    "openssl",
                    "dgst",
                    "-sha256",
                    "-verify",
                    dir.resolve("pub.pem").toString(),
                    "-signature",
                    dir.resolve("sig").toString(),
                    dir.resolve("msg").toString()),
                30);
        assertThat(verify.output).as(key).contains("Verified OK");
      }
    } finally {
      ch.shutdownNow();
    }
    Result audit =
        run(
            List.of(
                "java",
                "-jar",
                jar.toString(),
                "audit",
                "verify",
                home.resolve("log/audit.log").toString()),
            60);
    assertThat(audit.output).contains("audit chain intact");
  }

  @Test
  void serve_wrongPin_stopsWithOneClearLine() throws Exception {
    Path badPin = home.resolve("secrets/wrong.pin");
    Files.writeString(badPin, "not-the-pin\n");
    Path cfg = home.resolve("keyhold-badpin.yaml");
    Files.writeString(
        cfg,
        Files.readString(home.resolve("keyhold.yaml"))
            .replace("secrets/user.pin", "secrets/wrong.pin"));
    Result r = serveOnce(cfg);
    assertThat(r.code).isEqualTo(2);
    assertThat(lastLine(r.output))
        .contains("HSM login failed")
        .contains("PIN")
        .contains("wrong")
        .doesNotContain("not-the-pin");
  }

  @Test
  void serve_missingLibrary_saysWhatToInstall() throws Exception {
    Path cfg = home.resolve("keyhold-nolib.yaml");
    Files.writeString(
        cfg,
        Files.readString(home.resolve("keyhold.yaml"))
            .replace("/usr/lib/softhsm/libsofthsm2.so", "/nonexistent/libpkcs11.so"));
    Result r = serveOnce(cfg);
    assertThat(r.code).isEqualTo(2);
    assertThat(lastLine(r.output)).contains("/nonexistent/libpkcs11.so").contains("does not exist");
  }

  @Test
  void serve_unknownTokenLabel_listsTheTokensPresent() throws Exception {
    Path cfg = home.resolve("keyhold-notoken.yaml");
    Files.writeString(
        cfg,
        Files.readString(home.resolve("keyhold.yaml"))
            .replaceAll("(?m)^  tokenLabel: keyhold", "  tokenLabel: no-such-token"));
    Result r = serveOnce(cfg);
    assertThat(r.code).isEqualTo(2);
    assertThat(lastLine(r.output))
        .contains("no token labelled 'no-such-token'")
        .contains("keyhold");
  }

  @Test
  void serve_malformedConfig_namesTheField() throws Exception {
    Path cfg = home.resolve("keyhold-typo.yaml");
    Files.writeString(
        cfg,
        Files.readString(home.resolve("keyhold.yaml")).replace("  sessions: 4", "  sesions: 4"));
    Result r = serveOnce(cfg);
    assertThat(r.code).isEqualTo(2);
    assertThat(lastLine(r.output)).contains("sesions").contains("line");
  }

  private Result serveOnce(Path cfg) throws Exception {
    return run(
        List.of(
            "java",
            "--add-exports=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED",
            "-jar",
            jar.toString(),
            "serve",
            "--config",
            cfg.toString()),
        60);
  }

  private static String lastLine(String output) {
    String[] lines = output.strip().split("\n");
    return lines[lines.length - 1];
  }

  private record Result(int code, String output) {}

  private ProcessBuilder builder(List<String> cmd) {
    ProcessBuilder pb =
        new ProcessBuilder(new ArrayList<>(cmd))
            .redirectErrorStream(true)
            .directory(MODULE.toFile());
    pb.environment().put("KEYHOLD_HOME", home.toString());
    pb.environment().put("SOFTHSM2_CONF", home.resolve("softhsm/softhsm2.conf").toString());
    return pb;
  }

  private Process start(List<String> cmd) throws IOException {
    return builder(cmd).redirectOutput(home.resolve("serve.log").toFile()).start();
  }

  private Result run(List<String> cmd, int timeoutSeconds) throws Exception {
    Process p = builder(cmd).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(cmd + " timed out");
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /**
   * The port the server bound ({@code listen: 127.0.0.1:0}), from its "Keyhold listening on
   * HOST:PORT" log line, which it writes once it serves.
   */
  private int awaitListening(int seconds) throws Exception {
    Pattern listening = Pattern.compile("Keyhold listening on 127\\.0\\.0\\.1:(\\d+) ");
    Path log = home.resolve("serve.log");
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < end) {
      Matcher m = listening.matcher(Files.readString(log));
      if (m.find()) {
        return Integer.parseInt(m.group(1));
      }
      if (!server.isAlive()) {
        throw new AssertionError("server exited: " + Files.readString(log));
      }
      Thread.sleep(100);
    }
    throw new AssertionError("server did not say it listens: " + Files.readString(log));
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
