package dev.keyhold.service.archfixture.pkcs11;

/** A PKCS#11 class that speaks gRPC. */
public final class UsesGrpc {
  public io.grpc.Status status() {
    return io.grpc.Status.UNAVAILABLE;
  }
}
