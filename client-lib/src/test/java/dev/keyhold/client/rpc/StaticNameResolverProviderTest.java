package dev.keyhold.client.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.EquivalentAddressGroup;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.NameResolver;
import io.grpc.NameResolverRegistry;
import io.grpc.ProxiedSocketAddress;
import io.grpc.Status;
import io.grpc.SynchronizationContext;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

/** The {@code static:///h1:p1,h2:p2} resolver: address parsing, authority, resolution results. */
class StaticNameResolverProviderTest {
  private final StaticNameResolverProvider provider = new StaticNameResolverProvider();
  private final List<NameResolver.ResolutionResult> results = new ArrayList<>();

  private final NameResolver.Listener2 listener =
      new NameResolver.Listener2() {
        @Override
        public void onResult(NameResolver.ResolutionResult r) {
          results.add(r);
        }

        @Override
        public void onError(Status error) {
          throw new AssertionError("errors come as a result, not onError: " + error);
        }
      };

  private static NameResolver.Args args(Executor offload) {
    NameResolver.Args.Builder b =
        NameResolver.Args.newBuilder()
            .setDefaultPort(443)
            .setProxyDetector((SocketAddress target) -> (ProxiedSocketAddress) null)
            .setSynchronizationContext(
                new SynchronizationContext(
                    (t, e) -> {
                      throw new AssertionError(e);
                    }))
            .setServiceConfigParser(
                new NameResolver.ServiceConfigParser() {
                  @Override
                  public NameResolver.ConfigOrError parseServiceConfig(java.util.Map<String, ?> c) {
                    return NameResolver.ConfigOrError.fromConfig(c);
                  }
                });
    if (offload != null) {
      b.setOffloadExecutor(offload);
    }
    return b.build();
  }

  @Test
  void parse_hostPort_unresolvedAddress() {
    InetSocketAddress a = StaticNameResolverProvider.parse(" keyhold.example:8443 ");
    assertThat(a.isUnresolved()).isTrue();
    assertThat(a.getHostString()).isEqualTo("keyhold.example");
    assertThat(a.getPort()).isEqualTo(8443);
  }

  @Test
  void parse_bracketedIpv6_bracketsDropped() {
    InetSocketAddress a = StaticNameResolverProvider.parse("[::1]:1");
    assertThat(a.getHostString()).isEqualTo("::1");
    assertThat(a.getPort()).isEqualTo(1);
  }

