/**
 * JSSE integration: {@link dev.keyhold.client.jsse.KeyholdKeyManager} for TLS servers and clients
 * built in code, and the {@code "Keyhold"} KeyStore type ({@link
 * dev.keyhold.client.jsse.KeyholdKeyStoreSpi}) for servers configured by key-store type and
 * provider (Tomcat, Jetty, Spring Boot).
 */
package dev.keyhold.client.jsse;
