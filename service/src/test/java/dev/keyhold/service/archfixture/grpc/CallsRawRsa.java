package dev.keyhold.service.archfixture.grpc;

import dev.keyhold.service.keys.RawRsaKey;
import java.security.GeneralSecurityException;

/** A gRPC class that uses the raw RSA signing oracle. */
public final class CallsRawRsa {
  public byte[] oracle(RawRsaKey key, byte[] block) throws GeneralSecurityException {
    return key.rawRsa(block);
  }
}
