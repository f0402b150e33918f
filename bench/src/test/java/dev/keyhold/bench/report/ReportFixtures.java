package dev.keyhold.bench.report;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A small, fully populated report for writer tests. */
final class ReportFixtures {
  private ReportFixtures() {}

  static StepResult step(int c, double opsPerSecond, double p50) {
    long ops = Math.round(opsPerSecond * 2);
    return new StepResult(
        c,
        2.0,
        ops,
        opsPerSecond,
        new LatencySummary(ops, p50 * 1.1, p50, p50 * 2, p50 * 3, p50 * 4, p50 * 5),
        Map.of(),
        new StepResult.CpuUsage(0.5, 120.0),
        new StepResult.CpuUsage(1.2, 480.0),
        190L * 1048576,
        200L * 1048576,
        null,
        210L * 1048576,
        0.05,
        null,
        null);
  }

  static BenchReport report() {
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("target", "127.0.0.1:8443");
    settings.put("key", "rsa2048");
    settings.put("scheme", "rsa_pkcs1_sha256");
    settings.put("concurrency", List.of(1, 2));
    Map<String, Object> derived = new LinkedHashMap<>();
    derived.put("addedP50MicrosAtConcurrency1", 120.5);
    Environment env =
        new Environment(
            2,
            "Test CPU",
            0.5,
            1L << 34,
            "Linux 6",
            "amd64",
            "Debian 17.0.15",
            "OpenJDK 64-Bit Server VM",
            "-Xmx1g",
            "0.1.0-SNAPSHOT",
            "1.83.1",
            "OpenSSL 3.0",
            "2.6.1");
    return new BenchReport(
        "ops",
        "Keyhold sign rsa_pkcs1_sha256 with rsa2048 (RSA-2048) <test>",
        "2026-11-27T00:00:00Z",
        "keyhold-bench ops --key-name rsa2048",
        env,
        settings,
        List.of(
            new ModeResult(
                "keyhold", "Keyhold over gRPC", List.of(step(1, 1500, 650), step(2, 3000, 700))),
            new ModeResult(
                "pkcs11-direct",
                "SunPKCS11 in-process",
                List.of(step(1, 2000, 500), step(2, 3800, 520)))),
        List.of(
            new Ratio("keyhold", "pkcs11-direct", 0, 0.789, 0.85),
            new Ratio("keyhold", "pkcs11-direct", 1, 0.75, null)),
        derived,
        List.of("service CPU measured from /proc"));
  }
}
