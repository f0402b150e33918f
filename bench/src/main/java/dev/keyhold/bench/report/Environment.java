package dev.keyhold.bench.report;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Where a run happened: enough to tell whether two reports are comparable.
 *
 * @param cpus processors visible to the JVM
 * @param cpuModel from /proc/cpuinfo, or "unknown"
 * @param loadAverage the 1-minute load average when the run started (other work on the machine
 *     skews results)
 */
public record Environment(
    int cpus,
    String cpuModel,
    double loadAverage,
    long memoryBytes,
    String os,
    String arch,
    String jdk,
    String jvm,
    String jvmArgs,
    String benchVersion,
    String grpcVersion,
    String opensslVersion,
    String softhsmVersion) {

  /** Describes this machine and JVM. */
  public static Environment capture() {
    var os = ManagementFactory.getOperatingSystemMXBean();
    long mem =
        os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getTotalMemorySize() : -1;
    return new Environment(
        Runtime.getRuntime().availableProcessors(),
        readCpuModel(),
        Math.round(os.getSystemLoadAverage() * 100) / 100.0,
        mem,
        System.getProperty("os.name") + " " + System.getProperty("os.version"),
        System.getProperty("os.arch"),
        System.getProperty("java.vendor") + " " + System.getProperty("java.runtime.version"),
        System.getProperty("java.vm.name"),
        String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()),
        benchProperty("bench.version"),
        io.grpc.ManagedChannel.class.getPackage().getImplementationVersion() == null
            ? grpcVersionFallback()
            : io.grpc.ManagedChannel.class.getPackage().getImplementationVersion(),
        command("openssl", "version"),
        command("softhsm2-util", "--version"));
  }

  /** A value from the filtered bench.properties (versions fixed at build time). */
  public static String benchProperty(String name) {
    Properties p = new Properties();
    try (InputStream in =
        Environment.class.getResourceAsStream("/dev/keyhold/bench/bench.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      return "unknown";
    }
    return p.getProperty(name, "unknown");
  }

  private static String grpcVersionFallback() {
    try {
      return (String)
          Class.forName("io.grpc.internal.GrpcUtil").getField("IMPLEMENTATION_VERSION").get(null);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return "unknown";
    }
  }

  private static String readCpuModel() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
          .filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim())
          .findFirst()
          .orElse("unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** First output line of a version command, or "absent" when it cannot run. */
  static String command(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out =
          new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
              .trim();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroy();
        return "absent";
      }
      int nl = out.indexOf('\n');
      return nl < 0 ? out : out.substring(0, nl);
    } catch (IOException e) {
      return "absent";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "absent";
    }
  }
}
