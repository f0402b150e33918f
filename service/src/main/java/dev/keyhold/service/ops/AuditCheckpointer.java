package dev.keyhold.service.ops;

import java.security.GeneralSecurityException;

/**
 * Signs audit checkpoints with a key held in the HSM ({@code audit.checkpointKey}), so that someone
 * holding only its public key (or certificate) can tell the chain up to a checkpoint was written by
 * the service: rewriting the file with the chain recomputed, or cutting it through a checkpoint, is
 * detected without trusting the file.
 */
public interface AuditCheckpointer {

  /** The key's name, written into each checkpoint. */
  String keyName();

  /** The TLS SignatureScheme name the key signs with, e.g. {@code ecdsa_secp256r1_sha256}. */
  String scheme();

  /** Signs {@code message} (hashed as the scheme says) inside the HSM. */
  byte[] sign(byte[] message) throws GeneralSecurityException;
}
