/** keyhold-bench: operations and handshakes per second, with same-run baselines. */
package dev.keyhold.bench;
