package dev.keyhold.service.cli;

import dev.keyhold.config.ConfigException;
import dev.keyhold.config.PinSource;
import dev.keyhold.service.setup.PkiDirectory;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code keys import}: stores a key made outside the HSM, sensitive and non-extractable from then
 * on, and warns that it existed outside. Passwords of the source file come from a file or an
 * environment variable, never the command line.
 */
@Command(
    name = "import",
    description =
        "Import a private key from PKCS#8 (PEM, with --chain) or PKCS#12 into the HSM as a"
            + " sensitive, non-extractable token object.")
final class KeyImport implements Callable<Integer> {
  static final String WARNING =
      "WARNING: key '%s' was created outside an HSM. From now on the HSM keeps it sensitive and"
          + " non-extractable, but every copy made before (the file you imported, backups, the"
          + " machine that generated it) is not protected: destroy them, or prefer `keys"
          + " generate`.";

  private final CliContext context;

  @Mixin HsmOptions hsm;
  @Spec CommandSpec spec;

  @Option(names = "--label", required = true, description = "the key's name in the HSM")
  String label;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  static final class Source {
    @Option(names = "--pkcs8", description = "PEM private key (PKCS#8, or traditional RSA/EC)")
    Path pkcs8;

    @Option(names = "--pkcs12", description = "PKCS#12 file holding the key and its chain")
    Path pkcs12;
  }

  @Option(names = "--chain", description = "with --pkcs8: the key's PEM certificate chain")
  Path chain;

  @Option(names = "--alias", description = "with --pkcs12: which entry, if it holds several")
  String alias;

  @Option(names = "--password-file", description = "file holding the source's password")
  Path passwordFile;

  @Option(names = "--password-env", description = "environment variable holding the password")
  String passwordEnv;

  KeyImport(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() throws Exception {
    Labels.check(label);
    if (passwordFile != null && passwordEnv != null) {
      throw new ConfigException("give one of --password-file and --password-env");
    }
    char[] password = password();
    try {
      PrivateKey key;
      List<X509Certificate> certs;
      if (source.pkcs8 != null) {
        if (chain == null) {
          throw new ConfigException(
              "--pkcs8 needs --chain: the HSM keeps a key beside its certificate");
        }
        key = readPkcs8(source.pkcs8, password);
        certs = PkiDirectory.readCertificates(requireFile("--chain", chain));
      } else {
        if (chain != null) {
          throw new ConfigException("--chain is for --pkcs8; a PKCS#12 file carries its chain");
        }
        KeyStore p12 = readPkcs12(source.pkcs12, password);
        String entry = entry(p12);
        key = (PrivateKey) p12.getKey(entry, password == null ? new char[0] : password);
        certs = new ArrayList<>();
        Certificate[] c = p12.getCertificateChain(entry);
        for (Certificate x : c == null ? new Certificate[0] : c) {
          certs.add((X509Certificate) x);
        }
      }
      if (certs.isEmpty()) {
        throw new ConfigException("no certificate for the key: the HSM keeps it beside one");
      }
      spec.commandLine().getErr().println(String.format(WARNING, label));
      hsm.provisioner().importKey(label, key, certs);
      spec.commandLine()
          .getOut()
          .println(
              "imported "
                  + label
                  + " into "
                  + hsm.config().hsm().describeToken()
                  + ": sensitive, not extractable ("
                  + certs.get(0).getSubjectX500Principal()
                  + ")");
      return 0;
    } finally {
      if (password != null) {
        Arrays.fill(password, '\0');
      }
    }
  }

  private char[] password() {
    if (passwordFile != null) {
      return PinSource.ofFile(requireFile("--password-file", passwordFile)).read();
    }
    if (passwordEnv != null) {
      String v = context.environment().get(passwordEnv);
      if (v == null) {
        throw new ConfigException("--password-env: variable " + passwordEnv + " is not set");
      }
      return v.toCharArray();
    }
    return null;
  }

  private static Path requireFile(String option, Path p) {
    if (!Files.isRegularFile(p)) {
      throw new ConfigException(option + " " + p + " does not exist");
    }
    return p;
  }

  private static PrivateKey readPkcs8(Path file, char[] password) throws IOException {
    Object o;
    try (Reader r = Files.newBufferedReader(requireFile("--pkcs8", file));
        PEMParser pem = new PEMParser(r)) {
      o = pem.readObject();
    }
    try {
      JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
      if (o instanceof PrivateKeyInfo info) {
        return conv.getPrivateKey(info);
      }
      if (o instanceof PEMKeyPair pair) {
        return conv.getKeyPair(pair).getPrivate();
      }
      if (o instanceof PKCS8EncryptedPrivateKeyInfo enc) {
        if (password == null) {
          throw new ConfigException(file + " is encrypted: give --password-file or --password-env");
        }
        return conv.getPrivateKey(
            enc.decryptPrivateKeyInfo(
                new JceOpenSSLPKCS8DecryptorProviderBuilder().build(password)));
      }
    } catch (PKCSException e) {
      throw new ConfigException("cannot decrypt " + file + ": wrong password?");
    } catch (OperatorCreationException e) {
      throw new ConfigException("cannot decrypt " + file + ": " + e.getMessage());
    }
    throw new ConfigException(
        file + " holds no PEM private key (expected BEGIN PRIVATE KEY, or an RSA/EC key)");
  }

  private static KeyStore readPkcs12(Path file, char[] password)
      throws IOException, GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(requireFile("--pkcs12", file))) {
      ks.load(in, password == null ? new char[0] : password);
    } catch (IOException e) {
      throw new ConfigException(
          "cannot read PKCS#12 file " + file + " (wrong password, or not PKCS#12)");
    }
    return ks;
  }

  private String entry(KeyStore p12) throws GeneralSecurityException {
    List<String> keys = new ArrayList<>();
    for (String a : Collections.list(p12.aliases())) {
      if (p12.isKeyEntry(a)) {
        keys.add(a);
      }
    }
    if (alias != null) {
      if (!keys.contains(alias)) {
        throw new ConfigException(
            "--alias '" + alias + "' is not a key entry (entries: " + keys + ")");
      }
      return alias;
    }
    if (keys.size() != 1) {
      throw new ConfigException(
          keys.isEmpty()
              ? "the PKCS#12 file holds no private key"
              : "the PKCS#12 file holds several keys " + keys + "; choose one with --alias");
    }
    return keys.get(0);
  }
}
