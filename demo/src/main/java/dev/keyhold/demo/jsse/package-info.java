/**
 * The JSSE HTTPS demo server ({@link dev.keyhold.demo.jsse.JsseDemoServer}), agnostic of where its
 * key lives, so the handshake benchmark can compare key managers on the same server.
 */
package dev.keyhold.demo.jsse;
