package dev.keyhold.service.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.keyhold.config.PolicyRule;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.Operation;
import dev.keyhold.service.auth.AuthInterceptor;
import dev.keyhold.service.auth.ClientIdentity;
import dev.keyhold.service.auth.Policy;
import dev.keyhold.service.grpc.Errors.KeyholdStatusException;
import dev.keyhold.service.keys.HsmKey;
import dev.keyhold.service.keys.StaticKeystore;
import dev.keyhold.service.ops.ApiOperation;
import dev.keyhold.service.testing.SoftwareKey;
import io.grpc.Context;
import io.grpc.Status;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Lookup plus authorization: unknown and forbidden keys get the same answer. */
class KeyResolverTest {
  private static final ClientIdentity WEB =
      new ClientIdentity(List.of("web"), List.of(), null, true, "00aa");
  private static final ClientIdentity OTHER =
      new ClientIdentity(List.of("other"), List.of(), null, true, "00bb");
  private static SoftwareKey rsa;
  private static SoftwareKey ec;
  private static KeyResolver resolver;

  @BeforeAll
  static void keys() throws Exception {
    rsa = SoftwareKey.rsa("rsa2048", 2048);
    ec = SoftwareKey.ec("ec-p256", "secp256r1");
    Policy policy =
        new Policy(
            List.of(
                new PolicyRule("web", List.of("*"), Set.of("sign", "decrypt_premaster")),
                new PolicyRule("other", List.of("ec-*"), Set.of("sign"))));
    resolver = new KeyResolver(new StaticKeystore(List.of(rsa, ec)), () -> policy);
  }

  private static <T> T as(ClientIdentity who, AtomicReference<Policy.Grant> grant, Callable<T> c)
      throws Exception {
    return Context.current()
        .withValues(AuthInterceptor.IDENTITY, who, AuthInterceptor.GRANT, grant)
        .call(c);
  }

  private static KeyRef name(String n) {
    return KeyRef.newBuilder().setName(n).build();
  }

  private static KeyRef spki(byte[] b) {
    return KeyRef.newBuilder().setSpkiSha256(ByteString.copyFrom(b)).build();
  }

  private static void assertRefused(
      Callable<?> call, Status.Code code, ErrorReason reason, String message) {
    assertThatThrownBy(call::call)
        .isInstanceOfSatisfying(
            KeyholdStatusException.class,
            e -> {
              assertThat(e.code()).isEqualTo(code);
              assertThat(e.reason()).isEqualTo(reason);
              assertThat(e.getMessage()).isEqualTo(message);
            });
  }

  @Test
  void resolve_byNameAndBySpki_grantedKey_isReturnedAndTheGrantRecorded() throws Exception {
    AtomicReference<Policy.Grant> grant = new AtomicReference<>();

    HsmKey byName = as(WEB, grant, () -> resolver.resolve(name("rsa2048"), ApiOperation.SIGN));

    assertThat(byName).isSameAs(rsa);
    assertThat(grant.get()).isNotNull();
    assertThat(grant.get().rule()).isEqualTo("policy[0]");
    assertThat(grant.get().identity().toString()).isEqualTo("dns:web");

    HsmKey bySpki =
        as(
            OTHER,
            grant,
            () -> resolver.resolve(spki(ec.description().spkiSha256()), ApiOperation.SIGN));
    assertThat(bySpki).isSameAs(ec);
    assertThat(grant.get().rule()).isEqualTo("policy[1]");
  }

