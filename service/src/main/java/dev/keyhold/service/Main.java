package dev.keyhold.service;

import dev.keyhold.config.ConfigException;
import dev.keyhold.config.ConfigLoader;
import dev.keyhold.config.ServiceConfig;
import dev.keyhold.service.ops.AuditLog;
import dev.keyhold.service.pkcs11.KeyProvisioner;
import dev.keyhold.service.pkcs11.KeyProvisioner.KeySpec;
import dev.keyhold.service.pkcs11.Pkcs11Token;
import dev.keyhold.service.pkcs11.TokenLocator;
import dev.keyhold.service.pki.PkiDirectory;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
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
      Main.Keys.class,
      Main.Pki.class,
      Main.Audit.class,
      Main.Slots.class
    })
public final class Main {

  public static void main(String[] args) {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          if (ex instanceof ConfigException) {
            cmd.getErr().println("keyhold: " + ex.getMessage());
            return 2;
          }
          cmd.getErr()
              .println("keyhold: " + ex.getClass().getSimpleName() + ": " + ex.getMessage());
          return 1;
        });
    int rc = cl.execute(args);
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
      Runtime.getRuntime().addShutdownHook(new Thread(server::close, "keyhold-shutdown"));
      server.awaitTermination();
      return 0;
    }
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
      name = "keys",
      description = "Manage keys inside the HSM.",
      subcommands = {
        Keys.Ensure.class,
        Keys.ListKeys.class,
        Keys.Csr.class,
        Keys.ImportCert.class,
        Keys.Certify.class
      })
  static final class Keys {
    @Command(
        name = "ensure",
        description =
            "Create missing keys (sensitive, non-extractable) with placeholder certificates."
                + " Idempotent.")
    static final class Ensure implements Callable<Integer> {
      @Option(names = "--config", required = true)
      Path config;

      @Option(
          names = "--key",
          description =
              "NAME=rsa:BITS or NAME=ec:CURVE; default: rsa2048, rsa3072, ec-p256, ec-p384")
      List<String> keys;

      @Override
      public Integer call() {
        List<KeySpec> specs =
            keys == null ? KeyProvisioner.DEFAULT_KEYS : keys.stream().map(KeySpec::parse).toList();
        List<String> created =
            new KeyProvisioner(Pkcs11Token.open(load(config).hsm())).ensure(specs);
        System.out.println(created.isEmpty() ? "all keys present" : "created " + created);
        return 0;
      }
    }

    @Command(name = "list", description = "List the keys the service would serve.")
    static final class ListKeys implements Callable<Integer> {
      @Option(names = "--config", required = true)
      Path config;

      @Override
      public Integer call() {
        Pkcs11Token.open(load(config).hsm())
            .discoverKeys()
            .forEach(
                k ->
                    System.out.printf(
                        "%-12s %-14s spki-sha256:%s%n",
                        k.description().name(),
                        k.description().type() == dev.keyhold.proto.v1.KeyType.KEY_TYPE_RSA
                            ? "RSA-" + k.description().bits()
                            : "EC " + k.description().curve(),
                        HexFormat.of().formatHex(k.description().spkiSha256())));
        return 0;
      }
    }

    @Command(name = "csr", description = "Print a PEM CSR for a key, signed inside the HSM.")
    static final class Csr implements Callable<Integer> {
      @Option(names = "--config", required = true)
      Path config;

      @Parameters(index = "0")
      String name;

      @Option(names = "--subject", required = true, description = "e.g. CN=www.example.com")
      String subject;

      @Override
      public Integer call() throws Exception {
        System.out.print(
            new KeyProvisioner(Pkcs11Token.open(load(config).hsm())).csr(name, subject));
        return 0;
      }
    }

    @Command(
        name = "import-cert",
        description = "Replace a key's placeholder certificate with its real chain.")
    static final class ImportCert implements Callable<Integer> {
      @Option(names = "--config", required = true)
      Path config;

      @Parameters(index = "0")
      String name;

      @Option(names = "--chain", required = true, description = "PEM chain, leaf first")
      Path chain;

      @Override
      public Integer call() throws Exception {
        new KeyProvisioner(Pkcs11Token.open(load(config).hsm()))
            .importChain(name, PkiDirectory.readCertificates(chain));
        System.out.println("imported the chain of " + name);
        return 0;
      }
    }

    @Command(
        name = "certify",
        description =
            "Replace placeholder certificates of HSM keys with certificates from the local CA (demo"
                + " set-up). Idempotent.")
    static final class Certify implements Callable<Integer> {
      @Option(names = "--config", required = true)
      Path config;

      @Option(
          names = "--pki",
          required = true,
          description = "the local PKI folder (see `pki init`)")
      Path pki;

      @Option(names = "--dns", split = ",", defaultValue = "localhost")
      List<String> dns;

      @Option(names = "--ip", split = ",", defaultValue = "127.0.0.1")
      List<String> ips;

      @Option(
          names = "--usage",
          defaultValue = "server",
          description =
              "server, client or both: the extended key usage (client: an HSM-held client key"
                  + " for mutual TLS)")
      String usage;

      @Parameters(
          arity = "0..*",
          description = "key names; default: every key with a placeholder certificate")
      List<String> names;

      @Override
      public Integer call() throws Exception {
        dev.keyhold.service.pki.LocalPki.Usage eku;
        try {
          eku =
              dev.keyhold.service.pki.LocalPki.Usage.valueOf(
                  usage.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
          throw new picocli.CommandLine.ParameterException(
              new picocli.CommandLine(this), "--usage must be server, client or both: " + usage);
        }
        Pkcs11Token token = Pkcs11Token.open(load(config).hsm());
        dev.keyhold.service.pki.LocalPki ca = new PkiDirectory(pki).loadOrCreateCa();
        KeyProvisioner provisioner = new KeyProvisioner(token);
        for (var key : token.discoverKeys()) {
          var d = key.description();
          var leaf = d.chain().get(0);
          boolean placeholder =
              leaf.getSubjectX500Principal().equals(leaf.getIssuerX500Principal());
          if ((names == null || names.isEmpty()) ? !placeholder : !names.contains(d.name())) {
            continue;
          }
          var cert = ca.issueFor(d.name(), d.publicKey(), dns, ips, eku);
          provisioner.importChain(d.name(), List.of(cert, ca.caCertificate()));
          System.out.println(
              "certified "
                  + d.name()
                  + " by the local CA for "
                  + dns
                  + " "
                  + ips
                  + " ("
                  + eku.name().toLowerCase(java.util.Locale.ROOT)
                  + " use)");
        }
        return 0;
      }
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
    @Command(name = "verify", description = "Check an audit log's hash chain.")
    static final class Verify implements Callable<Integer> {
      @Parameters(index = "0")
      Path file;

      @Override
      public Integer call() throws Exception {
        long bad = AuditLog.verify(file);
        if (bad < 0) {
          System.out.println("audit chain intact: " + file);
          return 0;
        }
        System.out.println("audit chain broken at line " + bad + " of " + file);
        return 3;
      }
    }
  }
}
