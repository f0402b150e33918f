package dev.keyhold.service;

import dev.keyhold.config.ConfigLoader;
import dev.keyhold.config.ServiceConfig;
import dev.keyhold.service.cli.CliContext;
import dev.keyhold.service.cli.ConfigCommand;
import dev.keyhold.service.cli.KeysCommand;
import dev.keyhold.service.pkcs11.TokenLocator;
import dev.keyhold.service.setup.PkiDirectory;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The {@code keyhold} command line: serve, manage keys in the HSM, set up the demo PKI, verify
 * audit logs.
 */
@Command(
    name = "keyhold",
    mixinStandardHelpOptions = true,
    version = "keyhold 0.1.0",
    description = "TLS private-key offload to PKCS#11 HSMs over gRPC.",
    subcommands = {
      Main.Serve.class,
      KeysCommand.class,
      ConfigCommand.class,
      Main.Pki.class,
      Main.Audit.class,
      Main.Slots.class
    })
public final class Main {

  /** The system property of gRPC's shaded Netty that sets its buffer leak detector's level. */
  static final String LEAK_DETECTION = "io.grpc.netty.shaded.io.netty.leakDetection.level";

  public static void main(String[] args) {
    // Netty samples buffers for leak tracking by default and records a stack trace for each
    // sampled one: in a profile under load, 1.6 % of the transport thread's CPU. The service's
    // buffers are gRPC's own; a user who wants the detector sets the property.
    if (System.getProperty(LEAK_DETECTION) == null) {
      System.setProperty(LEAK_DETECTION, "disabled");
    }
    int rc = CliContext.system().commandLine(new Main()).execute(args);
    if (rc != 0 || !(args.length > 0 && args[0].equals("serve"))) {
      System.exit(rc);
    }
  }

  static ServiceConfig load(Path config) {
    return new ConfigLoader().load(config);
  }

  @Command(name = "serve", description = "Start the gRPC service.")
  static final class Serve implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "YAML configuration file")
    Path config;

    @Override
    public Integer call() throws Exception {
      KeyholdServer server = KeyholdServer.start(load(config));
      // SIGTERM: stop gracefully (see KeyholdServer.close), then exit 0, the code of a clean
      // stop; without halt the JVM would report 143 for the signal after its hooks.
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    server.close();
                    System.err.println("keyhold: stopped");
                    System.err.flush();
                    Runtime.getRuntime().halt(0);
                  },
                  "keyhold-shutdown"));
      // Policy reloads: on a change of the config file, and on SIGHUP (whose default action
      // would stop the JVM).
      Path file = config.toAbsolutePath();
      server.policy().watch(file);
      onSignal("HUP", () -> server.policy().reload(file, "SIGHUP"));
      server.awaitTermination();
      return 0;
    }
  }

  /**
   * Runs {@code action} on each delivery of the signal. sun.misc.Signal (module jdk.unsupported) is
   * the JDK's only signal API; it is reached reflectively because javac warns about every direct
   * use of it and the build treats warnings as errors.
   */
  static void onSignal(String name, Runnable action) throws ReflectiveOperationException {
    Class<?> signal = Class.forName("sun.misc.Signal");
    Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
    Object handler =
        java.lang.reflect.Proxy.newProxyInstance(
            handlerType.getClassLoader(),
            new Class<?>[] {handlerType},
            (proxy, method, args) ->
                switch (method.getName()) {
                  case "handle" -> {
                    action.run();
                    yield null;
                  }
                  case "hashCode" -> System.identityHashCode(proxy);
                  case "equals" -> proxy == args[0];
                  default -> "signal handler for SIG" + name;
                });
    signal
        .getMethod("handle", signal, handlerType)
        .invoke(null, signal.getConstructor(String.class).newInstance(name), handler);
  }

  @Command(name = "slots", description = "List the tokens the configured PKCS#11 library sees.")
  static final class Slots implements Callable<Integer> {
    @Option(names = "--config", required = true)
    Path config;

    @Override
    public Integer call() {
      for (TokenLocator.Slot s : TokenLocator.slots(load(config).hsm())) {
        System.out.printf(
            "slot %d\tlabel '%s'\tinitialized=%s%n", s.id(), s.label(), s.initialized());
      }
      return 0;
    }
  }

  @Command(
      name = "pki",
      description = "Demo PKI for mTLS.",
      subcommands = {Pki.Init.class})
  static final class Pki {
    @Command(
        name = "init",
        description =
            "Create a local CA, a server certificate and client certificates, if missing.")
    static final class Init implements Callable<Integer> {
      @Option(names = "--dir", required = true)
      Path dir;

      @Option(names = "--client", defaultValue = "demo-app", split = ",")
      List<String> clients;

      @Override
      public Integer call() throws Exception {
        new PkiDirectory(dir).init(clients);
        System.out.println(
            "PKI in "
                + dir
                + ": ca.pem, server.pem, "
                + String.join(", ", clients.stream().map(c -> c + ".pem").toList()));
        return 0;
      }
    }
  }

  @Command(
      name = "audit",
      description = "Audit log tools.",
      subcommands = {Audit.Verify.class})
  static final class Audit {
    @Command(
        name = "verify",
        description =
            "Check an audit log's hash chain and its signed checkpoints, across rotated files:"
                + " give the files (FILE.000001 ... FILE) or their directory, in any order; they"
                + " are ordered by the number in their first line, and a missing one is named."
                + " Exit 0 when intact, 3 when not.")
    static final class Verify implements Callable<Integer> {
      @Parameters(arity = "1..*", paramLabel = "FILE|DIR")
      List<Path> files;

      @picocli.CommandLine.Option(
          names = "--public-key",
          paramLabel = "PEM",
          description =
              "the checkpoint key's public key or certificate (PEM); without it checkpoint"
                  + " signatures are not checked")
      Path publicKey;

      @Override
      public Integer call() throws Exception {
        java.security.PublicKey key = publicKey == null ? null : readPublicKey(publicKey);
        dev.keyhold.service.ops.AuditVerifier.Report r =
            dev.keyhold.service.ops.AuditVerifier.verifySet(files, key);
        for (String line : r.describe()) {
          System.out.println(line);
        }
        return r.intact() ? 0 : 3;
      }

      private static java.security.PublicKey readPublicKey(Path pem) throws Exception {
        try (org.bouncycastle.openssl.PEMParser p =
            new org.bouncycastle.openssl.PEMParser(
                java.nio.file.Files.newBufferedReader(
                    pem, java.nio.charset.StandardCharsets.UTF_8))) {
          Object o = p.readObject();
          if (o instanceof org.bouncycastle.cert.X509CertificateHolder c) {
            return new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter()
                .getCertificate(c)
                .getPublicKey();
          }
          if (o instanceof org.bouncycastle.asn1.x509.SubjectPublicKeyInfo spki) {
            return new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter().getPublicKey(spki);
          }
          throw new IllegalArgumentException(pem + " holds no public key or certificate (PEM)");
        }
      }
    }
  }
}
