package dev.keyhold.proto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

  @ParameterizedTest(name = "{0} = {1} ms")
  @CsvSource({
    "250ms, 250",
    "2s, 2000",
    "5m, 300000",
    "1h, 3600000",
    "1.5s, 1500",
    "0.25s, 250",
    "1.5m, 90000",
    "500 ms, 500",
    "' 30s ', 30000",
    "2S, 2000",
    "500MS, 500",
    "PT2S, 2000",
    "pt2s, 2000",
    "PT0.5S, 500",
    "P1D, 86400000",
    "0s, 0",
  })
  void parse_withUnitOrIso_gives(String text, long millis) {
    assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
  }

  @ParameterizedTest(name = "bare {0}")
  @CsvSource({"MILLISECONDS, 1500, 1500", "SECONDS, 1.5, 1500", "SECONDS, 3, 3000"})
  void parse_bareNumber_countsInTheCallersUnit(TimeUnit unit, String text, long millis) {
    assertThat(Durations.parse(text, unit)).isEqualTo(Duration.ofMillis(millis));
  }

  @ParameterizedTest(name = "rejects ''{0}''")
  @ValueSource(strings = {"", "soon", "2", "2x", "-1s", "1d", "s", "ms", "PT", "P2X", "2 s s"})
  void parse_badInput_namesTheTextAndTheForms(String text) {
    assertThatThrownBy(() -> Durations.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("'" + text + "' is not a duration like 250ms, 2s, 5m, 1h or PT2S");
  }

  @ParameterizedTest
  @NullSource
  void parse_null_isRejected(String text) {
    assertThatThrownBy(() -> Durations.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no duration given");
  }

  @ParameterizedTest
  @ValueSource(strings = {"2", "1.5"})
  void parse_bareNumberWithoutUnit_isRejected(String text) {
    assertThatThrownBy(() -> Durations.parse(text, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + text + "'");
  }
}
