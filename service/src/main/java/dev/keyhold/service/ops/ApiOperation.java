package dev.keyhold.service.ops;

import dev.keyhold.proto.v1.Operation;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The one table of operation names: each KeyService call, its label in metrics ({@code
 * operation="sign"}) and audit lines ({@code op=sign}), the word the policy file uses for it, and
 * the proto {@link Operation} that grants it. Only the private-key operations are granted by
 * policy.
 */
public enum ApiOperation {
  SIGN("sign", Operation.OPERATION_SIGN),
  DECRYPT_PREMASTER("decrypt_premaster", Operation.OPERATION_DECRYPT_PREMASTER),
  GET_KEY("get_key", null),
  LIST_KEYS("list_keys", null);

  private final String label;
  private final Operation granted;

  ApiOperation(String label, Operation granted) {
    this.label = label;
    this.granted = granted;
  }

  /** The metrics and audit label; for granted operations also the policy file's word. */
  public String label() {
    return label;
  }

  /** The proto operation a policy grants for this call, if a policy grants it at all. */
  public Optional<Operation> granted() {
    return Optional.ofNullable(granted);
  }

  /** The proto operations a policy can grant, in table order. */
  public static List<Operation> grantable() {
    return Arrays.stream(values()).flatMap(o -> o.granted().stream()).toList();
  }

  /** The proto operation for a policy file's word ({@code sign}, {@code decrypt_premaster}). */
  public static Optional<Operation> fromPolicyWord(String word) {
    return Arrays.stream(values())
        .filter(o -> o.granted != null && o.label.equals(word))
        .map(o -> o.granted)
        .findFirst();
  }
}
