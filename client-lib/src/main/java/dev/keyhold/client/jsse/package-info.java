/**
 * JSSE integration: {@link dev.keyhold.client.jsse.KeyholdKeyManager} for TLS servers and clients
 * built in code. Servers configured by key-store type and provider (Tomcat, Jetty, Spring Boot) use
 * the {@code "Keyhold"} KeyStore type instead, a JCA engine ({@code
 * dev.keyhold.client.jca.KeyholdKeyStoreSpi}); both serve the same {@code KeyholdKeyEntries}.
 */
package dev.keyhold.client.jsse;