  @Test
  void parse_badForms_refusedWithTheAddress() {
    for (String bad : new String[] {"host", "host:0", "host:-1", "host:1/path", ":8443", "a b:1"}) {
      assertThatThrownBy(() -> StaticNameResolverProvider.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("bad Keyhold address '" + bad + "' (host:port)");
    }
    assertThatThrownBy(() -> StaticNameResolverProvider.parse("h:1%"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("bad Keyhold address 'h:1%'")
        .hasCauseInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void target_list_staticScheme() {
    assertThat(StaticNameResolverProvider.target(List.of("a:1", "b:2")))
        .isEqualTo("static:///a:1,b:2");
  }

  /**
   * A list with an IPv6 literal must still be a target gRPC can parse and hand to this resolver.
   */
  @Test
  void target_ipv6Entry_channelBuildsAndResolverSeesAddress() {
    String target = StaticNameResolverProvider.target(List.of("[::1]:7001", "127.0.0.1:7002"));
    StaticNameResolverProvider.register();
    ManagedChannel ch = Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build();
    ch.shutdownNow();
    NameResolver r = provider.newNameResolver(URI.create(target), args(null));
    assertThat(r.getServiceAuthority()).isEqualTo("[::1]:7001");
    r.start(listener);
    assertThat(results.get(0).getAddressesOrError().getValue())
        .extracting(g -> g.getAddresses().get(0))
        .containsExactly(
            new InetSocketAddress("::1", 7001), new InetSocketAddress("127.0.0.1", 7002));
  }

  @Test
  void provider_facts_staticSchemeAvailableInetAddresses() {
    assertThat(provider.getDefaultScheme()).isEqualTo("static");
    assertThat(provider.isAvailable()).isTrue();
    assertThat(provider.priority()).isEqualTo(5);
    assertThat(provider.getProducedSocketAddressTypes()).containsExactly(InetSocketAddress.class);
  }

  @Test
  void register_twice_providerForSchemeOnce() {
    StaticNameResolverProvider.register();
    StaticNameResolverProvider.register();
    assertThat(NameResolverRegistry.getDefaultRegistry().getProviderForScheme("static"))
        .isInstanceOf(StaticNameResolverProvider.class);
  }

  @Test
  void newNameResolver_otherScheme_null() {
    assertThat(provider.newNameResolver(URI.create("dns:///a:1"), args(null))).isNull();
  }

  @Test
  void newNameResolver_noAddress_refused() {
    for (String t : new String[] {"static:///", "static:///%20"}) {
      assertThatThrownBy(() -> provider.newNameResolver(URI.create(t), args(null)))
          .as(t)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("no address in " + t);
    }
  }

  @Test
  void newNameResolver_badEntry_refused() {
    assertThatThrownBy(() -> provider.newNameResolver(URI.create("static:///a:1,b"), args(null)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'b'");
  }

  @Test
  void authority_firstEntry_ipv6Bracketed() {
    assertThat(
            provider
                .newNameResolver(URI.create("static:///keyhold.example:8443,b:2"), args(null))
                .getServiceAuthority())
        .isEqualTo("keyhold.example:8443");
    assertThat(
            provider
                .newNameResolver(
                    URI.create(StaticNameResolverProvider.target(List.of("[::1]:9", "b:2"))),
                    args(null))
                .getServiceAuthority())
        .isEqualTo("[::1]:9");
  }

  @Test
  void start_literalAddresses_oneGroupEachInOrder() {
    NameResolver r =
        provider.newNameResolver(
            URI.create("static:///127.0.0.1:7001,,%5B::1%5D:7002"), args(null));
    r.start(listener);
    assertThat(results).hasSize(1);
    List<EquivalentAddressGroup> groups = results.get(0).getAddressesOrError().getValue();
    assertThat(groups)
        .extracting(g -> g.getAddresses().get(0))
        .containsExactly(
            new InetSocketAddress("127.0.0.1", 7001), new InetSocketAddress("::1", 7002));
    r.refresh();
    assertThat(results).hasSize(2);
    r.shutdown();
    r.refresh();
    assertThat(results).hasSize(2);
  }

  @Test
  void start_nothingResolves_unavailableNamingTheHosts() {
    NameResolver r =
        provider.newNameResolver(URI.create("static:///keyhold-test.invalid:1"), args(null));
    r.start(listener);
    assertThat(results).hasSize(1);
    Status s = results.get(0).getAddressesOrError().getStatus();
    assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(s.getDescription())
        .isEqualTo("cannot resolve any Keyhold replica: [keyhold-test.invalid]");
  }

  @Test
  void start_someResolve_onlyThoseInResult() {
    NameResolver r =
        provider.newNameResolver(
            URI.create("static:///keyhold-test.invalid:1,127.0.0.1:2"), args(null));
    r.start(listener);
    assertThat(results.get(0).getAddressesOrError().getValue())
        .extracting(g -> g.getAddresses().get(0))
        .containsExactly(new InetSocketAddress("127.0.0.1", 2));
  }

  @Test
  void resolve_offloadExecutor_lookUpRunsThere_noOverlap() {
    List<Runnable> queued = new ArrayList<>();
    NameResolver r =
        provider.newNameResolver(URI.create("static:///127.0.0.1:1"), args(queued::add));
    r.refresh(); // not started: nothing to tell
    assertThat(queued).isEmpty();
    r.start(listener);
    r.refresh(); // a look-up is pending: not a second one
    assertThat(queued).hasSize(1);
    assertThat(results).isEmpty();
    queued.remove(0).run();
    assertThat(results).hasSize(1);
    r.refresh();
    assertThat(queued).hasSize(1);
    r.shutdown();
    queued.remove(0).run(); // finishes after shutdown: dropped
    assertThat(results).hasSize(1);
  }
}
