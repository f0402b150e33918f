package dev.keyhold.demo;

import dev.keyhold.client.client.KeyholdClient;
import dev.keyhold.client.client.KeyholdClientConfig;
import dev.keyhold.client.jsse.KeyholdKeyManager;
import dev.keyhold.demo.jsse.JsseDemoServer;
import dev.keyhold.demo.jsse.JsseDemoServer.ClientAuth;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The JSSE HTTPS demo server: terminates TLS with the JDK's own stack while the private-key
 * steps of every handshake run in the HSM behind a Keyhold service.
 *
 * <pre>
 * java -jar demo/target/keyhold-demo-*-all.jar \
 *   --keyhold-target 127.0.0.1:7443 --ca pki/ca.pem --cert pki/test-client.pem --key pki/test-client-key.pem \
 *   --key-name rsa2048 --key-name ec-p256 --listen 127.0.0.1:8443 --client-auth none
 * </pre>
 *
 * <p>Security note: {@code --key} is the client key of the mTLS channel to Keyhold, not a TLS
 * server key; the server keys never leave the HSM.
 */
@Command(
    name = "keyhold-demo",
    mixinStandardHelpOptions = true,
    description = "HTTPS demo server (JSSE) whose private-key operations are offloaded to Keyhold.")
public final class DemoMain implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(DemoMain.class);

  @Option(names = "--keyhold-target", required = true, description = "Keyhold service, host:port (or dns:///name:port).")
  String target;

  @Option(names = "--ca", required = true, description = "PEM: CA that signed the Keyhold service's certificate.")
  Path ca;

  @Option(names = "--cert", required = true, description = "PEM: this server's client certificate for mTLS to Keyhold.")
  Path cert;

  @Option(names = "--key", required = true, description = "PEM (PKCS#8): the key of --cert (channel only).")
  Path key;

  @Option(names = "--authority", description = "Name the Keyhold service certificate carries, if not the target host.")
  String authority;

  @Option(names = "--deadline", defaultValue = "2s", description = "Deadline of each Keyhold call, e.g. 2s, 500ms (default: ${DEFAULT-VALUE}).")
  String deadline;

  @Option(names = "--key-name", description = "Keyhold key to serve (repeatable, preference order). Default: rsa2048, ec-p256.")
  List<String> keyNames = new ArrayList<>();

  @Option(names = "--chain", description = "NAME=PEM: certificate chain for key NAME from a file instead of the service (repeatable).")
  Map<String, Path> chains = new LinkedHashMap<>();

  @Option(names = "--listen", defaultValue = "127.0.0.1:8443", description = "host:port to listen on (default: ${DEFAULT-VALUE}).")
  String listen;

  @Option(names = "--client-auth", defaultValue = "none", description = "none, want or need (default: ${DEFAULT-VALUE}).")
  String clientAuth;

  @Option(names = "--client-ca", description = "PEM: CA certificates trusted for client certificates (with want/need).")
  Path clientCa;

  @Option(names = "--workers", defaultValue = "32", description = "Worker threads (default: ${DEFAULT-VALUE}).")
  int workers;

  public static void main(String[] args) {
    System.exit(new CommandLine(new DemoMain()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    ClientAuth auth = ClientAuth.valueOf(clientAuth.trim().toUpperCase(java.util.Locale.ROOT));
    if (auth != ClientAuth.NONE && clientCa == null) {
      log.warn("--client-auth {} without --client-ca: client certificates are checked against the JDK's default trust store", clientAuth);
    }
    KeyholdClientConfig.Builder cfg =
        KeyholdClientConfig.builder().target(target).trustedCa(ca).clientCertificate(cert, key).deadline(parseDuration(deadline));
    if (authority != null) {
      cfg.authority(authority);
    }
    int colon = listen.lastIndexOf(':');
    if (colon < 0) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--listen must be host:port");
    }
    String host = listen.substring(0, colon);
    int port = Integer.parseInt(listen.substring(colon + 1));
    List<String> names = keyNames.isEmpty() ? List.of("rsa2048", "ec-p256") : keyNames;

    try (KeyholdClient client = KeyholdClient.create(cfg.build())) {
      KeyholdKeyManager.Builder kmb = KeyholdKeyManager.builder(client);
      for (String n : names) {
        Path chain = chains.get(n);
        if (chain == null) {
          kmb.key(n);
        } else {
          kmb.key(n, chain);
        }
      }
      KeyholdKeyManager km = kmb.build();
      try (JsseDemoServer server =
          JsseDemoServer.builder(JsseDemoServer.sslContext(km, clientCa))
              .keyManager(km)
              .host(host)
              .port(port)
              .clientAuth(auth)
              .workerThreads(workers)
              .start()) {
        log.info("serving keys {} from Keyhold at {}", km.aliases(), target);
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "keyhold-demo-shutdown"));
        try {
          stop.await();
        } catch (InterruptedException e) {
          // Interrupted by an embedding caller (tests): shut down like on SIGTERM.
          Thread.currentThread().interrupt();
        }
      }
    }
    return 0;
  }

  static Duration parseDuration(String s) {
    String t = s.trim();
    if (t.startsWith("P") || t.startsWith("p")) {
      return Duration.parse(t);
    }
    if (t.endsWith("ms")) {
      return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
    }
    if (t.endsWith("s")) {
      return Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
    }
    return Duration.ofMillis(Long.parseLong(t));
  }
}
