package dev.keyhold.bench.handshake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NginxLibp11Test {
  @TempDir Path dir;

  @Test
  void locate_withNeitherInstalled_namesBothAndHowToInstall() {
    assertThatThrownBy(
            () ->
                NginxLibp11.locate(
                    List.of(dir.resolve("no-nginx")), List.of(dir.resolve("no-pkcs11.so"))))
        .isInstanceOf(NginxLibp11.MissingException.class)
        .hasMessageContaining("nginx (no " + dir.resolve("no-nginx") + ")")
        .hasMessageContaining("the libp11 engine (no " + dir.resolve("no-pkcs11.so") + ")")
        .hasMessageContaining("bench/install-nginx-libp11.sh");
  }

  @Test
  void locate_takesTheFirstCandidateThatExists() throws Exception {
    Path nginx = Files.createFile(dir.resolve("nginx"));
    nginx.toFile().setExecutable(true);
    Path engine = Files.createFile(dir.resolve("pkcs11.so"));
    NginxLibp11.Install found =
        NginxLibp11.locate(List.of(dir.resolve("absent"), nginx), List.of(engine));
    assertThat(found.nginx()).isEqualTo(nginx);
    assertThat(found.engine()).isEqualTo(engine);
    // Not executable: not an nginx.
    nginx.toFile().setExecutable(false);
    assertThatThrownBy(() -> NginxLibp11.locate(List.of(nginx), List.of(engine)))
        .hasMessageContaining("nginx (no ")
        .hasMessageNotContaining("libp11 engine");
  }

  @Test
  void keyUri_percentEncodesLabels() {
    assertThat(NginxLibp11.keyUri("keyhold-bench", "rsa2048"))
        .isEqualTo("pkcs11:token=keyhold-bench;object=rsa2048;type=private");
    assertThat(NginxLibp11.keyUri("my token;1", "a/b"))
        .isEqualTo("pkcs11:token=my%20token%3B1;object=a%2Fb;type=private");
  }

  @Test
  void nginxConf_servesTheEngineKeyOnLoopbackWithoutResumption_andHoldsNoPin() {
    String conf =
        NginxLibp11.nginxConf(
            dir, 19443, 2, dir.resolve("cert.pem"), NginxLibp11.keyUri("t", "rsa2048"));
    assertThat(conf)
        .contains("worker_processes 2;")
        .contains("listen 127.0.0.1:19443 ssl;")
        .contains(
            "ssl_certificate_key \"engine:pkcs11:pkcs11:token=t;object=rsa2048;type=private\";")
        .contains("ssl_session_cache off;")
        .contains("ssl_session_tickets off;")
        .contains("env SOFTHSM2_CONF;")
        .doesNotContain("pin")
        // The engine must not become the default for every algorithm (that would put ECDHE and
        // hashing through PKCS#11 too).
        .doesNotContain("ssl_engine");
  }

  @Test
  void opensslConf_initialisesTheEngineWithoutMakingItDefault_andEscapesThePin() {
    String conf =
        NginxLibp11.opensslConf(
            Path.of("/usr/lib/engines-3/pkcs11.so"),
            Path.of("/usr/lib/softhsm/libsofthsm2.so"),
            "a$b#c\"d".toCharArray());
    assertThat(conf)
        .contains("dynamic_path = /usr/lib/engines-3/pkcs11.so")
        .contains("MODULE_PATH = /usr/lib/softhsm/libsofthsm2.so")
        .contains("PIN = a\\$b\\#c\\\"d")
        .contains("init = 1")
        .doesNotContain("default_algorithms");
  }

  @Test
  void firstProblem_quotesTheFirstCriticalLine() throws Exception {
    Path log = dir.resolve("error.log");
    Files.writeString(
        log,
        "2026/12/02 19:01:05 [warn] 1#1: something harmless\n"
            + "2026/12/02 19:01:06 [crit] 2922#2922: *3 SSL_do_handshake() failed (SSL:"
            + " error:02000090:rsa routines::illegal or unsupported padding mode)\n");
    assertThat(NginxLibp11.firstProblem(log))
        .startsWith("[crit]")
        .contains("illegal or unsupported padding mode");
    assertThat(NginxLibp11.firstProblem(dir.resolve("absent.log"))).contains("nothing in");
  }

  @Test
  void firstProblem_fallsBackToStderr_whereNginxReportsAConfigItCannotOpen() throws Exception {
    Path out = dir.resolve("nginx.out");
    Files.writeString(
        out,
        "2026/12/03 08:10:31 [emerg] 9147#9147: open() \"x/nginx.conf\" failed (2: No such file"
            + " or directory)\n");
    assertThat(NginxLibp11.firstProblem(dir.resolve("error.log"), out))
        .startsWith("[emerg]")
        .contains("No such file");
    assertThat(NginxLibp11.firstProblem(dir.resolve("a.log"), dir.resolve("b.out")))
        .isEqualTo("nothing in a.log or b.out");
  }

  @Test
  void command_givesNginxAbsolutePaths_evenForARelativeWorkDir() {
    // nginx resolves a relative -c against the -p prefix: "dir/dir/nginx.conf" (found in run-all).
    List<String> cmd =
        NginxLibp11.command(Path.of("/usr/sbin/nginx"), Path.of("bench/results/keys/nginx"));
    Path prefix = Path.of("bench/results/keys/nginx").toAbsolutePath();
    assertThat(cmd)
        .containsExactly(
            "/usr/sbin/nginx",
            "-p",
            prefix.toString(),
            "-c",
            prefix.resolve("nginx.conf").toString());
  }
}
