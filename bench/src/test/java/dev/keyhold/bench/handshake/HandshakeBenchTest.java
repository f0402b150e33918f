package dev.keyhold.bench.handshake;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.bench.report.LatencySummary;
import dev.keyhold.bench.report.ModeResult;
import dev.keyhold.bench.report.StepResult;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HandshakeBenchTest {
  private static StepResult step(int c, double hsPerSecond, Double serverMicrosPerHandshake) {
    long ops = Math.round(hsPerSecond * 5);
    return new StepResult(
        c,
        5.0,
        ops,
        hsPerSecond,
        new LatencySummary(ops, 1000, 900, 2000, 3000, 4000, 5000),
        Map.of(),
        new StepResult.CpuUsage(1.5, 900.0),
        null,
        null,
        null,
        null,
        null,
        0.01,
        serverMicrosPerHandshake == null
            ? null
            : new StepResult.CpuUsage(
                hsPerSecond * serverMicrosPerHandshake / 1e6, serverMicrosPerHandshake),
        new StepResult.CpuUsage(0.1, 40.0));
  }

  @Test
  void perCpuSecond_isTheInverseOfServerCpuPerHandshake() {
    assertThat(HandshakeBench.perCpuSecond(step(16, 1000, 1250.0))).isEqualTo(800.0);
  }

  @Test
  void perCpuRatio_comparesAtTheHighestConcurrencyBothMeasured() {
    List<ModeResult> modes =
        List.of(
            new ModeResult(
                "netty-keyhold",
                "d",
                List.of(step(1, 300, 1000.0), step(16, 1100, 1500.0), step(32, 1150, null))),
            new ModeResult(
                "nginx-libp11", "f", List.of(step(1, 400, 1250.0), step(16, 1300, 2000.0))));
    // c=32 has no server CPU for Keyhold and no nginx step: c=16 decides, 666.7 / 500.
    assertThat(HandshakeBench.perCpuRatio(modes, "netty-keyhold", "nginx-libp11")).isEqualTo(1.333);
    assertThat(HandshakeBench.perCpuRatio(modes, "jsse-keyhold", "nginx-libp11")).isNull();
  }

  @Test
  void derivedFigures_listPerServerCpuSecondByModeAndTheNginxRatios() {
    List<ModeResult> modes =
        List.of(
            new ModeResult("netty-keyhold", "d", List.of(step(16, 1100, 1000.0))),
            new ModeResult("netty-local", "e", List.of(step(16, 1300, 800.0))),
            new ModeResult("nginx-libp11", "f", List.of(step(16, 900, 2000.0))));
    Map<String, Object> d =
        HandshakeBench.derivedFigures(modes, new LinkedHashMap<>(), new LinkedHashMap<>());
    assertThat(d.get("handshakesPerServerCpuSecond"))
        .isEqualTo(
            Map.of(
                "netty-keyhold", Map.of("c=16", 1000.0),
                "netty-local", Map.of("c=16", 1250.0),
                "nginx-libp11", Map.of("c=16", 500.0)));
    assertThat(d.get(HandshakeBench.perCpuRatioKey("netty-keyhold", "nginx-libp11")))
        .isEqualTo(2.0);
    assertThat(d.get(HandshakeBench.perCpuRatioKey("netty-local", "nginx-libp11"))).isEqualTo(2.5);
    assertThat(d).doesNotContainKey(HandshakeBench.perCpuRatioKey("jsse-keyhold", "nginx-libp11"));
  }

  @Test
  void serverParse_acceptsTheNginxBaselineByNameAndLetter() {
    assertThat(HandshakeBench.Server.parse("nginx-libp11"))
        .isEqualTo(HandshakeBench.Server.NGINX_LIBP11);
    assertThat(HandshakeBench.Server.parse("f")).isEqualTo(HandshakeBench.Server.NGINX_LIBP11);
  }
}
