package dev.keyhold.client.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Keyhold target that is up but never answers: it accepts TCP connections on 127.0.0.1 (port 0,
 * asked for its port) and holds them open without reading or writing a byte, so a client's TLS
 * handshake and its calls wait until their deadline, as against a hung service.
 */
public final class SilentListener implements AutoCloseable {
  private final ServerSocket socket;
  private final List<Socket> held = new CopyOnWriteArrayList<>();
  private final AtomicInteger accepted = new AtomicInteger();
  private final Thread acceptor;

  public SilentListener() throws IOException {
    socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    acceptor = new Thread(this::acceptLoop, "silent-listener-" + socket.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private void acceptLoop() {
    while (!socket.isClosed()) {
      try {
        held.add(socket.accept());
        accepted.incrementAndGet();
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  /** "127.0.0.1:PORT". */
  public String target() {
    return "127.0.0.1:" + socket.getLocalPort();
  }

  /** How many connections were accepted (and are held). */
  public int accepted() {
    return accepted.get();
  }

  @Override
  public void close() throws IOException {
    socket.close();
    for (Socket s : held) {
      s.close();
    }
    try {
      acceptor.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
