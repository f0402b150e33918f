package dev.keyhold.service.pkcs11;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keyhold.config.ConfigException;
import dev.keyhold.config.HsmConfig;
import dev.keyhold.service.testing.FaultShim;
import dev.keyhold.service.testing.TestHsm;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import sun.security.pkcs11.wrapper.PKCS11;

/** Finding the token by label, against the real SoftHSM library. */
class TokenLocatorIT {

  @Test
  void slots_testToken_isListedInitializedWithItsLabel() {
    List<TokenLocator.Slot> slots = TokenLocator.slots(TestHsm.shared().hsmConfig());

    assertThat(slots)
        .filteredOn(s -> s.label().equals(TestHsm.TOKEN_LABEL))
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.initialized()).isTrue();
              assertThat(s.userPinInitialized()).isTrue();
            });
  }

  @Test
  void resolve_byLabelAndBySlotId_agree() {
    HsmConfig byLabel = TestHsm.shared().hsmConfig();
    long slot = TokenLocator.resolve(byLabel);
    HsmConfig bySlot =
        new HsmConfig(byLabel.library(), null, slot, byLabel.pin(), 1, 0, null, null);

    assertThat(TokenLocator.resolve(bySlot))
        .isEqualTo(slot)
        .isEqualTo(TestHsm.shared().token().slot());
  }

  @Test
  void open_byTokenLabel_leavesTheLibraryInitializedForParallelCalls() throws Exception {
    HsmConfig hsm = TestHsm.shared().hsmConfig();
    assertThat(hsm.tokenLabel()).as("the test token is opened by label").isNotBlank();

    // The JDK caches one instance per library path, created by whoever initialized it first;
    // without CKF_OS_LOCKING_OK that is a subclass that serializes every PKCS#11 call.
    PKCS11 p11 =
        PKCS11.getInstance(
            hsm.library().toAbsolutePath().toString(), "C_GetFunctionList", null, false);

    assertThat(p11.getClass()).isEqualTo(PKCS11.class);
  }

  /**
   * A module that answers CKR_GENERAL_ERROR for a moment (as SoftHSM does while another replica's
   * login rewrites the token file) is asked again, and the token is found.
   */
  @Test
  void slots_transientGeneralError_isTriedAgainAndTheTokenFound() {
    FaultShim shim = FaultShim.create();
    shim.fail("CKR_GENERAL_ERROR", Duration.ofMillis(400), "C_GetTokenInfo");

    List<TokenLocator.Slot> slots =
        TokenLocator.slots(shim.hsmConfig(), TokenLocator.START_ATTEMPTS);

    assertThat(slots).extracting(TokenLocator.Slot::label).contains(TestHsm.TOKEN_LABEL);
    assertThat(shim.counter("injected")).as("the fault was met").isPositive();
  }

  /** A module that keeps failing gets the precise error, after the attempts, not a hang. */
  @Test
  void slots_persistentGeneralError_failsWithTheModulesAnswer() {
    FaultShim shim = FaultShim.create();
    shim.failFunctions("CKR_GENERAL_ERROR", "C_GetTokenInfo");

    assertThatThrownBy(() -> TokenLocator.slots(shim.hsmConfig(), TokenLocator.START_ATTEMPTS))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("failed to list slots: CKR_GENERAL_ERROR")
        .hasMessageContaining("after " + TokenLocator.START_ATTEMPTS + " attempts");
    assertThat(shim.counter("injected")).isEqualTo(TokenLocator.START_ATTEMPTS);
  }

  /** A failure that is not transient (here: the token was removed) is reported at once. */
  @Test
  void slots_nonTransientError_failsAtOnce() {
    FaultShim shim = FaultShim.create();
    shim.failFunctions("CKR_TOKEN_NOT_PRESENT", "C_GetTokenInfo");

    assertThatThrownBy(() -> TokenLocator.slots(shim.hsmConfig(), TokenLocator.START_ATTEMPTS))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("failed to list slots: CKR_TOKEN_NOT_PRESENT")
        .hasMessageNotContaining("attempts");
    assertThat(shim.counter("injected")).isEqualTo(1);
  }
}