  @Test
  void resolve_forbiddenAndUnknownKey_sameNotFound() {
    AtomicReference<Policy.Grant> grant = new AtomicReference<>();
    String msg =
        "key 'rsa2048' does not exist or is not available to this client for decrypt_premaster";

    assertRefused(
        () -> as(OTHER, grant, () -> resolver.resolve(name("rsa2048"), ApiOperation.SIGN)),
        Status.Code.NOT_FOUND,
        ErrorReason.KEY_NOT_FOUND,
        "key 'rsa2048' does not exist or is not available to this client for sign");
    assertRefused(
        () ->
            as(
                OTHER,
                grant,
                () -> resolver.resolve(name("rsa2048"), ApiOperation.DECRYPT_PREMASTER)),
        Status.Code.NOT_FOUND,
        ErrorReason.KEY_NOT_FOUND,
        msg);
    assertRefused(
        () -> as(WEB, grant, () -> resolver.resolve(name("nope"), ApiOperation.SIGN)),
        Status.Code.NOT_FOUND,
        ErrorReason.KEY_NOT_FOUND,
        "key 'nope' does not exist or is not available to this client for sign");
    byte[] unknown = new byte[32];
    assertRefused(
        () -> as(WEB, grant, () -> resolver.resolve(spki(unknown), ApiOperation.SIGN)),
        Status.Code.NOT_FOUND,
        ErrorReason.KEY_NOT_FOUND,
        "key spki-sha256:"
            + HexFormat.of().formatHex(unknown)
            + " does not exist or is not available to this client for sign");
    assertThat(grant.get()).isNull();
  }

  @Test
  void resolve_ungrantedOperation_needsAnyGrantOnTheKey() throws Exception {
    AtomicReference<Policy.Grant> grant = new AtomicReference<>();

    assertThat(as(OTHER, grant, () -> resolver.resolve(name("ec-p256"), ApiOperation.GET_KEY)))
        .isSameAs(ec);
    assertThat(grant.get().rule()).isEqualTo("policy[1]");
    assertRefused(
        () -> as(OTHER, grant, () -> resolver.resolve(name("rsa2048"), ApiOperation.GET_KEY)),
        Status.Code.NOT_FOUND,
        ErrorReason.KEY_NOT_FOUND,
        "key 'rsa2048' does not exist or is not available to this client for any operation");
  }

  @Test
  void resolve_missingOrEmptyReference_isMissingField() {
    AtomicReference<Policy.Grant> grant = new AtomicReference<>();

    assertRefused(
        () ->
            as(WEB, grant, () -> resolver.resolve(KeyRef.getDefaultInstance(), ApiOperation.SIGN)),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.MISSING_FIELD,
        "key is required (a name or an SPKI SHA-256)");
    assertRefused(
        () -> as(WEB, grant, () -> resolver.resolve(name(""), ApiOperation.SIGN)),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.MISSING_FIELD,
        "key name is empty");
    assertRefused(
        () -> as(WEB, grant, () -> resolver.resolve(spki(new byte[0]), ApiOperation.SIGN)),
        Status.Code.INVALID_ARGUMENT,
        ErrorReason.MISSING_FIELD,
        "key spki_sha256 is empty");
  }

  @Test
  void allowed_ecKey_neverOffersDecryptPremaster() throws Exception {
    AtomicReference<Policy.Grant> grant = new AtomicReference<>();

    assertThat(as(WEB, grant, () -> resolver.allowed(ec)))
        .containsExactly(Operation.OPERATION_SIGN);
    assertThat(as(WEB, grant, () -> resolver.allowed(rsa)))
        .containsExactlyInAnyOrder(Operation.OPERATION_SIGN, Operation.OPERATION_DECRYPT_PREMASTER);
    assertThat(as(OTHER, grant, () -> resolver.allowed(ec)))
        .containsExactly(Operation.OPERATION_SIGN);
    assertThat(as(OTHER, grant, () -> resolver.allowed(rsa))).isEmpty();
  }

  @Test
  void all_isEveryKeySortedByName() {
    assertThat(resolver.all()).containsExactly(ec, rsa);
  }

  @Test
  void auditName_isTheBareNameOrThePin() {
    byte[] pin = ec.description().spkiSha256();

    assertThat(KeyResolver.auditName(name("rsa2048"))).isEqualTo("rsa2048");
    assertThat(KeyResolver.auditName(spki(pin)))
        .isEqualTo("spki-sha256:" + HexFormat.of().formatHex(pin));
  }
}
