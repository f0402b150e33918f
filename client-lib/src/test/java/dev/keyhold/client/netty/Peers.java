package dev.keyhold.client.netty;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs real TLS peers ({@code openssl s_client}, {@code curl}) as child processes with timeouts.
 */
final class Peers {
  private Peers() {}

  /** Exit code and merged stdout+stderr of a finished peer. */
  record Result(int exit, String output) {}

  static final String REQUEST = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

  /** {@code openssl s_client} with extra options, sending one HTTP request. */
  static Result sClient(int port, String... options) throws IOException, InterruptedException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "openssl",
                "s_client",
                "-connect",
                "127.0.0.1:" + port,
                "-servername",
                "localhost",
                "-ign_eof"));
    cmd.addAll(List.of(options));
    return run(cmd, REQUEST);
  }

  /** {@code curl} with extra options against https://127.0.0.1:port/. */
  static Result curl(int port, String... options) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-v", "--max-time", "20"));
    cmd.addAll(List.of(options));
    cmd.add("https://127.0.0.1:" + port + "/");
    return run(cmd, null);
  }

  static Result run(List<String> cmd, String stdin) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try (OutputStream in = p.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin.getBytes(StandardCharsets.US_ASCII));
      }
    }
    // Read on another thread so a stuck peer cannot hang the test past the timeout.
    StringBuilder out = new StringBuilder();
    Thread reader =
        new Thread(
            () -> {
              try (InputStream o = p.getInputStream()) {
                out.append(new String(o.readAllBytes(), StandardCharsets.UTF_8));
              } catch (IOException ignored) {
                // the process was killed
              }
            });
    reader.start();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      reader.join(5000);
      return new Result(-1, "TIMEOUT\n" + out);
    }
    reader.join(5000);
    return new Result(p.exitValue(), out.toString());
  }
}
