package dev.keyhold.bench.timing;

import dev.keyhold.bench.timing.PremasterVariants.Sample;
import dev.keyhold.bench.timing.PremasterVariants.Variant;
import dev.keyhold.bench.timing.TimingStatistics.MannWhitney;
import dev.keyhold.bench.timing.TimingStatistics.MedianDifference;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.rpc.KeyholdException;
import java.security.SecureRandom;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * DecryptPremaster latency, valid against each invalid ciphertext kind, over thousands of calls
 * made one at a time (no queueing) in a shuffled order, so that drift in the machine's state hits
 * every kind alike. Each invalid kind, and all of them pooled, is compared with the valid one by a
 * Mann-Whitney U test and a bootstrap interval of the difference of medians. Every answer is
 * checked: valid ciphertexts must give their pre-master, invalid ones a 48-byte substitute.
 */
public final class TimingBench {
  /**
   * @param callsPerVariant measured calls per ciphertext kind
   * @param warmupCalls unmeasured calls first (all kinds, shuffled)
   * @param seed shuffling and bootstrap seed (the ciphertexts' randomness is fresh each run)
   * @param resamples bootstrap resamples
   */
  public record Settings(int callsPerVariant, int warmupCalls, long seed, int resamples) {
    public Settings {
      if (callsPerVariant < 10 || warmupCalls < 0 || resamples < 100) {
        throw new IllegalArgumentException(
            "need at least 10 calls per variant, a non-negative warm-up and 100 resamples");
      }
    }
  }

  /** One kind's latencies in microseconds, compared with the valid kind's. */
  public record VariantResult(
      String variant,
      int calls,
      double p50Micros,
      double p90Micros,
      double p99Micros,
      double meanMicros,
      MannWhitney versusValid,
      MedianDifference medianMinusValidMicros) {}

  /** The whole run. */
  public record Result(
      String key,
      long seed,
      int callsPerVariant,
      int warmupCalls,
      List<VariantResult> variants,
      MannWhitney pooledInvalidVersusValid,
      MedianDifference pooledMedianMinusValidMicros,
      double bonferroniAlpha,
      List<String> variantsDifferingAtAlpha) {}

  /** Family-wise alpha before the Bonferroni correction over the invalid kinds. */
  public static final double ALPHA = 0.01;

  private TimingBench() {}

  /** Runs the calls and the statistics. */
  public static Result run(KeyholdClient client, String keyName, RSAPublicKey pub, Settings s) {
    SecureRandom random = new SecureRandom();
    List<Variant> order = schedule(s.callsPerVariant(), s.seed());
    List<Variant> warm = schedule(Math.max(1, s.warmupCalls() / Variant.values().length), s.seed());
    for (Variant v : warm.subList(0, Math.min(warm.size(), s.warmupCalls()))) {
      call(client, keyName, PremasterVariants.sample(v, pub, random));
    }
    List<Sample> samples = new ArrayList<>(order.size());
    for (Variant v : order) {
      samples.add(PremasterVariants.sample(v, pub, random));
    }
    Map<Variant, double[]> micros = new EnumMap<>(Variant.class);
    Map<Variant, Integer> filled = new EnumMap<>(Variant.class);
    for (Variant v : Variant.values()) {
      micros.put(v, new double[s.callsPerVariant()]);
      filled.put(v, 0);
    }
    for (Sample sample : samples) {
      long t0 = System.nanoTime();
      call(client, keyName, sample);
      long t1 = System.nanoTime();
      int i = filled.get(sample.variant());
      micros.get(sample.variant())[i] = (t1 - t0) / 1000.0;
      filled.put(sample.variant(), i + 1);
    }
    return analyse(keyName, s, micros);
  }

