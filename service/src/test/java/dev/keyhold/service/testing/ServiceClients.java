package dev.keyhold.service.testing;

import dev.keyhold.proto.v1.KeyServiceGrpc;
import dev.keyhold.proto.v1.KeyServiceGrpc.KeyServiceBlockingStub;
import io.grpc.ManagedChannel;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The scaffolding the service ITs share: a {@link TestKeyholdService} on the test token and one
 * mTLS channel for each of the test PKI's clients (full rights, limited rights, no rights), with
 * blocking stubs that carry a deadline. Register it as a static {@code @RegisterExtension} field:
 * it starts before the class's tests and stops after them.
 */
public final class ServiceClients implements BeforeAllCallback, AfterAllCallback {
  /** May use every key for every operation. */
  public static final String TEST = "test-client";

  /** May use only some keys and operations. */
  public static final String LIMITED = "limited-client";

  /** Known to the CA, but granted nothing. */
  public static final String OTHER = "other-client";

  private TestKeyholdService service;
  private final Map<String, ManagedChannel> channels = new LinkedHashMap<>();

  /** Starts the service and opens the three clients' channels. */
  @Override
  public void beforeAll(ExtensionContext context) {
    service = TestKeyholdService.start();
    for (String client : new String[] {TEST, LIMITED, OTHER}) {
      channels.put(client, service.channel(client));
    }
  }

  public TestKeyholdService service() {
    return service;
  }

  /** A blocking stub for one of the clients, with a 30 s deadline. */
  public KeyServiceBlockingStub stub(String client) {
    return KeyServiceGrpc.newBlockingStub(channel(client)).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  public ManagedChannel channel(String client) {
    ManagedChannel ch = channels.get(client);
    if (ch == null) {
      throw new IllegalArgumentException("no channel for " + client);
    }
    return ch;
  }

  @Override
  public void afterAll(ExtensionContext context) throws InterruptedException {
    for (ManagedChannel ch : channels.values()) {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    channels.clear();
    service.close();
  }
}
