package dev.keyhold.bench;

import dev.keyhold.bench.report.TargetSummary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code keyhold-bench summary}: the markdown of the README's benchmark section (targets met or
 * missed, scaling tables), from the JSON reports that {@code bench/run-all.sh} wrote.
 */
@Command(
    name = "summary",
    mixinStandardHelpOptions = true,
    description =
        "Writes the benchmark section's markdown (each issue-13 target met/missed with its same-run"
            + " value) from a folder of JSON reports.")
final class SummaryCommand implements Callable<Integer> {
  @Option(names = "--in", required = true, description = "folder with the run's JSON reports")
  Path in;

  @Option(names = "--out", required = true, description = "markdown file to write")
  Path out;

  @Option(
      names = "--start-load",
      defaultValue = "unknown",
      description = "the 1-minute load average before the run (default: ${DEFAULT-VALUE})")
  String startLoad;

  @Override
  public Integer call() throws Exception {
    if (!Files.isDirectory(in)) {
      throw new IllegalArgumentException(in + " is not a folder of reports");
    }
    Path parent = out.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(out, new TargetSummary(in).render(startLoad));
    System.out.println("summary: " + out.toAbsolutePath());
    return 0;
  }
}
