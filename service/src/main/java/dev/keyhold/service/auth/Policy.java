package dev.keyhold.service.auth;

import dev.keyhold.config.PolicyRule;
import dev.keyhold.proto.v1.Operation;
import dev.keyhold.service.ops.ApiOperation;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Per-key, per-operation authorization. Default deny: a caller may do exactly what some rule that
 * names it grants. Key patterns are globs where {@code *} matches any run of characters. Which of
 * the caller's names a rule's {@code client} entry matches is {@link ClientIdentity#match}'s rule.
 */
public final class Policy {
  private record CompiledRule(
      String label, String client, List<Pattern> keys, Set<Operation> operations) {}

  /**
   * Why a call was allowed: the caller's name that matched, and the rule, as {@code policy[i]} (its
   * 0-based position in the policy list). The audit line records both.
   */
  public record Grant(ClientIdentity.Name identity, String rule) {}

  private final List<CompiledRule> rules;

  public Policy(List<PolicyRule> rules) {
    List<CompiledRule> compiled = new java.util.ArrayList<>();
    for (PolicyRule r : rules) {
      compiled.add(compile("policy[" + compiled.size() + "]", r));
    }
    this.rules = List.copyOf(compiled);
  }

  private static CompiledRule compile(String label, PolicyRule r) {
    return new CompiledRule(
        label,
        r.client(),
        r.keys().stream().map(Policy::glob).toList(),
        r.operations().stream()
            .map(Policy::operation)
            .collect(() -> EnumSet.noneOf(Operation.class), Set::add, Set::addAll));
  }

  public boolean allows(ClientIdentity who, String keyName, Operation op) {
    return authorize(who, keyName, op).isPresent();
  }

  /**
   * The first rule that lets this caller perform {@code op} on this key, with the name it matched.
   */
  public Optional<Grant> authorize(ClientIdentity who, String keyName, Operation op) {
    for (CompiledRule r : rules) {
      if (r.operations.contains(op)
          && r.keys.stream().anyMatch(p -> p.matcher(keyName).matches())) {
        Optional<ClientIdentity.Name> name = who.match(r.client);
        if (name.isPresent()) {
          return Optional.of(new Grant(name.get(), r.label));
        }
      }
    }
    return Optional.empty();
  }

  /** The first rule that lets this caller perform any operation on this key. */
  public Optional<Grant> authorizeAny(ClientIdentity who, String keyName) {
    for (CompiledRule r : rules) {
      if (r.keys.stream().anyMatch(p -> p.matcher(keyName).matches())) {
        Optional<ClientIdentity.Name> name = who.match(r.client);
        if (name.isPresent()) {
          return Optional.of(new Grant(name.get(), r.label));
        }
      }
    }
    return Optional.empty();
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
