package dev.keyhold.service.testing;

import dev.keyhold.service.Main;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of {@code keyhold ARGS} run as a child JVM from this test JVM: the same {@code
 * java}, the export SunPKCS11 needs, this JVM's class path, {@link Main}. Tests start the service
 * or the CLI as a separate process where that is what they prove (signals, exit codes, another
 * process on the same token).
 */
public final class KeyholdJvm {
  private KeyholdJvm() {}

  /** {@code java JVM_OPTIONS --add-exports=... -cp CLASSPATH dev.keyhold.service.Main ARGS}. */
  public static List<String> command(List<String> jvmOptions, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--add-exports=jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED");
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(List.of(args));
    return cmd;
  }
}
