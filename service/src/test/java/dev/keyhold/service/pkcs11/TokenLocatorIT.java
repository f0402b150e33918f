package dev.keyhold.service.pkcs11;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keyhold.config.HsmConfig;
import dev.keyhold.service.testing.TestHsm;
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
}
