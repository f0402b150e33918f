package dev.keyhold.service.grpc;

import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.proto.v1.KeyRef;
import dev.keyhold.proto.v1.Operation;
import dev.keyhold.service.auth.AuthInterceptor;
import dev.keyhold.service.auth.ClientIdentity;
import dev.keyhold.service.auth.Policy;
import dev.keyhold.service.grpc.Errors.KeyholdStatusException;
import dev.keyhold.service.keys.HsmKey;
import dev.keyhold.service.keys.Keystore;
import dev.keyhold.service.ops.ApiOperation;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Finds the key a request names and checks the caller may use it: authorization. An unknown key and
 * a forbidden one get the same answer, so callers cannot enumerate keys they may not use.
 */
final class KeyResolver {
  private final Keystore keystore;
  private final Supplier<Policy> policy;

  /** {@code policy} is read once per call: a reloaded policy applies from the next call on. */
  KeyResolver(Keystore keystore, Supplier<Policy> policy) {
    this.keystore = keystore;
    this.policy = policy;
  }

  /** The key, if the caller may perform {@code op} on it (any operation, for ungranted calls). */
  HsmKey resolve(KeyRef ref, ApiOperation op) throws KeyholdStatusException {
    Optional<HsmKey> key =
        switch (ref.getRefCase()) {
          case NAME -> ref.getName().isEmpty() ? Optional.empty() : keystore.byName(ref.getName());
          case SPKI_SHA256 -> keystore.bySpkiSha256(ref.getSpkiSha256().toByteArray());
          case REF_NOT_SET ->
              throw Errors.invalid(
                  ErrorReason.MISSING_FIELD, "key is required (a name or an SPKI SHA-256)");
        };
    if (ref.getRefCase() == KeyRef.RefCase.NAME && ref.getName().isEmpty()) {
      throw Errors.invalid(ErrorReason.MISSING_FIELD, "key name is empty");
    }
    if (ref.getRefCase() == KeyRef.RefCase.SPKI_SHA256 && ref.getSpkiSha256().isEmpty()) {
      throw Errors.invalid(ErrorReason.MISSING_FIELD, "key spki_sha256 is empty");
    }
    String opName = op.granted().isPresent() ? op.label() : "any operation";
    if (key.isEmpty()) {
      throw Errors.notFound(describe(ref), opName);
    }
    String name = key.get().description().name();
    ClientIdentity who = identity();
    Optional<Operation> granted = op.granted();
    Policy p = policy.get();
    Optional<Policy.Grant> grant =
        granted.isPresent() ? p.authorize(who, name, granted.get()) : p.authorizeAny(who, name);
    if (grant.isEmpty()) {
      throw Errors.notFound(describe(ref), opName);
    }
    AtomicReference<Policy.Grant> slot = AuthInterceptor.GRANT.get();
    if (slot != null) {
      slot.set(grant.get());
    }
    return key.get();
  }

  /**
   * The operations the caller may perform on the key and the key can do: DecryptPremaster only for
   * RSA keys, whatever the policy grants.
   */
  Set<Operation> allowed(HsmKey key) {
    Set<Operation> granted = policy.get().allowed(identity(), key.description().name());
    if (key.description().modulusBytes() == 0
        && granted.contains(Operation.OPERATION_DECRYPT_PREMASTER)) {
      java.util.EnumSet<Operation> ops = java.util.EnumSet.noneOf(Operation.class);
      ops.addAll(granted);
      ops.remove(Operation.OPERATION_DECRYPT_PREMASTER);
      return ops;
    }
    return granted;
  }

  Iterable<HsmKey> all() {
    return keystore.all();
  }

  private static ClientIdentity identity() {
    return AuthInterceptor.IDENTITY.get();
  }

  private static String describe(KeyRef ref) {
    return switch (ref.getRefCase()) {
      case NAME -> "'" + ref.getName() + "'";
      case SPKI_SHA256 ->
          "spki-sha256:" + HexFormat.of().formatHex(ref.getSpkiSha256().toByteArray());
      case REF_NOT_SET -> "(none)";
    };
  }

  /** The key reference as the audit log records it: the bare name, or spki-sha256:HEX. */
  static String auditName(KeyRef ref) {
    return ref.getRefCase() == KeyRef.RefCase.NAME ? ref.getName() : describe(ref);
  }
}
