package dev.keyhold.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The soak's verdicts and its reading of Prometheus text: pure logic. */
class SoakCommandTest {
  private static SoakCommand.Interval interval(
      int index, long errors, long rss, long threads, long hsm, long served) {
    SoakCommand.ReplicaSample s =
        new SoakCommand.ReplicaSample(1, rss, rss, threads, hsm, 0L, 1L, 0L, served);
    return new SoakCommand.Interval(
        index, index, 1, 10, errors, Map.of(), 10, 1, 2, 3, 4, List.of(s));
  }

  private static Map<String, String> statuses(List<SoakCommand.Interval> intervals) {
    return SoakCommand.verdicts(intervals, 1, 10).stream()
        .collect(
            java.util.stream.Collectors.toMap(
                SoakCommand.Verdict::name, SoakCommand.Verdict::status));
  }

  @Test
  void flatRun_passesEveryVerdict() {
    long mib = 1 << 20;
    assertThat(
            statuses(
                List.of(
                    interval(1, 0, 300 * mib, 40, 2, 5),
                    interval(2, 0, 200 * mib, 40, 2, 5),
                    interval(3, 0, 210 * mib, 42, 2, 5))))
        .containsEntry("zero errors", "pass")
        .containsEntry("replica 1 served", "pass")
        .containsEntry("replica 1 RSS flat", "pass")
        .containsEntry("replica 1 threads flat", "pass");
  }

  @Test
  void growingRss_lostHsmThread_errors_unservedReplica_fail() {
    long mib = 1 << 20;
    assertThat(
            statuses(
                List.of(
                    interval(1, 0, 200 * mib, 40, 2, 0),
                    interval(2, 1, 200 * mib, 40, 2, 0),
                    interval(3, 0, 221 * mib, 40, 1, 0))))
        .containsEntry("zero errors", "fail")
        .containsEntry("replica 1 served", "fail")
        .containsEntry("replica 1 RSS flat", "fail")
        .containsEntry("replica 1 threads flat", "fail");
  }

  @Test
  void twoIntervals_rssNotJudged() {
    assertThat(statuses(List.of(interval(1, 0, 1, 1, 1, 1), interval(2, 0, 1, 1, 1, 1))))
        .containsEntry("RSS flat", "not judged");
  }

  @Test
  void metricSum_readsPlainAndLabelledSamples() {
    String text =
        """
        # HELP keyhold_hsm_threads x
        # TYPE keyhold_hsm_threads gauge
        keyhold_hsm_threads 2.0
        keyhold_hsm_threads_other 7.0
        keyhold_hsm_token_up{token="a"} 1.0
        keyhold_hsm_token_up{token="b"} 1.0
        """;
    assertThat(SoakCommand.metricSum(text, "keyhold_hsm_threads")).hasValue(2.0);
    assertThat(SoakCommand.metricSum(text, "keyhold_hsm_token_up")).hasValue(2.0);
    assertThat(SoakCommand.metricSum(text, "keyhold_hsm_stuck_threads")).isEmpty();
  }
}
