package dev.keyhold.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.keyhold.bench.ops.KeyholdTarget;
import dev.keyhold.bench.timing.TimingBench;
import dev.keyhold.proto.v1.KeyType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code keyhold-bench timing}: DecryptPremaster latency for valid against invalid ciphertexts,
 * with a Mann-Whitney U test and a bootstrap interval per invalid kind. A benchmark, not a test:
 * run it on a quiet machine.
 */
@Command(
    name = "timing",
    mixinStandardHelpOptions = true,
    description =
        "DecryptPremaster latency, valid vs. every invalid ciphertext kind, interleaved one call at"
            + " a time; Mann-Whitney U and bootstrap CI of the median difference per kind.")
final class TimingCommand implements Callable<Integer> {
  @Mixin CliSupport.TargetOptions target = new CliSupport.TargetOptions();

  @Option(
      names = "--key-name",
      defaultValue = "rsa2048",
      description = "RSA key (default: ${DEFAULT-VALUE})")
  String keyName;

  @Option(
      names = "--calls-per-variant",
      defaultValue = "2000",
      description = "measured calls per ciphertext kind (default: ${DEFAULT-VALUE})")
  int callsPerVariant;

  @Option(
      names = "--warmup-calls",
      defaultValue = "2000",
      description = "unmeasured calls first (default: ${DEFAULT-VALUE})")
  int warmupCalls;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "order and bootstrap seed (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(
      names = "--resamples",
      defaultValue = "2000",
      description = "bootstrap resamples (default: ${DEFAULT-VALUE})")
  int resamples;

  @Option(
      names = "--out",
      defaultValue = "bench-results",
      description = "folder for timing-KEY.json and timing-KEY.md (default: ${DEFAULT-VALUE})")
  Path out;

  @Override
  public Integer call() throws Exception {
    TimingBench.Settings settings =
        new TimingBench.Settings(callsPerVariant, warmupCalls, seed, resamples);
    var sc = target.serviceConfig();
    String resolved = target.resolvedTarget(sc);
    Duration deadline = Duration.ofSeconds(10);
    target.clientConfig(resolved, deadline);
    TimingBench.Result r;
    try (CliSupport.ServiceHandle service = CliSupport.service(target, resolved, out);
        KeyholdTarget t =
            KeyholdTarget.connect(target.clientConfig(service.target(), deadline), keyName)) {
      if (t.key().getKeyType() != KeyType.KEY_TYPE_RSA) {
        throw new IllegalArgumentException("key '" + keyName + "' is not an RSA key");
      }
      r = TimingBench.run(t.client(), keyName, (RSAPublicKey) t.publicKey(), settings);
    }
    Files.createDirectories(out);
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("command", CliSupport.commandLine(BenchMain.args));
    json.put("environment", dev.keyhold.bench.report.Environment.capture());
    json.put("result", r);
    Path jsonFile = out.resolve("timing-" + keyName + ".json");
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(jsonFile.toFile(), json);
    String md = TimingBench.markdown(r);
    Path mdFile = out.resolve("timing-" + keyName + ".md");
    Files.writeString(mdFile, md);
    System.out.print(md);
    System.out.println("JSON: " + jsonFile.toAbsolutePath());
    System.out.println("Markdown: " + mdFile.toAbsolutePath());
    return 0;
  }
}
