package dev.keyhold.service.auth;

import static dev.keyhold.service.testing.GrpcErrors.assertFails;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import dev.keyhold.config.PolicyRule;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.SignRequest;
import dev.keyhold.service.setup.LocalPki;
import dev.keyhold.service.testing.TestHsm;
import dev.keyhold.service.testing.TestKeyholdService;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One identity per caller, for the policy and the audit line alike: the certificates of issue 10 (a
 * CN and a SAN that disagree), URI SANs, a {@code cn:} rule for a SAN-less certificate and an SPKI
 * pin, each minted from the test CA, against a real service.
 */
class IdentityIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SPIFFE = "spiffe://keyhold.test/ns/web/sa/app";

  private static TestKeyholdService svc;
  private static LocalPki ca;
  private static Path dir;
  private static LocalPki.Issued pinned;
  private static String pin;

  @BeforeAll
  static void start() throws Exception {
    ca = TestHsm.shared().pki().loadOrCreateCa();
    dir = Files.createTempDirectory("keyhold-identity");
    pinned = ca.issueClient("pinned-app", List.of("pinned.example"), List.of());
    pin =
        HexFormat.of()
            .formatHex(
                MessageDigest.getInstance("SHA-256")
                    .digest(pinned.certificate().getPublicKey().getEncoded()));
    svc =
        TestKeyholdService.builder()
            .policy(
                List.of(
                    new PolicyRule("demo-app", List.of("ec-*"), Set.of("sign")),
                    new PolicyRule("uri:" + SPIFFE, List.of("ec-p256"), Set.of("sign")),
                    new PolicyRule("cn:legacy-app", List.of("ec-p256"), Set.of("sign")),
                    new PolicyRule("spki-sha256:" + pin, List.of("ec-p256"), Set.of("sign"))))
            .start();
  }

  @AfterAll
  static void stop() {
    svc.close();
  }

  @Test
  void sign_cnDemoAppWithSanIntruder_isDeniedAndAuditedAsIntruder() throws Exception {
    Result r = sign(ca.issueClient("demo-app", List.of("intruder"), List.of()));

    assertThat(r.failure).isNotNull();
    assertThat(r.failure.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    JsonNode line = auditLine(r.requestId);
    assertThat(line.path("client").asText()).isEqualTo("intruder");
    assertThat(line.path("identity").asText()).isEqualTo("dns:intruder");
    assertThat(line.has("rule")).as("no rule allowed it").isFalse();
    assertThat(line.path("outcome").asText()).isEqualTo("not_found");
  }

  @Test
  void sign_cnIntruderWithSanUpperCaseDemoApp_isAllowedViaDnsAndAuditedAsTheDnsName()
      throws Exception {
    Result r = sign(ca.issueClient("intruder", List.of("DEMO-APP"), List.of()));

    assertThat(r.failure).isNull();
    JsonNode line = auditLine(r.requestId);
    assertThat(line.path("client").asText()).isEqualTo("DEMO-APP");
    assertThat(line.path("identity").asText()).isEqualTo("dns:DEMO-APP");
    assertThat(line.path("rule").asText()).isEqualTo("policy[0]");
    assertThat(line.path("outcome").asText()).isEqualTo("ok");
  }

  @Test
  void sign_uriSan_isAllowedByTheUriRuleAndAuditedAsTheUri() throws Exception {
    Result r = sign(ca.issueClient("some-workload", List.of(), List.of(SPIFFE)));

    assertThat(r.failure).isNull();
    JsonNode line = auditLine(r.requestId);
    assertThat(line.path("identity").asText()).isEqualTo("uri:" + SPIFFE);
    assertThat(line.path("rule").asText()).isEqualTo("policy[1]");
  }

  @Test
  void sign_uriSanInAnotherCase_isDenied() throws Exception {
    Result r = sign(ca.issueClient("some-workload", List.of(), List.of(SPIFFE.toUpperCase())));

    assertThat(r.failure).isNotNull();
    assertThat(r.failure.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void sign_cnRuleAndSanLessCertificate_isAllowedAndAuditedAsTheCn() throws Exception {
    Result r = sign(ca.issueClient("legacy-app", List.of(), List.of()));

    assertThat(r.failure).isNull();
    JsonNode line = auditLine(r.requestId);
    assertThat(line.path("identity").asText()).isEqualTo("cn:legacy-app");
    assertThat(line.path("rule").asText()).isEqualTo("policy[2]");
  }

  @Test
  void sign_cnRuleButTheCertificateHasSans_isDenied() throws Exception {
    Result r = sign(ca.issueClient("legacy-app", List.of("elsewhere"), List.of()));

    assertThat(r.failure).isNotNull();
    assertThat(auditLine(r.requestId).path("identity").asText()).isEqualTo("dns:elsewhere");
  }

  @Test
  void sign_bareNameAndSanLessCertificateWithThatCn_isAllowedViaTheCn() throws Exception {
    Result r = sign(ca.issueClient("demo-app", List.of(), List.of()));

    assertThat(r.failure).isNull();
    assertThat(auditLine(r.requestId).path("identity").asText()).isEqualTo("cn:demo-app");
  }

  @Test
  void sign_spkiPin_isAllowedAndAuditedAsThePin() throws Exception {
    Result r = sign(pinned);

    assertThat(r.failure).isNull();
    JsonNode line = auditLine(r.requestId);
    assertThat(line.path("identity").asText()).isEqualTo("spki-sha256:" + pin);
    assertThat(line.path("rule").asText()).isEqualTo("policy[3]");
  }

  @Test
  void sign_samePinRuleOtherKey_isDenied() throws Exception {
    Result r = sign(ca.issueClient("pinned-app", List.of("pinned.example"), List.of()));

    assertFails(
        () -> {
          throw r.failure;
        },
        Status.Code.NOT_FOUND,
        ErrorReason.KEY_NOT_FOUND);
  }

  private record Result(String requestId, StatusRuntimeException failure) {}

  /** Signs with ec-p256 as the holder of this certificate. */
  private static Result sign(LocalPki.Issued who) throws Exception {
    Path cert = Files.createTempFile(dir, "client", ".pem");
    Path key = Files.createTempFile(dir, "client", ".key");
    Files.writeString(cert, LocalPki.pem(who.certificate()));
    LocalPki.writePrivate(key, LocalPki.pem(who.privateKey()));
    ManagedChannel ch =
        NettyChannelBuilder.forAddress("127.0.0.1", svc.port())
            .overrideAuthority("localhost")
            .sslContext(
                GrpcSslContexts.forClient()
                    .trustManager(svc.caCert().toFile())
                    .keyManager(cert.toFile(), key.toFile())
                    .build())
            .build();
    AtomicReference<Metadata> headers = new AtomicReference<>();
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    try {
      var stub =
          KeyServiceGrpc.newBlockingStub(ch)
              .withDeadlineAfter(30, TimeUnit.SECONDS)
              .withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(headers, trailers));
      StatusRuntimeException failure = null;
      try {
        stub.sign(
            SignRequest.newBuilder()
                .setKey(KeyRef.newBuilder().setName("ec-p256"))
                .setScheme(SignatureScheme.ECDSA_SECP256R1_SHA256.codePoint())
                .setDigest(ByteString.copyFrom(new byte[32]))
                .build());
      } catch (StatusRuntimeException e) {
        failure = e;
      }
      Metadata m =
          headers.get() != null && headers.get().containsKey(AuthInterceptor.REQUEST_ID_HEADER)
              ? headers.get()
              : trailers.get();
      return new Result(m.get(AuthInterceptor.REQUEST_ID_HEADER), failure);
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** The audit line of this request, once the writer thread has written it (at most 10 s). */
  private static JsonNode auditLine(String requestId) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (Files.exists(svc.auditFile())) {
        for (String l : Files.readAllLines(svc.auditFile())) {
          if (!l.isBlank()) {
            JsonNode n = JSON.readTree(l);
            if (n.path("request").asText().equals(requestId)) {
              return n;
            }
          }
        }
      }
      Thread.onSpinWait();
      TimeUnit.MILLISECONDS.sleep(20); // polling the file the writer thread appends to
    }
    throw new AssertionError("no audit line for request " + requestId);
  }
}
