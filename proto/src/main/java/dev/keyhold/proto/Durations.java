package dev.keyhold.proto;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one duration grammar of every Keyhold configuration surface (service YAML, key-store
 * properties, demo and bench options): a non-negative number, decimals allowed, with a unit {@code
 * ms}, {@code s}, {@code m} or {@code h} ({@code "250ms"}, {@code "1.5s"}, {@code "5m"}, {@code
 * "1h"}; case and a space before the unit do not matter), or an ISO-8601 duration ({@code "PT2S"}).
 * Decimal values are rounded to the millisecond.
 *
 * <p>A bare number has no meaning of its own: callers that accepted one before this grammar was
 * shared say which unit it counts in ({@link #parse(String, TimeUnit)}).
 */
public final class Durations {
  private static final Pattern AMOUNT =
      Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)\\s*(ms|s|m|h)?", Pattern.CASE_INSENSITIVE);

  /** What the error messages show. */
  public static final String EXAMPLES = "250ms, 2s, 5m, 1h or PT2S";

  private Durations() {}

  /**
   * Parses a duration with a unit, or an ISO-8601 duration.
   *
   * @throws IllegalArgumentException naming the text and the accepted forms
   */
  public static Duration parse(String text) {
    return parse(text, null);
  }

  /**
   * Like {@link #parse(String)}, and a bare number counts in {@code bareUnit} (null: a unit is
   * required).
   *
   * @throws IllegalArgumentException naming the text and the accepted forms
   */
  public static Duration parse(String text, TimeUnit bareUnit) {
    if (text == null) {
      throw new IllegalArgumentException("no duration given (e.g. " + EXAMPLES + ")");
    }
    String t = text.trim();
    if (t.startsWith("P") || t.startsWith("p")) {
      try {
        return Duration.parse(t.toUpperCase(Locale.ROOT));
      } catch (DateTimeParseException e) {
        throw bad(text, e);
      }
    }
    Matcher m = AMOUNT.matcher(t);
    if (!m.matches() || (m.group(2) == null && bareUnit == null)) {
      throw bad(text, null);
    }
    double amount = Double.parseDouble(m.group(1));
    long unitMillis =
        m.group(2) == null
            ? bareUnit.toMillis(1)
            : switch (m.group(2).toLowerCase(Locale.ROOT)) {
              case "ms" -> 1L;
              case "s" -> 1_000L;
              case "m" -> 60_000L;
              default -> 3_600_000L;
            };
    double millis = amount * unitMillis;
    if (millis > Long.MAX_VALUE) {
      throw bad(text, null);
    }
    return Duration.ofMillis(Math.round(millis));
  }

  private static IllegalArgumentException bad(String text, Exception cause) {
    return new IllegalArgumentException("'" + text + "' is not a duration like " + EXAMPLES, cause);
  }
}
