package dev.keyhold.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The Kubernetes JSON schemas that fabric8's model jars ship ({@code schema/validation-schema.json}
 * in kubernetes-model-core, -apps, -policy and -networking), made strict the way {@code kubeconform
 * -strict} is: an object schema with properties admits no other field, and fabric8's {@code
 * "required": true} marks become JSON Schema's required lists. Two Java-shaped definitions are
 * replaced by what the API accepts: a Quantity is a string in Kubernetes' quantity syntax or a
 * number, an IntOrString is an integer or a string.
 */
final class KubeSchemas {

  /** apimachinery's quantity grammar: a decimal number, then an exponent or a suffix. */
  private static final String QUANTITY_PATTERN =
      "^[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+|[numkMGTPE]|[KMGTPE]i)?$";

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final ObjectMapper json = MAPPER;
  private final ObjectNode definitions = json.createObjectNode();
  private final Map<String, String> definitionByKind = new HashMap<>();
  private final Map<String, JsonSchema> schemaByKind = new HashMap<>();
  private final JsonSchemaFactory factory =
      JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7);

  KubeSchemas() throws IOException {
    List<URL> files =
        Collections.list(getClass().getClassLoader().getResources("schema/validation-schema.json"));
    if (files.size() < 4) {
      throw new IllegalStateException(
          "expected the schemas of 4 fabric8 model jars, found " + files);
    }
    for (URL url : files) {
      try (InputStream in = url.openStream()) {
        JsonNode defs = json.readTree(in).path("definitions");
        for (Iterator<Map.Entry<String, JsonNode>> it = defs.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          if (!definitions.has(e.getKey())) {
            definitions.set(e.getKey(), e.getValue().deepCopy());
          }
        }
      }
    }
    ObjectNode quantity = json.createObjectNode();
    quantity.putArray("type").add("string").add("number");
    quantity.put("pattern", QUANTITY_PATTERN);
    List<String> names = new ArrayList<>();
    definitions.fieldNames().forEachRemaining(names::add);
    // The jars name them differently (k8s_io_apimachinery_pkg_api_resource_Quantity,
    // kubernetes_resource_Quantity).
    for (String name : names) {
      if (name.endsWith("_Quantity")) {
        definitions.set(name, quantity);
      }
    }
    ObjectNode intOrString = json.createObjectNode();
    intOrString.putArray("type").add("integer").add("string");
    for (String name : names) {
      if (name.endsWith("_IntOrString")) {
        definitions.set(name, intOrString);
      }
    }
    strict(definitions, true);
    for (Iterator<Map.Entry<String, JsonNode>> it = definitions.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode props = e.getValue().path("properties");
      String apiVersion = props.path("apiVersion").path("default").asText("");
      String kind = props.path("kind").path("default").asText("");
      if (!apiVersion.isEmpty() && !kind.isEmpty()) {
        definitionByKind.putIfAbsent(apiVersion + " " + kind, e.getKey());
      }
    }
  }

  /**
   * Schema errors of one manifest; empty if it is valid. An unknown apiVersion/kind is an error.
   */
  List<String> validate(JsonNode manifest) {
    String key = manifest.path("apiVersion").asText() + " " + manifest.path("kind").asText();
    String definition = definitionByKind.get(key);
    if (definition == null) {
      return List.of("no schema for " + key);
    }
    JsonSchema schema = schemaByKind.computeIfAbsent(key, k -> compile(definition));
    List<String> errors = new ArrayList<>();
    for (ValidationMessage m : schema.validate(manifest)) {
      errors.add(m.getMessage());
    }
    return errors;
  }

  private JsonSchema compile(String definition) {
    ObjectNode root = json.createObjectNode();
    root.put("$schema", "http://json-schema.org/draft-07/schema#");
    root.putArray("allOf").addObject().put("$ref", "#/definitions/" + definition);
    root.set("definitions", definitions);
    return factory.getSchema(root);
  }

  /**
   * Closes object schemas, lifts {@code "required": true} and drops fabric8's code-generation
   * keywords. {@code isMap} is true where the node's fields are names, not keywords.
   */
  private static void strict(JsonNode node, boolean isMap) {
    if (node instanceof ArrayNode array) {
      array.forEach(n -> strict(n, false));
      return;
    }
    if (!(node instanceof ObjectNode o)) {
      return;
    }
    if (isMap) {
      o.forEach(n -> strict(n, false));
      return;
    }
    List<String> generated = new ArrayList<>();
    o.fieldNames()
        .forEachRemaining(
            n -> {
              if (n.startsWith("java") || n.equals("existingJavaType")) {
                generated.add(n);
              }
            });
    o.remove(generated);
    if (o.path("required").isBoolean()) {
      o.remove("required");
    }
    JsonNode props = o.get("properties");
    if (props instanceof ObjectNode properties) {
      ArrayNode required = MAPPER.createArrayNode();
      properties
          .fields()
          .forEachRemaining(
              e -> {
                if (e.getValue().path("required").asBoolean(false)) {
                  required.add(e.getKey());
                }
              });
      if (!required.isEmpty()) {
        o.set("required", required);
      }
      if (!o.has("additionalProperties") || o.get("additionalProperties").isBoolean()) {
        o.put("additionalProperties", false);
      }
      strict(properties, true);
    }
    for (String keyword : List.of("items", "additionalProperties")) {
      if (o.get(keyword) != null && o.get(keyword).isObject()) {
        strict(o.get(keyword), false);
      }
    }
  }
}
