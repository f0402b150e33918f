package dev.keyhold.bench.load;

import dev.keyhold.client.rpc.KeyholdClient;
import dev.keyhold.client.rpc.KeyholdException;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Names a failed operation's outcome for the "errors by status" column. */
public final class Outcome {
  private Outcome() {}

  /** The gRPC status (plus Keyhold reason) of a failure, or the exception's simple class name. */
  public static String of(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof StatusRuntimeException sre) {
      c = KeyholdClient.toException(sre);
    }
    if (c instanceof KeyholdException ke) {
      return ke.reason().isEmpty() ? ke.code().name() : ke.code().name() + "/" + ke.reason();
    }
    return c.getClass().getSimpleName();
  }
}
