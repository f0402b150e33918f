package dev.keyhold.service.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.keyhold.config.HsmConfig;
import dev.keyhold.config.PinSource;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.keys.TokenState;
import dev.keyhold.service.pkcs11.KeyProvisioner;
import dev.keyhold.service.pkcs11.Pkcs11Token;
import dev.keyhold.service.pkcs11.TokenSupervisor;
import dev.keyhold.service.setup.LocalPki;
import dev.keyhold.service.testing.FaultShim;
import dev.keyhold.service.testing.HealthProbe;
import dev.keyhold.service.testing.TestHsm;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.ManagedChannel;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * An HA group of two SoftHSM tokens holding the same imported key, the second reached through the
 * fault shim. Under concurrent load the shim fails the second token (device error, invalidated
 * sessions, a hung C_Sign): no operation fails, traffic moves to the first token while the second
 * is down and back after it recovers, each token has its own state and metrics. A key name whose
 * SPKI differs between the tokens is a start-up error naming both.
 */
class HaGroupIT {
  private static final String KEY = "ha-ec";

  @Test
  void twoTokens_faultsOnOne_zeroFailedOperations_trafficMovesBack_mismatchRefused()
      throws Exception {
    TestHsm hsm = TestHsm.shared();
    PinSource pin = hsm.hsmConfig().pin();
    initToken(hsm, "ha-a", pin);
    initToken(hsm, "ha-b", pin);
    FaultShim shimA = FaultShim.create(); // passes through: its own SoftHSM instance
    FaultShim shimB = FaultShim.create();
    Pkcs11Token a = open(shimA.library(), "ha-a", pin);
    Pkcs11Token b = open(shimB.library(), "ha-b", pin);
    LocalPki pki = LocalPki.create("ha-ca");
    LocalPki.Issued issued = pki.issueServer("ha.example", List.of("ha.example"), List.of());
    for (Pkcs11Token t : List.of(a, b)) {
      new KeyProvisioner(t)
          .importKey(KEY, issued.privateKey(), List.of(issued.certificate(), pki.caCertificate()));
    }

    try (TestKeyholdService svc =
        TestKeyholdService.builder()
            .tokens(List.of(a, b))
            .sessions(8)
            .probeInterval(Duration.ofMillis(200))
            .probeTimeout(Duration.ofSeconds(1))
            .metrics(true)
            .start()) {
      List<TokenSupervisor> tokens = svc.server().tokens();
      assertThat(tokens).extracting(TokenSupervisor::name).containsExactly("ha-a", "ha-b");
      assertThat(svc.server().keys()).extracting(k -> k.name()).containsExactly(KEY);
      TokenSupervisor supB = tokens.get(1);
      MeterRegistry reg = svc.metrics().registry();
      ManagedChannel ch = svc.channel("test-client");
      HealthProbe health = new HealthProbe(ch, svc.metricsPort());
      Load load = new Load(ch);
      try {
        HealthProbe.await("serving", Duration.ofSeconds(30), () -> health.serving(true));
        load.start(4);
        awaitMore(reg, "ha-a", 20);
        awaitMore(reg, "ha-b", 20);

        // 1. Device error for two seconds: B goes NOT_SERVING, A carries the load, B comes back.
        shimB.deviceError(Duration.ofSeconds(2));
        HealthProbe.await(
            "B not serving", Duration.ofSeconds(20), () -> supB.state() == TokenState.NOT_SERVING);
        assertThat(health.serving(true)).as("A still serves every key").isTrue();
        awaitMore(reg, "ha-a", 20);
        HealthProbe.await(
            "B serving again", Duration.ofSeconds(30), () -> supB.state() == TokenState.SERVING);
        awaitMore(reg, "ha-b", 20);

        // 2. B's sessions invalidated: B re-creates its provider, the calls move to A meanwhile.
        long gen = supB.generation();
        shimB.invalidateSessions();
        HealthProbe.await(
            "B re-initialised", Duration.ofSeconds(30), () -> supB.generation() > gen);
        HealthProbe.await(
            "B serving again", Duration.ofSeconds(30), () -> supB.state() == TokenState.SERVING);
        awaitMore(reg, "ha-b", 20);

        // 3. C_Sign hangs on B: the probe times out, B is NOT_SERVING, A carries the load; the
        // calls caught in the hang finish within their deadlines once it is released.
        shimB.hang("C_Sign");
        shimB.awaitHung(1, Duration.ofSeconds(20));
        HealthProbe.await(
            "B not serving (probe timeout)",
            Duration.ofSeconds(20),
            () -> supB.state() == TokenState.NOT_SERVING);
        awaitMore(reg, "ha-a", 20);
        shimB.release();
        HealthProbe.await(
            "B serving again", Duration.ofSeconds(30), () -> supB.state() == TokenState.SERVING);
        awaitMore(reg, "ha-b", 20);

        load.stop();
        assertThat(load.failures).as("failed operations under load").isEmpty();
        assertThat(load.ok.get()).isPositive();
        String scrape = health.metrics();
        assertThat(scrape)
            .contains("keyhold_hsm_token_up{token=\"ha-a\"} 1.0")
            .contains("keyhold_hsm_token_up{token=\"ha-b\"} 1.0")
            .containsPattern(
                "keyhold_hsm_token_state_changes_total\\{state=\"not_serving\",token=\"ha-b\"\\}"
                    + " [1-9]")
            .containsPattern(
                "keyhold_hsm_token_operations_total\\{outcome=\"ok\",token=\"ha-a\"\\} [1-9]")
            .containsPattern(
                "keyhold_hsm_token_operations_total\\{outcome=\"ok\",token=\"ha-b\"\\} [1-9]");
        assertThat(scrape)
            .doesNotContainPattern(
                "keyhold_hsm_token_state_changes_total\\{state=\"not_serving\",token=\"ha-a\"\\}");
      } finally {
        shimB.release();
        load.stop();
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }

    // A key name with another SPKI on the second token: refused at start-up, naming both tokens.
    LocalPki.Issued other = pki.issueServer("other.example", List.of("other.example"), List.of());
    // Fresh providers: closing the group logged the module instances' re-created sessions out.
    Pkcs11Token a2 = open(shimA.library(), "ha-a", pin);
    Pkcs11Token b2 = open(shimB.library(), "ha-b", pin);
    new KeyProvisioner(a2)
        .importKey(
            "ha-split", issued.privateKey(), List.of(issued.certificate(), pki.caCertificate()));
    new KeyProvisioner(b2)
        .importKey(
            "ha-split", other.privateKey(), List.of(other.certificate(), pki.caCertificate()));
    assertThatThrownBy(() -> TestKeyholdService.builder().tokens(List.of(a2, b2)).start())
        .hasStackTraceContaining("key 'ha-split' is not the same key on every token")
        .hasStackTraceContaining("on token ha-a")
        .hasStackTraceContaining("on token ha-b");
  }

  private static long ok(MeterRegistry reg, String token) {
    Counter c =
        reg.find("keyhold.hsm.token.operations").tag("token", token).tag("outcome", "ok").counter();
    return c == null ? 0 : (long) c.count();
  }

  private static void awaitMore(MeterRegistry reg, String token, long more) {
    long from = ok(reg, token);
    HealthProbe.await(
        more + " more operations on " + token,
        Duration.ofSeconds(30),
        () -> ok(reg, token) >= from + more);
  }

  /** A new token in the JVM's SoftHSM store, its PINs passed through the environment. */
  private static void initToken(TestHsm hsm, String label, PinSource pin) throws Exception {
    byte[] r = new byte[8];
    new SecureRandom().nextBytes(r);
    java.util.Map<String, String> env =
        java.util.Map.of(
            "SOFTHSM2_CONF",
            hsm.softhsmConf().toString(),
            "KH_SO_PIN",
            HexFormat.of().formatHex(r),
            "KH_USER_PIN",
            new String(pin.read()));
    String slots = run(env, "-L");
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile(
                "Slot \\d+ \\((0x[0-9a-f]+)\\)[^\\n]*\\n\\s*token state:\\s*uninitialized")
            .matcher(slots);
    assertThat(m.find()).as(slots).isTrue();
    run(env, "--slot", m.group(1), "--init-token", "--label", label, "--so-pin", "env:KH_SO_PIN");
    run(
        env,
        "--token-label",
        label,
        "--login",
        "--login-type",
        "so",
        "--so-pin",
        "env:KH_SO_PIN",
        "--init-pin",
        "--pin",
        "env:KH_USER_PIN");
  }

  private static String run(java.util.Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("pkcs11-tool", "--module", TestHsm.LIBRARY));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  private static Pkcs11Token open(Path library, String label, PinSource pin) {
    return Pkcs11Token.open(
        new HsmConfig(library, label, null, pin, 8, 0, HsmConfig.DecryptMode.RAW, "softhsm2"));
  }

  /** Signing threads that count every failure, until stopped. */
  private static final class Load {
    private final ManagedChannel ch;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong ok = new AtomicLong();
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final List<Thread> threads = new ArrayList<>();
    private CountDownLatch done = new CountDownLatch(0);

    Load(ManagedChannel ch) {
      this.ch = ch;
    }

    void start(int n) throws Exception {
      var stub = KeyServiceGrpc.newBlockingStub(ch);
      SignRequest req =
          SignRequest.newBuilder()
              .setKey(KeyRef.newBuilder().setName(KEY))
              .setScheme(SignatureScheme.ECDSA_SECP256R1_SHA256.codePoint())
              .setDigest(
                  ByteString.copyFrom(MessageDigest.getInstance("SHA-256").digest(new byte[7])))
              .build();
      done = new CountDownLatch(n);
      for (int i = 0; i < n; i++) {
        Thread t =
            new Thread(
                () -> {
                  try {
                    while (!stop.get()) {
                      try {
                        stub.withDeadlineAfter(20, TimeUnit.SECONDS).sign(req);
                        ok.incrementAndGet();
                      } catch (RuntimeException e) {
                        failures.add(e.toString());
                      }
                    }
                  } finally {
                    done.countDown();
                  }
                },
                "ha-load-" + i);
        t.setDaemon(true);
        threads.add(t);
        t.start();
      }
    }

    void stop() throws InterruptedException {
      stop.set(true);
      assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
    }
  }
}
