package dev.keyhold.service.pkcs11;

import dev.keyhold.config.ConfigException;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.service.keys.HsmException;
import dev.keyhold.service.keys.HsmException.Reason;
import dev.keyhold.service.keys.HsmKey;
import dev.keyhold.service.keys.KeyDescription;
import dev.keyhold.service.keys.RawRsaKey;
import dev.keyhold.service.keys.TokenState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HA group ({@code hsm.tokens}): several tokens holding the same keys, each with its own {@link
 * TokenSupervisor} (probe, state, recovery, {@code keyhold_hsm_token_up{token}}).
 *
 * <p>Keys are matched across tokens by name and SPKI: a name that resolves to different public keys
 * on two tokens is a start-up error naming both. A key may be held by only some tokens.
 *
 * <p>Each operation goes to the key's SERVING token with the fewest operations in flight (ties
 * taken in turn), RECOVERING tokens only when no token serves, NOT_SERVING ones last. On an HSM
 * failure (device error, invalid session, logged out, token gone, handle invalid, throttled) the
 * operation moves to the next token: sign and decrypt are idempotent. Bad padding is not a failure
 * and never moves (no token is asked twice about the same ciphertext's padding). Each token's
 * operations are counted in {@code keyhold_hsm_token_operations_total{token,outcome}} (outcome
 * {@code ok} or {@code failed}).
 *
 * <p>Readiness ({@link #servesEveryKey}): SERVING while every key is held by at least one token
 * that serves.
 */
public final class TokenGroup {
  /** Failures after which the operation is tried on another token. */
  static final Set<Reason> FAIL_OVER =
      EnumSet.of(
          Reason.DEVICE_ERROR,
          Reason.SESSION_INVALID,
          Reason.OPERATION_ACTIVE,
          Reason.NOT_LOGGED_IN,
          Reason.TOKEN_ABSENT,
          Reason.OBJECT_HANDLE_INVALID,
          Reason.THROTTLED);

  /** One token of the group. */
  private static final class Member {
    final TokenSupervisor supervisor;
    final AtomicInteger inFlight = new AtomicInteger();
    final Counter ok;
    final Counter failed;

    Member(TokenSupervisor supervisor, MeterRegistry registry) {
      this.supervisor = supervisor;
      this.ok = counter(registry, supervisor.name(), "ok");
      this.failed = counter(registry, supervisor.name(), "failed");
    }

    private static Counter counter(MeterRegistry registry, String token, String outcome) {
      return Counter.builder("keyhold.hsm.token.operations")
          .description("HSM operations per token of the group, by outcome")
          .tag("token", token)
          .tag("outcome", outcome)
          .register(registry);
    }

    int rank() {
      TokenState s = supervisor.state();
      return s == TokenState.SERVING ? 0 : s == TokenState.RECOVERING ? 1 : 2;
    }
  }

  private final List<GroupKey> keys;

  /**
   * Groups the keys of {@code supervisors} (already started). Throws {@link ConfigException} when a
   * key name has different SPKIs on two tokens.
   */
  public TokenGroup(List<TokenSupervisor> supervisors, MeterRegistry registry) {
    Map<String, List<Map.Entry<Member, RawRsaKey>>> byName = new LinkedHashMap<>();
    Map<String, KeyDescription> first = new LinkedHashMap<>();
    Map<String, String> firstToken = new LinkedHashMap<>();
    for (TokenSupervisor s : supervisors) {
      Member m = new Member(s, registry);
      s.waitForRecovery(supervisors.size() == 1);
      for (HsmKey k : s.keys()) {
        KeyDescription d = k.description();
        KeyDescription was = first.putIfAbsent(d.name(), d);
        if (was == null) {
          firstToken.put(d.name(), s.name());
        } else if (!Arrays.equals(was.spkiSha256(), d.spkiSha256())) {
          throw new ConfigException(
              "key '"
                  + d.name()
                  + "' is not the same key on every token: SPKI SHA-256 "
                  + HexFormat.of().formatHex(was.spkiSha256())
                  + " on token "
                  + firstToken.get(d.name())
                  + ", "
                  + HexFormat.of().formatHex(d.spkiSha256())
                  + " on token "
                  + s.name());
        }
        byName.computeIfAbsent(d.name(), n -> new ArrayList<>()).add(Map.entry(m, (RawRsaKey) k));
      }
    }
    List<GroupKey> ks = new ArrayList<>();
    for (Map.Entry<String, List<Map.Entry<Member, RawRsaKey>>> e : byName.entrySet()) {
      ks.add(new GroupKey(first.get(e.getKey()), e.getValue()));
    }
    this.keys = List.copyOf(ks);
  }

  /** The keys, as the service serves them. */
  public List<HsmKey> keys() {
    return List.copyOf(keys);
  }

  /** Whether every key is held by at least one token that serves (readiness). */
  public boolean servesEveryKey() {
    for (GroupKey k : keys) {
      if (k.members.stream().noneMatch(m -> m.getKey().supervisor.state().serving())) {
        return false;
      }
    }
    return true;
  }

  /** One HSM operation on one token's key. */
  @FunctionalInterface
  private interface Op<T> {
    T run(RawRsaKey key) throws GeneralSecurityException;
  }

  /** A key held by one or more tokens of the group. */
  private static final class GroupKey implements RawRsaKey {
    private final KeyDescription description;
    private final List<Map.Entry<Member, RawRsaKey>> members;
    private final AtomicInteger turn = new AtomicInteger();

    GroupKey(KeyDescription description, List<Map.Entry<Member, RawRsaKey>> members) {
      this.description = description;
      this.members = List.copyOf(members);
    }

    /** The members in the order they are tried: by state, then fewest in flight, then in turn. */
    private List<Map.Entry<Member, RawRsaKey>> order() {
      int n = members.size();
      if (n == 1) {
        return members;
      }
      int start = Math.floorMod(turn.getAndIncrement(), n);
      List<Map.Entry<Member, RawRsaKey>> rotated = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        rotated.add(members.get((start + i) % n));
      }
      int[] rank = new int[n];
      int[] load = new int[n];
      for (int i = 0; i < n; i++) {
        rank[i] = rotated.get(i).getKey().rank();
        load[i] = rotated.get(i).getKey().inFlight.get();
      }
      List<Integer> idx = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        idx.add(i);
      }
      idx.sort(
          (a, b) -> rank[a] != rank[b] ? Integer.compare(rank[a], rank[b]) : load[a] - load[b]);
      List<Map.Entry<Member, RawRsaKey>> out = new ArrayList<>(n);
      for (int i : idx) {
        out.add(rotated.get(i));
      }
      return out;
    }

    private <T> T run(Op<T> op) throws GeneralSecurityException {
      HsmException last = null;
      for (Map.Entry<Member, RawRsaKey> e : order()) {
        Member m = e.getKey();
        m.inFlight.incrementAndGet();
        try {
          T result = op.run(e.getValue());
          m.ok.increment();
          return result;
        } catch (HsmException h) {
          if (!FAIL_OVER.contains(h.reason())) {
            throw h;
          }
          m.failed.increment();
          last = h;
        } finally {
          m.inFlight.decrementAndGet();
        }
      }
      throw last;
    }

    @Override
    public KeyDescription description() {
      return description;
    }

    @Override
    public byte[] signDigest(SignatureScheme scheme, byte[] digest)
        throws GeneralSecurityException {
      return run(k -> k.signDigest(scheme, digest));
    }

    @Override
    public byte[] pkcs1Decrypt(byte[] ciphertext) throws GeneralSecurityException {
      return run(k -> k.pkcs1Decrypt(ciphertext));
    }

    @Override
    public byte[] rawRsa(byte[] input) throws GeneralSecurityException {
      return run(k -> k.rawRsa(input));
    }

    @Override
    public byte[] pkcs1Sign(byte[] data) throws GeneralSecurityException {
      return run(k -> k.pkcs1Sign(data));
    }

    /**
     * The group's members hold the same key; its RSA path (raw RSA or not) is read from the first
     * member, as every member's token reads the same key's allowed mechanisms.
     */
    @Override
    public boolean allowsRawRsa() {
      return members.get(0).getValue().allowsRawRsa();
    }

    @Override
    public boolean signsPssInHsm() {
      return members.get(0).getValue().signsPssInHsm();
    }

    @Override
    public String toString() {
      return "GroupKey[" + description + " on " + members.size() + " tokens]";
    }
  }
}
