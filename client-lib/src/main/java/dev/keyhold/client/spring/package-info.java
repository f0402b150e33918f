/** Spring Boot integration: the Keyhold provider installed before the web server starts. */
package dev.keyhold.client.spring;
