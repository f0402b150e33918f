package dev.keyhold.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyhold.config.ConfigLoader;
import dev.keyhold.config.ServiceConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/kubernetes/base, rendered as kubectl apply -k would, validated against the Kubernetes
 * schemas (strict: unknown fields and wrong types fail) and against the rules the deployment
 * promises: HSM-backed readiness, liveness, non-root, read-only root, measured resources, a
 * headless Service whose ports match the container's, a PDB and a NetworkPolicy over the same pods,
 * the PIN from a Secret file, and a ConfigMap that the service's own loader accepts.
 */
class KubernetesManifestsTest {
  private static final Path BASE = Repo.root().resolve("deploy/kubernetes/base");
  private static KubeSchemas schemas;
  private static List<JsonNode> docs;

  @TempDir Path tmp;

  @BeforeAll
  static void render() throws Exception {
    schemas = new KubeSchemas();
    docs = Kustomization.render(BASE);
  }

  private static JsonNode one(String kind) {
    List<JsonNode> found = docs.stream().filter(d -> d.path("kind").asText().equals(kind)).toList();
    assertThat(found).as("exactly one %s in the base", kind).hasSize(1);
    return found.get(0);
  }

  @Test
  void everyDocumentIsValidAgainstTheKubernetesSchema() {
    assertThat(docs)
        .extracting(d -> d.path("kind").asText())
        .containsExactlyInAnyOrder(
            "ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy");
    for (JsonNode d : docs) {
      assertThat(schemas.validate(d))
          .as("%s %s", d.path("kind").asText(), d.path("metadata").path("name").asText())
          .isEmpty();
    }
  }

  @Test
  void theValidatorRejectsAnUnknownFieldAWrongTypeAndABadQuantity() {
    ObjectNode typo = one("Deployment").deepCopy();
    ((ObjectNode) typo.at("/spec/template/spec/containers/0"))
        .set("readinessProb", typo.at("/spec/template/spec/containers/0/readinessProbe"));
    assertThat(schemas.validate(typo)).anySatisfy(e -> assertThat(e).contains("readinessProb"));

    ObjectNode wrongType = one("Deployment").deepCopy();
    ((ObjectNode) wrongType.get("spec")).put("replicas", "two");
    assertThat(schemas.validate(wrongType)).anySatisfy(e -> assertThat(e).contains("replicas"));

    ObjectNode badQuantity = one("Deployment").deepCopy();
    ((ObjectNode) badQuantity.at("/spec/template/spec/containers/0/resources/limits"))
        .put("memory", "384MB");
    assertThat(schemas.validate(badQuantity)).isNotEmpty();

    ObjectNode noKind = one("Service").deepCopy();
    noKind.remove("kind");
    assertThat(schemas.validate(noKind)).isNotEmpty();
  }

  @Test
  void aBrokenManifestFileFailsAndAPatchedKustomizationIsRefused() throws Exception {
    Files.writeString(tmp.resolve("kustomization.yaml"), "resources: [svc.yaml]\n");
    Files.writeString(
        tmp.resolve("svc.yaml"),
        """
        apiVersion: v1
        kind: Service
        metadata: {name: x}
        spec:
          clusterIP: None
          ports:
            - {name: grpc, port: "seven"}
          selectr: {app: x}
        """);
    List<JsonNode> broken = Kustomization.render(tmp);
    assertThat(schemas.validate(broken.get(0)))
        .anySatisfy(e -> assertThat(e).contains("port"))
        .anySatisfy(e -> assertThat(e).contains("selectr"));

    Files.writeString(tmp.resolve("kustomization.yaml"), "resources: [svc.yaml]\npatches: []\n");
    assertThatThrownBy(() -> Kustomization.render(tmp)).hasMessageContaining("patches");
  }

