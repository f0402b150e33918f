package dev.keyhold.service.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.config.HsmConfig.VerifyMode;
import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.proto.v1.ErrorReason;
import dev.keyhold.service.grpc.Errors.KeyholdStatusException;
import dev.keyhold.service.keys.HsmException;
import dev.keyhold.service.keys.HsmException.Reason;
import dev.keyhold.service.keys.HsmKey;
import dev.keyhold.service.keys.KeyDescription;
import dev.keyhold.service.keys.Signer;
import dev.keyhold.service.ops.ApiOperation;
import dev.keyhold.service.testing.SoftwareKey;
import io.grpc.Status;
import java.security.GeneralSecurityException;
import java.security.ProviderException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Each kind of failed HSM step gets its documented status and reason. */
class HsmErrorMapperTest {

  @Test
  void toStatus_alreadyAStatus_isReturnedAsItIs() {
    KeyholdStatusException k = Errors.invalid(ErrorReason.MISSING_FIELD, "digest is required");

    assertThat(HsmErrorMapper.toStatus(k, ApiOperation.SIGN, "rsa2048")).isSameAs(k);
  }

  @Test
  void toStatus_signatureFault_isInternalSignatureFault() throws Exception {
    GeneralSecurityException fault = signatureFault();

    KeyholdStatusException k = HsmErrorMapper.toStatus(fault, ApiOperation.SIGN, "soft-p256");

    assertThat(k.code()).isEqualTo(Status.Code.INTERNAL);
    assertThat(k.reason()).isEqualTo(ErrorReason.SIGNATURE_FAULT);
    assertThat(k.getMessage()).isEqualTo(fault.getMessage()).contains("does not verify");
  }

  @ParameterizedTest
  @EnumSource(Reason.class)
  void toStatus_everyHsmExceptionReason_isUnavailableHsmFailureWithTheRootMessage(Reason r) {
    HsmException e =
        new HsmException(r, "CKR_X", "C_Sign failed", new RuntimeException("CKR_X: the cause"));

    KeyholdStatusException k = HsmErrorMapper.toStatus(e, ApiOperation.SIGN, "rsa2048");

    assertThat(k.code()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(k.reason()).isEqualTo(ErrorReason.HSM_FAILURE);
    assertThat(k.getMessage()).isEqualTo("HSM operation failed: CKR_X: the cause");
  }

  @Test
  void toStatus_generalSecurityException_isUnavailable() {
    KeyholdStatusException k =
        HsmErrorMapper.toStatus(
            new GeneralSecurityException("token gone"), ApiOperation.DECRYPT_PREMASTER, "rsa");

    assertThat(k.code()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(k.reason()).isEqualTo(ErrorReason.HSM_FAILURE);
    assertThat(k.getMessage()).isEqualTo("HSM operation failed: token gone");
  }

  @Test
  void toStatus_providerException_isUnavailable() {
    KeyholdStatusException k =
        HsmErrorMapper.toStatus(new ProviderException("sign failed"), ApiOperation.SIGN, "rsa");

    assertThat(k.code()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(k.getMessage()).isEqualTo("HSM operation failed: sign failed");
  }

  @Test
  void toStatus_anythingElse_isInternalNamingOnlyTheExceptionClass() {
    KeyholdStatusException k =
        HsmErrorMapper.toStatus(
            new IllegalStateException("secret detail"), ApiOperation.SIGN, "rsa");

    assertThat(k.code()).isEqualTo(Status.Code.INTERNAL);
    assertThat(k.reason()).isEqualTo(ErrorReason.HSM_FAILURE);
    assertThat(k.getMessage()).isEqualTo("internal error: IllegalStateException");
  }

  /** A real fault from {@link Signer}: an "HSM" whose ECDSA signatures are garbage. */
  private static GeneralSecurityException signatureFault() throws GeneralSecurityException {
    SoftwareKey real = SoftwareKey.ec("soft-p256", "secp256r1");
    HsmKey faulty =
        new HsmKey() {
          @Override
          public KeyDescription description() {
            return real.description();
          }

          @Override
          public byte[] signDigest(SignatureScheme scheme, byte[] digest)
              throws GeneralSecurityException {
            byte[] sig = real.signDigest(scheme, digest);
            sig[sig.length - 1] ^= 1;
            return sig;
          }

          @Override
          public byte[] pkcs1Decrypt(byte[] ciphertext) {
            throw new UnsupportedOperationException();
          }
        };
    try {
      new Signer(VerifyMode.ALL).sign(faulty, SignatureScheme.ECDSA_SECP256R1_SHA256, new byte[32]);
    } catch (Signer.SignatureFaultException e) {
      return e;
    }
    throw new AssertionError("the faulty signature was not caught");
  }
}
