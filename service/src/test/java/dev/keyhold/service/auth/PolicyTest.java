package dev.keyhold.service.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.config.PolicyRule;
import dev.keyhold.proto.v1.Operation;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PolicyTest {
  private static final ClientIdentity WEB =
      new ClientIdentity(List.of("web-1", "web-1.example"), List.of(), "web", true, "00aa");
  private static final ClientIdentity OTHER =
      new ClientIdentity(List.of("other"), List.of(), "other", true, "00bb");

  private static Policy policy(PolicyRule... rules) {
    return new Policy(List.of(rules));
  }

  @Test
  void allows_noRules_deniesEverything() {
    Policy p = policy();

    assertThat(p.allows(WEB, "rsa2048", Operation.OPERATION_SIGN)).isFalse();
    assertThat(p.allowed(WEB, "rsa2048")).isEmpty();
  }

  @Test
  void allows_ruleForAnotherClient_deniesThisOne() {
    Policy p = policy(new PolicyRule("other", List.of("*"), Set.of("sign", "decrypt_premaster")));

    assertThat(p.allowed(WEB, "rsa2048")).isEmpty();
    assertThat(p.allowed(OTHER, "rsa2048"))
        .containsExactlyInAnyOrder(Operation.OPERATION_SIGN, Operation.OPERATION_DECRYPT_PREMASTER);
  }

  @Test
  void allows_prefixGlob_matchesOnlyThatPrefix() {
    Policy p = policy(new PolicyRule("web-1", List.of("ec-*"), Set.of("sign")));

    assertThat(p.allows(WEB, "ec-p256", Operation.OPERATION_SIGN)).isTrue();
    assertThat(p.allows(WEB, "ec-", Operation.OPERATION_SIGN)).isTrue();
    assertThat(p.allows(WEB, "xec-p256", Operation.OPERATION_SIGN)).isFalse();
    assertThat(p.allows(WEB, "rsa2048", Operation.OPERATION_SIGN)).isFalse();
  }

  @Test
  void allows_globInTheMiddle_matchesAnyRunOfCharacters() {
    Policy p = policy(new PolicyRule("web-1", List.of("web-*-prod"), Set.of("sign")));

    assertThat(p.allows(WEB, "web-eu-prod", Operation.OPERATION_SIGN)).isTrue();
    assertThat(p.allows(WEB, "web--prod", Operation.OPERATION_SIGN)).isTrue();
    assertThat(p.allows(WEB, "web-eu-prod2", Operation.OPERATION_SIGN)).isFalse();
    assertThat(p.allows(WEB, "web-eu-staging", Operation.OPERATION_SIGN)).isFalse();
  }

  @Test
  void allows_regexCharactersInPatterns_areLiteral() {
    Policy p = policy(new PolicyRule("web-1", List.of("a.b", "c+d", "(x)"), Set.of("sign")));

    assertThat(p.allows(WEB, "a.b", Operation.OPERATION_SIGN)).isTrue();
    assertThat(p.allows(WEB, "axb", Operation.OPERATION_SIGN)).isFalse();
    assertThat(p.allows(WEB, "c+d", Operation.OPERATION_SIGN)).isTrue();
    assertThat(p.allows(WEB, "ccd", Operation.OPERATION_SIGN)).isFalse();
    assertThat(p.allows(WEB, "(x)", Operation.OPERATION_SIGN)).isTrue();
    assertThat(p.allows(WEB, "x", Operation.OPERATION_SIGN)).isFalse();
  }

  @Test
  void allows_exactName_matchesOnlyThatKey() {
    Policy p = policy(new PolicyRule("web-1", List.of("rsa2048"), Set.of("decrypt_premaster")));

    assertThat(p.allows(WEB, "rsa2048", Operation.OPERATION_DECRYPT_PREMASTER)).isTrue();
    assertThat(p.allows(WEB, "rsa20488", Operation.OPERATION_DECRYPT_PREMASTER)).isFalse();
    assertThat(p.allows(WEB, "rsa2048", Operation.OPERATION_SIGN))
        .as("only the granted operation")
        .isFalse();
  }

  @Test
  void allowed_rulesAddUp_perOperation() {
    Policy p =
        policy(
            new PolicyRule("web-1", List.of("rsa*"), Set.of("sign")),
            new PolicyRule("web-1.example", List.of("rsa2048"), Set.of("decrypt_premaster")));

    assertThat(p.allowed(WEB, "rsa2048"))
        .containsExactlyInAnyOrder(Operation.OPERATION_SIGN, Operation.OPERATION_DECRYPT_PREMASTER);
    assertThat(p.allowed(WEB, "rsa3072")).containsExactly(Operation.OPERATION_SIGN);
    assertThat(p.allowed(WEB, "ec-p256")).isEmpty();
  }

  @Test
  void allows_wildcardClient_grantsEveryAuthenticatedClient() {
    Policy p = policy(new PolicyRule("*", List.of("public-*"), Set.of("sign")));

    assertThat(p.allows(WEB, "public-a", Operation.OPERATION_SIGN)).isTrue();
    assertThat(p.allows(OTHER, "public-a", Operation.OPERATION_SIGN)).isTrue();
    assertThat(p.allows(OTHER, "private-a", Operation.OPERATION_SIGN)).isFalse();
  }

  @Test
  void allows_spkiPinClient_matchesThatKeyOnly() {
    Policy p = policy(new PolicyRule("spki-sha256:00AA", List.of("*"), Set.of("sign")));

    assertThat(p.allows(WEB, "rsa2048", Operation.OPERATION_SIGN)).isTrue();
    assertThat(p.allows(OTHER, "rsa2048", Operation.OPERATION_SIGN)).isFalse();
  }

  @Test
  void allows_unspecifiedOperation_isNeverGranted() {
    Policy p = policy(new PolicyRule("*", List.of("*"), Set.of("sign", "decrypt_premaster")));

    assertThat(p.allows(WEB, "rsa2048", Operation.OPERATION_UNSPECIFIED)).isFalse();
  }

  @Test
  void authorize_secondRuleMatches_namesThatRuleAndTheMatchedName() {
    Policy p =
        policy(
            new PolicyRule("other", List.of("*"), Set.of("sign")),
            new PolicyRule("dns:WEB-1.example", List.of("rsa*"), Set.of("sign")));

    Policy.Grant g = p.authorize(WEB, "rsa2048", Operation.OPERATION_SIGN).orElseThrow();

    assertThat(g.rule()).isEqualTo("policy[1]");
    assertThat(g.identity().toString()).isEqualTo("dns:web-1.example");
    assertThat(p.authorize(WEB, "ec-p256", Operation.OPERATION_SIGN)).isEmpty();
  }

  @Test
  void authorize_cnOfACertificateWithSans_isNeverUsed() {
    Policy p = policy(new PolicyRule("web", List.of("*"), Set.of("sign")));

    assertThat(p.authorize(WEB, "rsa2048", Operation.OPERATION_SIGN)).isEmpty();
    assertThat(policy(new PolicyRule("cn:web", List.of("*"), Set.of("sign"))).allowed(WEB, "k"))
        .isEmpty();
  }

  @Test
  void authorizeAny_anyOperationOnTheKey_namesTheFirstMatchingRule() {
    Policy p =
        policy(
            new PolicyRule("other", List.of("*"), Set.of("sign")),
            new PolicyRule("web-1", List.of("ec-*"), Set.of("decrypt_premaster")));

    Optional<Policy.Grant> g = p.authorizeAny(WEB, "ec-p256");

    assertThat(g).isPresent();
    assertThat(g.get().rule()).isEqualTo("policy[1]");
    assertThat(g.get().identity().toString()).isEqualTo("dns:web-1");
    assertThat(p.authorizeAny(WEB, "rsa2048")).isEmpty();
    assertThat(p.authorizeAny(OTHER, "rsa2048").map(Policy.Grant::rule)).contains("policy[0]");
  }

  @Test
  void operation_unknownWord_isRefusedNamingIt() {
    // PolicyRule refuses such a word first; this is the second line of defence.
    assertThat(Policy.operation("sign")).isEqualTo(Operation.OPERATION_SIGN);
    assertThatThrownBy(() -> Policy.operation("encrypt"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown operation encrypt");
  }
}
