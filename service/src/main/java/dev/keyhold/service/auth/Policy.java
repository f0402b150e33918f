package dev.keyhold.service.auth;

import dev.keyhold.config.PolicyRule;
import dev.keyhold.proto.v1.Operation;
import dev.keyhold.service.ops.ApiOperation;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Per-key, per-operation authorization. Default deny: a caller may do exactly what some rule that
 * names it grants. Key patterns are globs where {@code *} matches any run of characters.
 */
public final class Policy {
  private record CompiledRule(String client, List<Pattern> keys, Set<Operation> operations) {}

  private final List<CompiledRule> rules;

  public Policy(List<PolicyRule> rules) {
    this.rules =
        rules.stream()
            .map(
                r ->
                    new CompiledRule(
                        r.client(),
                        r.keys().stream().map(Policy::glob).toList(),
                        r.operations().stream()
                            .map(Policy::operation)
                            .collect(() -> EnumSet.noneOf(Operation.class), Set::add, Set::addAll)))
            .toList();
  }

  public boolean allows(ClientIdentity who, String keyName, Operation op) {
    for (CompiledRule r : rules) {
      if (r.operations.contains(op)
          && who.matches(r.client)
          && r.keys.stream().anyMatch(p -> p.matcher(keyName).matches())) {
        return true;
      }
    }
    return false;
  }

  /** The operations this caller may perform on this key. */
  public Set<Operation> allowed(ClientIdentity who, String keyName) {
    Set<Operation> out = EnumSet.noneOf(Operation.class);
    for (Operation op : ApiOperation.grantable()) {
      if (allows(who, keyName, op)) {
        out.add(op);
      }
    }
    return out;
  }

  static Operation operation(String name) {
    return ApiOperation.fromPolicyWord(name)
        .orElseThrow(() -> new IllegalArgumentException("unknown operation " + name));
  }

  private static Pattern glob(String glob) {
    StringBuilder re = new StringBuilder();
    String[] parts = glob.split("\\*", -1);
    for (int i = 0; i < parts.length; i++) {
      if (i > 0) {
        re.append(".*");
      }
      re.append(Pattern.quote(parts[i]));
    }
    return Pattern.compile(re.toString());
  }
}
