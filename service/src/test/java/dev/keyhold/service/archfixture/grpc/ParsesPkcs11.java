package dev.keyhold.service.archfixture.grpc;

import sun.security.pkcs11.wrapper.PKCS11Exception;

/** A gRPC class that reads SunPKCS11's exception. */
public final class ParsesPkcs11 {
  public long code(Throwable t) {
    return t instanceof PKCS11Exception p ? p.getErrorCode() : 0;
  }
}
