package dev.keyhold.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What Keyhold knows about one PKCS#11 implementation, read from {@code hsm-config/profiles/
 * NAME.yaml} (packaged as {@code dev/keyhold/config/profiles/NAME.yaml}). {@code hsm.profile} picks
 * it; its {@link Defaults} fill the {@code hsm.*} fields the configuration leaves unset (the user's
 * settings win), and its notes and hints go into start-up messages.
 *
 * @param name the {@code hsm.profile} value, e.g. {@code softhsm2}
 * @param title a human name for messages
 * @param libraries where the vendor installs its module, most common first; the first that exists
 *     is the default {@code hsm.library}
 * @param install how to install the module (for the "library does not exist" message)
 * @param slotSelection how to name the token
 * @param login what the PIN is for this implementation
 * @param environment the module's own environment variables; they must be set before the JVM starts
 * @param mechanismGaps known missing or refused mechanisms and what Keyhold does about them
 * @param maxSessions concurrent operations the module survives (0: no known limit); a larger {@code
 *     hsm.sessions} is allowed but warned about
 * @param notes other operational facts
 * @param setupHints what to do when the token is missing
 * @param sources where the facts come from
 * @param defaults the {@code hsm.*} defaults of this implementation
 */
public record VendorProfile(
    String name,
    String title,
    List<String> libraries,
    String install,
    String slotSelection,
    String login,
    List<EnvVar> environment,
    List<String> mechanismGaps,
    int maxSessions,
    List<String> notes,
    List<String> setupHints,
    List<String> sources,
    Defaults defaults) {

  /** Every profile shipped in {@code hsm-config/profiles/}. */
  public static final List<String> KNOWN =
      List.of(
          "softhsm2",
          "tpm2-pkcs11",
          "opencryptoki-soft",
          "luna",
          "nshield",
          "cloudhsm",
          "yubihsm2",
          "generic");

  private static final YAMLMapper MAPPER =
      YAMLMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
          .build();

  private static final Map<String, VendorProfile> CACHE = new ConcurrentHashMap<>();

  /** A module environment variable. */
  public record EnvVar(String name, boolean required, String purpose) {}

  /**
   * The {@code hsm.*} defaults of a profile; null (or 0) leaves the general default.
   *
   * @param badPaddingCodes codes added to {@link HsmConfig#STANDARD_BAD_PADDING_CODES}
   */
  public record Defaults(
      HsmConfig.DecryptMode decryptMode,
      Integer sessions,
      HsmConfig.VerifyMode verifySignatures,
      List<String> badPaddingCodes) {}

  public VendorProfile {
    libraries = libraries == null ? List.of() : List.copyOf(libraries);
    environment = environment == null ? List.of() : List.copyOf(environment);
    mechanismGaps = mechanismGaps == null ? List.of() : List.copyOf(mechanismGaps);
    notes = notes == null ? List.of() : List.copyOf(notes);
    setupHints = setupHints == null ? List.of() : List.copyOf(setupHints);
    sources = sources == null ? List.of() : List.copyOf(sources);
    if (defaults == null) {
      defaults = new Defaults(null, null, null, null);
    }
  }

  /** The profile named {@code name}; an unknown name fails with the list of known ones. */
  public static VendorProfile named(String name) {
    if (!KNOWN.contains(name)) {
      throw new ConfigException(
          "hsm.profile '" + name + "' is unknown (known: " + String.join(", ", KNOWN) + ")");
    }
    return CACHE.computeIfAbsent(name, VendorProfile::load);
  }

  private static VendorProfile load(String name) {
    String resource = "profiles/" + name + ".yaml";
    try (InputStream in = VendorProfile.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("vendor profile " + resource + " is not on the classpath");
      }
      return parse(in.readAllBytes(), name);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read vendor profile " + resource, e);
    }
  }

  /** Parses a profile data file (tests read the files of hsm-config/profiles/ directly). */
  static VendorProfile parse(byte[] yaml, String expectedName) throws IOException {
    VendorProfile p = MAPPER.readValue(yaml, VendorProfile.class);
    if (!expectedName.equals(p.name())) {
      throw new IllegalStateException(
          "vendor profile " + expectedName + ".yaml names itself '" + p.name() + "'");
    }
    return p;
  }

  /** The default {@code hsm.library}: the first installed candidate, else the first, else null. */
  public Path defaultLibrary() {
    for (String l : libraries) {
      if (Files.isRegularFile(Path.of(l))) {
        return Path.of(l);
      }
    }
    return libraries.isEmpty() ? null : Path.of(libraries.get(0));
  }

  /** The set-up hints as one clause for an error message. */
  public String hints() {
    return title + ": " + String.join("; ", setupHints);
  }

  /**
   * What looks wrong with this configuration for this implementation, one line each, for start-up
   * warnings: module variables that must be set and are not, more sessions than it survives.
   */
  public List<String> warnings(HsmConfig hsm, Map<String, String> env) {
    java.util.ArrayList<String> out = new java.util.ArrayList<>();
    for (EnvVar v : environment) {
      if (v.required() && (env.get(v.name()) == null || env.get(v.name()).isEmpty())) {
        out.add(
            "profile "
                + name
                + ": environment variable "
                + v.name()
                + " is not set ("
                + v.purpose()
                + ")");
      }
    }
    if (maxSessions > 0 && hsm.sessions() > maxSessions) {
      out.add(
          "profile "
              + name
              + ": hsm.sessions "
              + hsm.sessions()
              + " exceeds what "
              + title
              + " is known to survive ("
              + maxSessions
              + "; see hsm-config/profiles/README.md)");
    }
    return out;
  }
}