  /** The statistics over measured latencies (package-private for the unit test). */
  static Result analyse(String keyName, Settings s, Map<Variant, double[]> micros) {
    double[] valid = micros.get(Variant.VALID);
    List<VariantResult> rows = new ArrayList<>();
    List<double[]> invalid = new ArrayList<>();
    int invalidKinds = Variant.values().length - 1;
    double alpha = ALPHA / invalidKinds;
    List<String> differing = new ArrayList<>();
    long seed = s.seed();
    for (Variant v : Variant.values()) {
      double[] x = micros.get(v);
      MannWhitney mw = v == Variant.VALID ? null : TimingStatistics.mannWhitney(x, valid, true);
      MedianDifference md =
          v == Variant.VALID
              ? null
              : TimingStatistics.bootstrapMedianDifference(
                  valid, x, s.resamples(), 0.95, seed + v.label().hashCode());
      if (v != Variant.VALID) {
        invalid.add(x);
        if (mw.pTwoSided() < alpha) {
          differing.add(v.label());
        }
      }
      double[] sorted = x.clone();
      Arrays.sort(sorted);
      rows.add(
          new VariantResult(
              v.label(),
              x.length,
              TimingStatistics.quantile(sorted, 0.50),
              TimingStatistics.quantile(sorted, 0.90),
              TimingStatistics.quantile(sorted, 0.99),
              Arrays.stream(x).average().orElse(0),
              mw,
              md));
    }
    double[] pooled = invalid.stream().flatMapToDouble(Arrays::stream).toArray();
    return new Result(
        keyName,
        seed,
        s.callsPerVariant(),
        s.warmupCalls(),
        rows,
        TimingStatistics.mannWhitney(pooled, valid, true),
        TimingStatistics.bootstrapMedianDifference(valid, pooled, s.resamples(), 0.95, seed - 1),
        alpha,
        differing);
  }

  /** Every kind {@code perVariant} times, shuffled. */
  static List<Variant> schedule(int perVariant, long seed) {
    List<Variant> order = new ArrayList<>();
    for (int i = 0; i < perVariant; i++) {
      order.addAll(Arrays.asList(Variant.values()));
    }
    Collections.shuffle(order, new Random(seed));
    return order;
  }

  private static void call(KeyholdClient client, String keyName, Sample sample) {
    byte[] pm;
    try {
      pm = client.decryptPremaster(keyName, sample.ciphertext(), PremasterVariants.CLIENT_VERSION);
    } catch (KeyholdException e) {
      throw new IllegalStateException(
          "DecryptPremaster failed for " + sample.variant().label() + ": " + e.getMessage(), e);
    }
    if (pm.length != 48) {
      throw new IllegalStateException(
          "DecryptPremaster gave " + pm.length + " bytes for " + sample.variant().label());
    }
    if (sample.expectedPremaster() != null && !Arrays.equals(pm, sample.expectedPremaster())) {
      throw new IllegalStateException("DecryptPremaster gave a wrong pre-master for a valid one");
    }
  }

  /** The markdown table of a result. */
  public static String markdown(Result r) {
    StringBuilder sb = new StringBuilder();
    sb.append("| ciphertext | calls | p50 µs | p90 µs | p99 µs | median − valid µs (95% CI) |")
        .append(" Mann-Whitney p |\n|---|---|---|---|---|---|---|\n");
    for (VariantResult v : r.variants()) {
      sb.append(
          String.format(
              java.util.Locale.ROOT,
              "| %s | %d | %.1f | %.1f | %.1f | %s | %s |%n",
              v.variant(),
              v.calls(),
              v.p50Micros(),
              v.p90Micros(),
              v.p99Micros(),
              v.medianMinusValidMicros() == null ? "—" : interval(v.medianMinusValidMicros()),
              v.versusValid() == null
                  ? "—"
                  : String.format(java.util.Locale.ROOT, "%.3g", v.versusValid().pTwoSided())));
    }
    sb.append(
        String.format(
            java.util.Locale.ROOT,
            "| all invalid pooled | %d | | | | %s | %.3g |%n%n",
            r.callsPerVariant() * (r.variants().size() - 1),
            interval(r.pooledMedianMinusValidMicros()),
            r.pooledInvalidVersusValid().pTwoSided()));
    sb.append(
        r.variantsDifferingAtAlpha().isEmpty()
            ? String.format(
                java.util.Locale.ROOT,
                "No invalid kind differs from the valid one at α = %.4f (%.2f family-wise,"
                    + " Bonferroni over %d kinds).%n",
                r.bonferroniAlpha(),
                ALPHA,
                r.variants().size() - 1)
            : String.format(
                java.util.Locale.ROOT,
                "Differing at α = %.4f (Bonferroni): %s. Look at the median differences: a"
                    + " significant but sub-microsecond shift over thousands of calls is a"
                    + " measurement artefact to rule out, not yet an oracle.%n",
                r.bonferroniAlpha(),
                r.variantsDifferingAtAlpha()));
    return sb.toString();
  }

  private static String interval(MedianDifference d) {
    return String.format(
        java.util.Locale.ROOT, "%+.1f (%+.1f … %+.1f)", d.medianDifference(), d.low(), d.high());
  }
}
