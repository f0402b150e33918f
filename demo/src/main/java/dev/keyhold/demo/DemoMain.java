package dev.keyhold.demo;

import dev.keyhold.client.jsse.KeyholdKeyManager;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.demo.jsse.JsseDemoServer;
import dev.keyhold.demo.jsse.JsseDemoServer.ClientAuth;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The JSSE HTTPS demo server: terminates TLS with the JDK's own stack while the private-key steps
 * of every handshake run in the HSM behind a Keyhold service.
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

  @Mixin KeyholdOptions keyhold = new KeyholdOptions();

  @Option(
      names = "--listen",
      defaultValue = "127.0.0.1:8443",
      description = "host:port to listen on (default: ${DEFAULT-VALUE}).")
  String listen;

  @Option(
      names = "--workers",
      defaultValue = "32",
      description = "Worker threads (default: ${DEFAULT-VALUE}).")
  int workers;

  public static void main(String[] args) {
    System.exit(
        new CommandLine(new DemoMain()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    ClientAuth auth =
        ClientAuth.valueOf(keyhold.clientAuth().trim().toUpperCase(java.util.Locale.ROOT));
    Path clientCa = keyhold.clientCa();
    if (auth != ClientAuth.NONE && clientCa == null) {
      log.warn(
          "--client-auth {} without --client-ca: client certificates are checked against the JDK's"
              + " default trust store",
          keyhold.clientAuth());
    }
    int colon = listen.lastIndexOf(':');
    if (colon < 0) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--listen must be host:port");
    }
    String host = listen.substring(0, colon);
    int port = Integer.parseInt(listen.substring(colon + 1));
    List<String> names = keyhold.keyNames(List.of("rsa2048", "ec-p256"));

    try (KeyholdClient client = KeyholdClient.create(keyhold.clientConfig())) {
      KeyholdKeyManager.Builder kmb = KeyholdKeyManager.builder(client);
      for (String n : names) {
        Path chain = keyhold.chain(n);
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
        log.info(
            "serving keys {} from Keyhold at {}", km.aliases(), keyhold.clientConfig().target());
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
}
