package dev.keyhold.client.jsse;

import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.HandshakeCompletedListener;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

/**
 * An {@link SSLSocket} in the middle of a handshake whose peer offered exactly the given signature
 * algorithms (JCA names), for key manager tests: JDK 17 has no per-connection way to make a real
 * peer offer fewer algorithms. Everything else is inert.
 */
final class HandshakingSocket extends SSLSocket {
  private final ExtendedSSLSession session;

  HandshakingSocket(String... peerAlgorithms) {
    this.session = new OfferedAlgorithms(peerAlgorithms);
  }

  @Override
  public SSLSession getHandshakeSession() {
    return session;
  }

  @Override
  public String[] getSupportedCipherSuites() {
    return new String[0];
  }

  @Override
  public String[] getEnabledCipherSuites() {
    return new String[0];
  }

  @Override
  public void setEnabledCipherSuites(String[] suites) {}

  @Override
  public String[] getSupportedProtocols() {
    return new String[0];
  }

  @Override
  public String[] getEnabledProtocols() {
    return new String[0];
  }

  @Override
  public void setEnabledProtocols(String[] protocols) {}

  @Override
  public SSLSession getSession() {
    return session;
  }

  @Override
  public void addHandshakeCompletedListener(HandshakeCompletedListener l) {}

  @Override
  public void removeHandshakeCompletedListener(HandshakeCompletedListener l) {}

  @Override
  public void startHandshake() {}

  @Override
  public void setUseClientMode(boolean mode) {}

  @Override
  public boolean getUseClientMode() {
    return false;
  }

  @Override
  public void setNeedClientAuth(boolean need) {}

  @Override
  public boolean getNeedClientAuth() {
    return false;
  }

  @Override
  public void setWantClientAuth(boolean want) {}

  @Override
  public boolean getWantClientAuth() {
    return false;
  }

  @Override
  public void setEnableSessionCreation(boolean flag) {}

  @Override
  public boolean getEnableSessionCreation() {
    return true;
  }

  private static final class OfferedAlgorithms extends ExtendedSSLSession {
    private final String[] peerAlgorithms;

    OfferedAlgorithms(String[] peerAlgorithms) {
      this.peerAlgorithms = peerAlgorithms.clone();
    }

    @Override
    public String[] getPeerSupportedSignatureAlgorithms() {
      return peerAlgorithms.clone();
    }

    @Override
    public byte[] getId() {
      return new byte[0];
    }

    @Override
    public javax.net.ssl.SSLSessionContext getSessionContext() {
      return null;
    }

    @Override
    public long getCreationTime() {
      return 0;
    }

    @Override
    public long getLastAccessedTime() {
      return 0;
    }

    @Override
    public void invalidate() {}

    @Override
    public boolean isValid() {
      return true;
    }

    @Override
    public void putValue(String name, Object value) {}

    @Override
    public Object getValue(String name) {
      return null;
    }

    @Override
    public void removeValue(String name) {}

    @Override
    public String[] getValueNames() {
      return new String[0];
    }

    @Override
    public java.security.cert.Certificate[] getPeerCertificates() {
      return null;
    }

    @Override
    public java.security.cert.Certificate[] getLocalCertificates() {
      return null;
    }

    @Override
    public java.security.Principal getPeerPrincipal() {
      return null;
    }

    @Override
    public java.security.Principal getLocalPrincipal() {
      return null;
    }

    @Override
    public String getCipherSuite() {
      return "TLS_AES_128_GCM_SHA256";
    }

    @Override
    public String getProtocol() {
      return "TLSv1.3";
    }

    @Override
    public String getPeerHost() {
      return "peer.test";
    }

    @Override
    public int getPeerPort() {
      return 443;
    }

    @Override
    public int getPacketBufferSize() {
      return 16709;
    }

    @Override
    public int getApplicationBufferSize() {
      return 16384;
    }

    @Override
    public String[] getLocalSupportedSignatureAlgorithms() {
      return peerAlgorithms.clone();
    }
  }
}
