package dev.keyhold.service.pkcs11;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.service.keys.HsmException;
import dev.keyhold.service.keys.HsmException.Reason;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.ProviderException;
import javax.crypto.BadPaddingException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import sun.security.pkcs11.wrapper.PKCS11Exception;

/** The classifier is pure logic: SunPKCS11-shaped exception chains in, reasons out. */
class HsmFailuresTest {

  @ParameterizedTest
  @CsvSource({
    "CKR_DEVICE_ERROR, DEVICE_ERROR",
    "CKR_GENERAL_ERROR, DEVICE_ERROR",
    "CKR_FUNCTION_FAILED, DEVICE_ERROR",
    "CKR_SESSION_HANDLE_INVALID, SESSION_INVALID",
    "CKR_SESSION_CLOSED, SESSION_INVALID",
    "CKR_OPERATION_ACTIVE, OPERATION_ACTIVE",
    "CKR_USER_NOT_LOGGED_IN, NOT_LOGGED_IN",
    "CKR_TOKEN_NOT_PRESENT, TOKEN_ABSENT",
    "CKR_DEVICE_REMOVED, TOKEN_ABSENT",
    "CKR_OBJECT_HANDLE_INVALID, OBJECT_HANDLE_INVALID",
    "CKR_KEY_HANDLE_INVALID, OBJECT_HANDLE_INVALID",
    "CKR_MECHANISM_INVALID, MECHANISM_INVALID",
    "CKR_ENCRYPTED_DATA_INVALID, ENCRYPTED_DATA_INVALID",
    "CKR_ENCRYPTED_DATA_LEN_RANGE, ENCRYPTED_DATA_INVALID",
    "CKR_FUNCTION_REJECTED, THROTTLED",
    "CKR_DEVICE_MEMORY, THROTTLED",
    "CKR_PIN_INCORRECT, PIN_INCORRECT",
    "CKR_PIN_LOCKED, PIN_LOCKED",
    "CKR_ARGUMENTS_BAD, OTHER",
  })
  void classify_messageChain_keepsTheCkrNameAndTypesIt(String ckr, Reason reason) {
    // SunPKCS11's shape: a ProviderException around a GeneralSecurityException around the code.
    ProviderException e =
        new ProviderException(
            "doFinal() failed", new GeneralSecurityException(ckr, new RuntimeException(ckr)));

    HsmException h = HsmFailures.classify(e);

    assertThat(h.reason()).isEqualTo(reason);
    assertThat(h.ckrName()).isEqualTo(ckr);
    assertThat(h.getMessage()).isEqualTo(ckr);
    assertThat(h.getCause()).isSameAs(e);
  }

  @Test
  void classify_realPkcs11Exception_readsTheErrorCode() {
    // CKR_DEVICE_REMOVED = 0x32, CKR_ENCRYPTED_DATA_INVALID = 0x40.
    HsmException removed =
        HsmFailures.classify(
            new ProviderException("sign failed", new PKCS11Exception(0x32L, null)));
    HsmException badData =
        HsmFailures.classify(
            new BadPaddingException("x") {
              private static final long serialVersionUID = 1L;

              @Override
              public synchronized Throwable getCause() {
                return new PKCS11Exception(0x40L, null);
              }
            });

    assertThat(removed.reason()).isEqualTo(Reason.TOKEN_ABSENT);
    assertThat(removed.ckrName()).isEqualTo("CKR_DEVICE_REMOVED");
    assertThat(badData.reason()).isEqualTo(Reason.ENCRYPTED_DATA_INVALID);
  }

  @Test
  void classify_vendorCode_isThrottled() {
    HsmException h = HsmFailures.classify(new PKCS11Exception(0x80000123L, null));

    assertThat(h.reason()).isEqualTo(Reason.THROTTLED);
    assertThat(h.ckrName()).isEqualTo("0x80000123");
  }

  @Test
  void classify_noCkrName_isOtherWithTheRootMessage() {
    HsmException h = HsmFailures.classify(new IOException("load failed", new IOException("boom")));

    assertThat(h.reason()).isEqualTo(Reason.OTHER);
    assertThat(h.ckrName()).isEmpty();
    assertThat(h.getMessage()).isEqualTo("boom");
  }

  @Test
  void classify_alreadyClassified_isReturnedAsItIs() {
    HsmException h = new HsmException(Reason.DEVICE_ERROR, "CKR_DEVICE_ERROR", "x", null);

    assertThat(HsmFailures.classify(h)).isSameAs(h);
  }

  @Test
  void classify_errorCodeDeeperThanAnotherCkrName_theErrorCodeWins() {
    // The code SunPKCS11 read from the token outranks a name some wrapper's message mentions.
    HsmException h =
        HsmFailures.classify(
            new ProviderException("after CKR_GENERAL_ERROR", new PKCS11Exception(0x32L, null)));

    assertThat(h.ckrName()).isEqualTo("CKR_DEVICE_REMOVED");
    assertThat(h.reason()).isEqualTo(Reason.TOKEN_ABSENT);
  }

  @Test
  void classify_firstVendorCode_isTheHexCodeAndThrottled() {
    HsmException h = HsmFailures.classify(new PKCS11Exception(0x80000000L, null));

    assertThat(h.ckrName()).isEqualTo("0x80000000");
    assertThat(h.reason()).isEqualTo(Reason.THROTTLED);
  }

  @Test
  void reason_vendorNamesAndHexCodes_areThrottledOthersNot() {
    assertThat(HsmFailures.reason("CKR_VENDOR_DEFINED")).isEqualTo(Reason.THROTTLED);
    assertThat(HsmFailures.reason("0x8000abcd")).isEqualTo(Reason.THROTTLED);
    assertThat(HsmFailures.reason("0xF0000001")).isEqualTo(Reason.THROTTLED);
    assertThat(HsmFailures.reason("0x7fffffff")).isEqualTo(Reason.OTHER);
    assertThat(HsmFailures.reason("")).isEqualTo(Reason.OTHER);
  }
}
