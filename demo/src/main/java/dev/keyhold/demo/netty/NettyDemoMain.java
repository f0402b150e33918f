package dev.keyhold.demo.netty;

import dev.keyhold.client.netty.KeyholdServerTls;
import dev.keyhold.client.netty.KeyholdSslContexts;
import dev.keyhold.client.netty.OffloadedKey;
import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.demo.KeyholdOptions;
import io.netty.handler.ssl.ClientAuth;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Runs {@link NettyDemoServer} on Netty/BoringSSL with its private keys in Keyhold: the certificate
 * chains come from the service (or {@code --chain} files), and every signature and RSA pre-master
 * decryption is offloaded asynchronously, without blocking the event loops. Serves TLS 1.3, TLS 1.2
 * ECDHE and TLS 1.2 RSA key exchange (AES128-GCM-SHA256 enabled explicitly).
 *
 * <pre>
 * java -cp keyhold-demo-all.jar dev.keyhold.demo.netty.NettyDemoMain \
 *   --keyhold-target 127.0.0.1:7443 --ca ca.pem --cert app.pem --key app-key.pem \
 *   --key-name rsa2048 --listen 127.0.0.1:9443
 * curl --cacert ca.pem https://localhost:9443/
 * </pre>
 *
 * <p>Security note: the PEM key given with {@code --key} is only this server's identity towards
 * Keyhold (mTLS); the keys that TLS clients see stay in the HSM.
 */
@Command(
    name = "keyhold-netty-demo",
    mixinStandardHelpOptions = true,
    description =
        "HTTPS demo on Netty/BoringSSL whose private-key steps run in the HSM through Keyhold"
            + " (asynchronously).")
public final class NettyDemoMain implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(NettyDemoMain.class);

  @Mixin KeyholdOptions keyhold = new KeyholdOptions();

  @Option(
      names = "--listen",
      defaultValue = "127.0.0.1:9443",
      description = "host:port to listen on (default: ${DEFAULT-VALUE}).")
  String listen;

  @Option(
      names = "--event-loops",
      defaultValue = "1",
      description = "Event-loop threads (default: ${DEFAULT-VALUE}).")
  int eventLoops;

  public static void main(String[] args) {
    System.exit(new CommandLine(new NettyDemoMain()).execute(args));
  }

  /**
   * A started demo: the server, its per-key TLS contexts and the Keyhold client, closed together.
   */
  public record Running(NettyDemoServer.Handle server, KeyholdServerTls tls, KeyholdClient client)
      implements AutoCloseable {
    @Override
    public void close() {
      server.close();
      tls.close();
      client.close();
    }
  }

  @Override
  public Integer call() throws Exception {
    Running running = start();
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  running.close();
                  stop.countDown();
                }));
    stop.await();
    return 0;
  }

  /** Connects to Keyhold, fetches the keys' chains and starts serving; returns once bound. */
  public Running start() throws Exception {
    ClientAuth auth = parseClientAuth(keyhold.clientAuth());
    Path clientCa = keyhold.clientCa();
    if (auth != ClientAuth.NONE && clientCa == null) {
      throw new CommandLine.ParameterException(
          new CommandLine(this), "--client-auth " + keyhold.clientAuth() + " needs --client-ca");
    }
    int colon = listen.lastIndexOf(':');
    if (colon < 0) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--listen must be host:port");
    }
    String host = listen.substring(0, colon);
    int port = Integer.parseInt(listen.substring(colon + 1));
    List<String> names = keyhold.keyNames(List.of("rsa2048"));

    KeyholdClient client = KeyholdClient.create(keyhold.clientConfig());
    KeyholdServerTls tls = null;
    try {
      List<OffloadedKey> keys = new ArrayList<>();
      for (String name : names) {
        Path chain = keyhold.chain(name);
        keys.add(
            chain == null
                ? OffloadedKey.fetch(client, name)
                : OffloadedKey.of(client.getKey(name), KeyholdSslContexts.readPemChain(chain)));
      }
      // One context per key, chosen per connection from the ClientHello (an RSA-only client gets
      // the RSA key, an ECDSA-only one the EC key). The library's default suites list
      // TLS_RSA_WITH_AES_128_GCM_SHA256 (AES128-GCM-SHA256) explicitly, for RSA key exchange.
      tls =
          KeyholdServerTls.create(
              client,
              keys,
              b -> {
                b.clientAuth(auth);
                if (clientCa != null) {
                  b.trustManager(clientCa.toFile());
                }
                return b;
              });
      KeyholdServerTls chooser = tls;
      NettyDemoServer.Handle server =
          NettyDemoServer.start(ch -> chooser.newHandler(), host, port, eventLoops);
      LOG.info(
          "serving keys {} from Keyhold at {}; try: curl -k https://{}:{}/",
          keys,
          client.config().target(),
          host,
          server.port());
      return new Running(server, tls, client);
    } catch (Exception | Error e) {
      if (tls != null) {
        tls.close();
      }
      client.close();
      throw e;
    }
  }

  static ClientAuth parseClientAuth(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "none" -> ClientAuth.NONE;
      case "want", "optional" -> ClientAuth.OPTIONAL;
      case "need", "require" -> ClientAuth.REQUIRE;
      default ->
          throw new IllegalArgumentException(
              "--client-auth must be none, want or need, not '" + s + "'");
    };
  }

  /** "2s", "500ms", "1m" or an ISO-8601 duration ("PT2S"). */
  static Duration parseDuration(String s) {
    return KeyholdOptions.parseDuration(s);
  }
}
