package dev.keyhold.bench;

import dev.keyhold.bench.load.LoadRunner;
import java.io.PrintStream;
import java.util.Locale;

/**
 * The progress line on stderr: rewritten in place on a terminal, and every five seconds as a plain
 * line otherwise (CI logs), so the table on stdout stays clean.
 */
final class ConsoleProgress implements LoadRunner.Progress {
  private final PrintStream err;
  private final boolean terminal;
  private long lastPlain;
  private int lastLength;

  ConsoleProgress(PrintStream err, boolean terminal) {
    this.err = err;
    this.terminal = terminal;
  }

  @Override
  public synchronized void update(
      String label, boolean warmingUp, double elapsed, double total, long completed, long errors) {
    String line =
        String.format(
            Locale.ROOT,
            "[%s] %s %4.1f/%.1fs  %,d done  %,d errors",
            label,
            warmingUp ? "warm-up" : "measure",
            elapsed,
            total,
            completed,
            errors);
    if (terminal) {
      err.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
      lastLength = line.length();
      err.flush();
    } else if (System.nanoTime() - lastPlain > 5_000_000_000L) {
      lastPlain = System.nanoTime();
      err.println(line);
    }
  }

  /** Clears the in-place line before a result row is printed. */
  synchronized void clear() {
    if (terminal && lastLength > 0) {
      err.print("\r" + " ".repeat(lastLength) + "\r");
      err.flush();
      lastLength = 0;
    }
  }
}