  @Test
  void theDeploymentProbesTheHsmRunsNonRootOnAReadOnlyRootWithMeasuredResources() {
    JsonNode spec = one("Deployment").at("/spec/template/spec");
    JsonNode c = spec.at("/containers/0");
    Set<String> portNames = containerPortNames(c);

    assertThat(c.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/readyz");
    assertThat(c.at("/livenessProbe/httpGet/path").asText()).isEqualTo("/livez");
    assertThat(portNames)
        .contains(
            c.at("/readinessProbe/httpGet/port").asText(),
            c.at("/livenessProbe/httpGet/port").asText());

    assertThat(spec.at("/securityContext/runAsNonRoot").asBoolean()).isTrue();
    assertThat(spec.at("/securityContext/runAsUser").asInt()).isPositive();
    assertThat(c.at("/securityContext/readOnlyRootFilesystem").asBoolean()).isTrue();
    assertThat(c.at("/securityContext/allowPrivilegeEscalation").isBoolean()).isTrue();
    assertThat(c.at("/securityContext/allowPrivilegeEscalation").asBoolean()).isFalse();

    assertThat(c.at("/resources/requests/memory").asText()).isEqualTo("256Mi");
    assertThat(c.at("/resources/requests/cpu").asText()).isNotEmpty();
    assertThat(c.at("/resources/limits/memory").asText()).isEqualTo("384Mi");
    assertThat(c.at("/env").toString()).contains("-Xmx160m");

    Map<String, JsonNode> volumes = new HashMap<>();
    spec.path("volumes").forEach(v -> volumes.put(v.path("name").asText(), v));
    Map<String, String> mounts = new HashMap<>();
    for (JsonNode m : c.path("volumeMounts")) {
      assertThat(volumes)
          .as("volume of mount %s", m.path("name").asText())
          .containsKey(m.path("name").asText());
      mounts.put(m.path("mountPath").asText(), m.path("name").asText());
    }
    assertThat(volumes.get(mounts.get("/tmp")).has("emptyDir")).isTrue();
    assertThat(volumes.get(mounts.get("/var/log/keyhold")).has("emptyDir")).isTrue();
    assertThat(volumes.get(mounts.get("/etc/keyhold/pin")).at("/secret/secretName").asText())
        .isNotEmpty();
    assertThat(volumes.get(mounts.get("/etc/keyhold/config")).at("/configMap/name").asText())
        .isEqualTo(one("ConfigMap").at("/metadata/name").asText());
    assertThat(mounts).containsKey("/opt/hsm");
    assertThat(one("Deployment").at("/spec/replicas").asInt()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void serviceIsHeadlessAndItsPortsAndSelectorsMatchTheDeployment() {
    JsonNode deployment = one("Deployment");
    JsonNode podLabels = deployment.at("/spec/template/metadata/labels");
    JsonNode selector = deployment.at("/spec/selector/matchLabels");
    assertThat(isSubset(selector, podLabels)).as("Deployment selector matches its pods").isTrue();
    Set<String> portNames = containerPortNames(deployment.at("/spec/template/spec/containers/0"));

    JsonNode svc = one("Service").get("spec");
    assertThat(svc.path("clusterIP").asText()).isEqualTo("None");
    assertThat(isSubset(svc.get("selector"), podLabels)).as("Service selects the pods").isTrue();
    Set<String> svcPorts = new HashSet<>();
    for (JsonNode p : svc.path("ports")) {
      assertThat(portNames).contains(p.path("targetPort").asText());
      svcPorts.add(p.path("name").asText());
    }
    assertThat(svcPorts).contains("grpc", "metrics");

    assertThat(one("PodDisruptionBudget").at("/spec/selector/matchLabels")).isEqualTo(selector);
    assertThat(one("PodDisruptionBudget").at("/spec/minAvailable").asInt()).isPositive();

    JsonNode np = one("NetworkPolicy").get("spec");
    assertThat(np.at("/podSelector/matchLabels")).isEqualTo(selector);
    assertThat(np.path("policyTypes").toString()).contains("Ingress");
    assertThat(np.path("ingress")).hasSize(2);
    for (JsonNode rule : np.path("ingress")) {
      assertThat(rule.path("from")).isNotEmpty();
      for (JsonNode p : rule.path("ports")) {
        assertThat(portNames).contains(p.path("port").asText());
      }
    }
    JsonNode grpc = np.at("/ingress/0");
    assertThat(grpc.at("/ports/0/port").asText()).isEqualTo("grpc");
    assertThat(grpc.at("/from/0/podSelector/matchLabels").isEmpty())
        .as("app servers by label")
        .isFalse();
    assertThat(np.at("/ingress/1/ports/0/port").asText()).isEqualTo("metrics");
  }

  @Test
  void theConfigMapIsAConfigTheServiceAcceptsAndMatchesTheMounts() throws Exception {
    Path file = tmp.resolve("keyhold.yaml");
    Files.writeString(file, one("ConfigMap").at("/data/keyhold.yaml").asText());
    ServiceConfig config = new ConfigLoader().load(file);
    JsonNode c = one("Deployment").at("/spec/template/spec/containers/0");
    Map<String, Integer> ports = new HashMap<>();
    c.path("ports")
        .forEach(p -> ports.put(p.path("name").asText(), p.path("containerPort").asInt()));

    assertThat(config.listenAddress().port()).isEqualTo(ports.get("grpc"));
    assertThat(ServiceConfig.HostPort.parse(config.metricsListen(), "metrics.listen").port())
        .isEqualTo(ports.get("metrics"));
    assertThat(config.hsm().pin().file()).isEqualTo(Path.of("/etc/keyhold/pin/user.pin"));
    assertThat(config.hsm().library().startsWith("/opt/hsm")).isTrue();
    assertThat(config.audit().startsWith("/var/log/keyhold")).isTrue();
    assertThat(c.at("/env").toString()).contains("/etc/keyhold/config/keyhold.yaml");
  }

  private static Set<String> containerPortNames(JsonNode container) {
    Set<String> names = new HashSet<>();
    container.path("ports").forEach(p -> names.add(p.path("name").asText()));
    return names;
  }

  private static boolean isSubset(JsonNode labels, JsonNode of) {
    if (labels == null || labels.isEmpty()) {
      return false;
    }
    for (var it = labels.fields(); it.hasNext(); ) {
      var e = it.next();
      if (!e.getValue().equals(of.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }
}
