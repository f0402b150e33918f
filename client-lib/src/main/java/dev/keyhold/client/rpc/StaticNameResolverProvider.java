package dev.keyhold.client.rpc;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import io.grpc.Status;
import io.grpc.StatusOr;
import io.grpc.SynchronizationContext;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * gRPC name resolver for {@code static:///h1:p1,h2:p2}: a fixed list of replicas, one address group
 * each, for the channel's round_robin balancer. Host names are looked up when the channel starts
 * and again whenever gRPC asks for a refresh (after a connection failure). Registered in gRPC's
 * default registry by {@link KeyholdClient}. The authority (TLS host name) is the first entry's
 * unless the client overrides it.
 */
final class StaticNameResolverProvider extends NameResolverProvider {
  static final String SCHEME = "static";
  private static boolean registered;

  /** Registers the scheme once per class loader. */
  static synchronized void register() {
    if (!registered) {
      NameResolverRegistry.getDefaultRegistry().register(new StaticNameResolverProvider());
      registered = true;
    }
  }

  /**
   * The target for a list, quoted as a URI (an IPv6 literal's brackets are not legal in a URI path;
   * unquoted, gRPC cannot parse the target and finds no resolver for it).
   */
  static String target(List<String> addresses) {
    try {
      return new URI(SCHEME, "", "/" + String.join(",", addresses), null).toString();
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("bad Keyhold address list " + addresses, e);
    }
  }

  /** Parses {@code host:port} or {@code [v6]:port}; the host is not looked up here. */
  static InetSocketAddress parse(String hostPort) {
    URI u;
    try {
      u = URI.create("//" + hostPort.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("bad Keyhold address '" + hostPort + "' (host:port)", e);
    }
    if (u.getHost() == null || u.getPort() < 1 || (u.getPath() != null && !u.getPath().isEmpty())) {
      throw new IllegalArgumentException("bad Keyhold address '" + hostPort + "' (host:port)");
    }
    String host = u.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return InetSocketAddress.createUnresolved(host, u.getPort());
  }

  @Override
  protected boolean isAvailable() {
    return true;
  }

  @Override
  protected int priority() {
    return 5;
  }

  @Override
  public String getDefaultScheme() {
    return SCHEME;
  }

  @Override
  public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
    return List.of(InetSocketAddress.class);
  }

  @Override
  public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
    if (!SCHEME.equals(targetUri.getScheme())) {
      return null;
    }
    String path = targetUri.getPath();
    String list = path != null && path.startsWith("/") ? path.substring(1) : path;
    if (list == null || list.isBlank()) {
      throw new IllegalArgumentException("no address in " + targetUri);
    }
    List<InetSocketAddress> addresses = new ArrayList<>();
    for (String s : list.split(",")) {
      if (!s.isBlank()) {
        addresses.add(parse(s));
      }
    }
    return new Resolver(addresses, args);
  }

  private static final class Resolver extends NameResolver {
    private final List<InetSocketAddress> addresses;
    private final SynchronizationContext sync;
    private final Executor offload;
    private Listener2 listener;
    private boolean resolving;

    Resolver(List<InetSocketAddress> addresses, NameResolver.Args args) {
      this.addresses = addresses;
      this.sync = args.getSynchronizationContext();
      this.offload = args.getOffloadExecutor();
    }

    @Override
    public String getServiceAuthority() {
      InetSocketAddress first = addresses.get(0);
      String h = first.getHostString();
      return (h.contains(":") ? "[" + h + "]" : h) + ":" + first.getPort();
    }

    @Override
    public void start(Listener2 listener) {
      this.listener = listener;
      resolve();
    }

    @Override
    public void refresh() {
      resolve();
    }

    private void resolve() {
      if (resolving || listener == null) {
        return;
      }
      resolving = true;
      Runnable lookUp =
          () -> {
            List<EquivalentAddressGroup> groups = new ArrayList<>();
            List<String> unresolved = new ArrayList<>();
            for (InetSocketAddress a : addresses) {
              InetSocketAddress r = new InetSocketAddress(a.getHostString(), a.getPort());
              if (r.isUnresolved()) {
                unresolved.add(a.getHostString());
              } else {
                groups.add(new EquivalentAddressGroup(r));
              }
            }
            sync.execute(
                () -> {
                  resolving = false;
                  if (listener == null) {
                    return;
                  }
                  StatusOr<List<EquivalentAddressGroup>> result =
                      groups.isEmpty()
                          ? StatusOr.fromStatus(
                              Status.UNAVAILABLE.withDescription(
                                  "cannot resolve any Keyhold replica: " + unresolved))
                          : StatusOr.fromValue(groups);
                  listener.onResult2(
                      ResolutionResult.newBuilder().setAddressesOrError(result).build());
                });
          };
      if (offload == null) {
        lookUp.run();
      } else {
        offload.execute(lookUp);
      }
    }

    @Override
    public void shutdown() {
      listener = null;
    }
  }
}
