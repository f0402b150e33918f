package dev.keyhold.proto;

import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.interfaces.ECKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Map;
import java.util.Optional;

/**
 * The one place that names an EC key's curve, from the curve's OID (never from the field size,
 * which other curves share). The names are those {@link SignatureScheme#curve()} uses.
 */
public final class EcCurves {
  private EcCurves() {}

  private static final Map<String, String> NAME_BY_OID =
      Map.of(
          "1.2.840.10045.3.1.7", "secp256r1",
          "1.3.132.0.34", "secp384r1",
          "1.3.132.0.35", "secp521r1");

  /** The curve's name (secp256r1, secp384r1, secp521r1), or empty for any other curve. */
  public static Optional<String> nameOf(ECKey key) {
    try {
      AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
      p.init(key.getParams());
      String id = p.getParameterSpec(ECGenParameterSpec.class).getName();
      return Optional.ofNullable(NAME_BY_OID.get(id))
          .or(() -> NAME_BY_OID.containsValue(id) ? Optional.of(id) : Optional.empty());
    } catch (GeneralSecurityException e) {
      return Optional.empty(); // explicit or unnamed parameters: not a curve we serve
    }
  }
}
