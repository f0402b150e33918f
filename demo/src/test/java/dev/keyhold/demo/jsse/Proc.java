package dev.keyhold.demo.jsse;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs a child process (openssl, curl) with a timeout, feeding stdin and capturing output. */
record Proc(int exit, String stdout, String stderr, boolean timedOut) {

  static Proc run(List<String> command, String stdin, Duration timeout)
      throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).start();
    try {
      CompletableFuture<String> out = drain(p.getInputStream());
      CompletableFuture<String> err = drain(p.getErrorStream());
      try (OutputStream in = p.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      } catch (IOException e) {
        // the process may already have exited; its output says why
      }
      boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!done) {
        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
      return new Proc(done ? p.exitValue() : -1, out.join(), err.join(), !done);
    } finally {
      p.destroyForcibly();
    }
  }

  /** A process that keeps running (openssl s_server); the caller destroys it. */
  static Process spawn(List<String> command) throws IOException {
    return new ProcessBuilder(command).redirectErrorStream(true).start();
  }

  private static CompletableFuture<String> drain(InputStream in) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
          } catch (IOException e) {
            return "";
          }
        });
  }

  String all() {
    return stdout + "\n" + stderr;
  }
}
