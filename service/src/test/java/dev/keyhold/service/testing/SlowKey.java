package dev.keyhold.service.testing;

import dev.keyhold.proto.SignatureScheme;
import dev.keyhold.service.keys.HsmKey;
import dev.keyhold.service.keys.KeyDescription;
import dev.keyhold.service.keys.RawRsaKey;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * A test decorator around a real HSM key: waits {@link #delay} before each HSM call and counts how
 * many calls entered the HSM. Lets tests make the HSM slow on purpose.
 */
public final class SlowKey implements RawRsaKey {
  private final HsmKey inner;
  private final Control control;

  /** Shared switch for all keys it wraps. */
  public static final class Control {
    public volatile Duration delay = Duration.ZERO;
    public volatile RuntimeException failure;
    public final AtomicInteger entered = new AtomicInteger();

    /** When set, every HSM call waits here (after counting itself) until the latch opens. */
    public volatile CountDownLatch gate;

    /** Makes HSM calls wait until {@link #open()}; returns this. */
    public Control close() {
      gate = new CountDownLatch(1);
      return this;
    }

    /** Lets waiting and future HSM calls through. */
    public void open() {
      CountDownLatch g = gate;
      gate = null;
      if (g != null) {
        g.countDown();
      }
    }

    public UnaryOperator<HsmKey> decorator() {
      return k -> new SlowKey(k, this);
    }
  }

  private SlowKey(HsmKey inner, Control control) {
    this.inner = inner;
    this.control = control;
  }

  private void enter() {
    control.entered.incrementAndGet();
    RuntimeException f = control.failure;
    if (f != null) {
      throw f;
    }
    CountDownLatch g = control.gate;
    if (g != null) {
      try {
        if (!g.await(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException("SlowKey gate was never opened");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    long ms = control.delay.toMillis();
    if (ms > 0) {
      try {
        Thread.sleep(ms);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public KeyDescription description() {
    return inner.description();
  }

  @Override
  public byte[] signDigest(SignatureScheme scheme, byte[] digest) throws GeneralSecurityException {
    enter();
    return inner.signDigest(scheme, digest);
  }

  @Override
  public byte[] rawRsa(byte[] input) throws GeneralSecurityException {
    enter();
    return RawRsaKey.of(inner).rawRsa(input);
  }

  @Override
  public boolean allowsRawRsa() {
    return !(inner instanceof RawRsaKey raw) || raw.allowsRawRsa();
  }

  @Override
  public boolean signsPssInHsm() {
    return inner.signsPssInHsm();
  }

  @Override
  public byte[] pkcs1Sign(byte[] data) throws GeneralSecurityException {
    enter();
    return RawRsaKey.of(inner).pkcs1Sign(data);
  }

  @Override
  public byte[] pkcs1Decrypt(byte[] ciphertext) throws GeneralSecurityException {
    enter();
    return inner.pkcs1Decrypt(ciphertext);
  }
}
