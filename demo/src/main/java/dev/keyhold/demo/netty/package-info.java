/**
 * The HTTPS demo on Netty/BoringSSL: {@link dev.keyhold.demo.netty.NettyDemoServer}, reusable by
 * the benchmark with any server {@code SslContext}, and {@link
 * dev.keyhold.demo.netty.NettyDemoMain}, its command line with keys offloaded to Keyhold.
 */
package dev.keyhold.demo.netty;
