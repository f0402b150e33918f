/**
 * Deliberate violations of ArchitectureTest's rules, imported on their own to prove each rule can
 * fail. Never used by anything else.
 */
package dev.keyhold.service.archfixture;
