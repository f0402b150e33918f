package dev.keyhold.service.ops;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyhold.proto.SignatureScheme;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * Checks an audit log, or a rotated set of files in order (oldest first; the chain continues from
 * one file into the next): every line chains to the one before, and, given the checkpoint key's
 * public key, every checkpoint's signature verifies and their sequence numbers follow each other.
 *
 * <p>What that proves: lines up to the last valid checkpoint were written by the service and are
 * unchanged (rewriting with the chain recomputed breaks a signature the rewriter cannot make).
 * Lines after the last checkpoint are only chained: whoever can write the file can change or drop
 * them ("unprotected tail"). A log whose last checkpoint is not the final one written at shutdown
 * was cut through a checkpoint, or its service is still running or stopped without closing it.
 */
public final class AuditVerifier {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String GENESIS = "0".repeat(64);

  private AuditVerifier() {}

  /**
   * The outcome.
   *
   * @param lines non-blank lines read
   * @param brokenFile the file of the first broken line, or null when intact
   * @param brokenLine its 1-based line number in that file
   * @param problem what is wrong with it
   * @param checkpoints checkpoints found (signatures checked when a key was given)
   * @param lastCheckpointFile the file of the last good checkpoint, or null
   * @param lastCheckpointLine its line number there
   * @param lastCheckpointFinal whether it is the shutdown checkpoint
   * @param unprotected lines after the last good checkpoint
   * @param signaturesChecked whether a public key was given
   * @param intactFile the file of the last line that still checked, or null
   * @param intactLine its line number there
   * @param files the files checked, in the order checked
   * @param notes what else the reader must know (where a set starts, unnumbered files)
   */
  public record Report(
      long lines,
      Path brokenFile,
      long brokenLine,
      String problem,
      long checkpoints,
      Path lastCheckpointFile,
      long lastCheckpointLine,
      boolean lastCheckpointFinal,
      long unprotected,
      boolean signaturesChecked,
      Path intactFile,
      long intactLine,
      List<Path> files,
      List<String> notes) {

    public boolean intact() {
      return brokenFile == null;
    }

    /** Human-readable lines, for {@code audit verify}. */
    public List<String> describe() {
      java.util.ArrayList<String> out = new java.util.ArrayList<>();
      if (intact()) {
        out.add(
            "audit chain intact: "
                + lines
                + " lines"
                + (files.size() > 1 ? " in " + files.size() + " files" : "")
                + (intactFile == null ? "" : ", up to line " + intactLine + " of " + intactFile));
      } else {
        out.add("audit chain broken at line " + brokenLine + " of " + brokenFile + ": " + problem);
        out.add(
            intactFile == null
                ? "nothing before it checks"
                : "intact up to line " + intactLine + " of " + intactFile);
      }
      if (lastCheckpointFile == null) {
        out.add(
            "no checkpoint"
                + (signaturesChecked ? "" : " checked")
                + ": nothing anchors this log; every line is unprotected");
      } else {
        out.add(
            "last checkpoint at line "
                + lastCheckpointLine
                + " of "
                + lastCheckpointFile
                + (signaturesChecked ? " (signature verified)" : " (signature NOT checked)")
                + (lastCheckpointFinal ? ", the final one written at shutdown" : ""));
        if (unprotected > 0) {
          out.add(unprotected + " lines after the last checkpoint are unprotected");
        }
        if (!lastCheckpointFinal) {
          out.add(
              "the log does not end with a shutdown checkpoint: "
                  + (files.isEmpty() ? "it" : files.get(files.size() - 1).toString())
                  + " was cut (truncated), or the service is still running or stopped uncleanly");
        }
      }
      out.addAll(notes);
      return out;
    }
  }

  /** Checks {@code files} in order; {@code key} may be null (then no signature is checked). */
  public static Report verify(List<Path> files, PublicKey key) throws IOException {
    return verify(files, key, GENESIS, List.of());
  }

  /**
   * Checks a rotated set: {@code paths} are files or directories (a directory stands for the audit
   * files in it: those whose first line is a chained JSON line). Files are ordered by the number in
   * their first line (a {@code rotate} header; the first file has none), the chain is followed
   * across them, and a missing number is reported as a missing file, named. A set whose oldest file
   * is not number 1 (older ones deleted by {@code audit.maxFiles}, or not given) starts from that
   * file's first line, said in a note. Files without numbers (logs written before rotation existed)
   * are checked in the order given.
   */
  public static Report verifySet(List<Path> paths, PublicKey key) throws IOException {
    List<Path> files = new java.util.ArrayList<>();
    for (Path p : paths) {
      if (Files.isDirectory(p)) {
        try (java.util.stream.Stream<Path> s = Files.list(p)) {
          for (Path f : s.filter(Files::isRegularFile).sorted().toList()) {
            JsonNode first = AuditFiles.firstLine(f);
            if (first != null && first.has("hash") && first.has("prev")) {
              files.add(f);
            }
          }
        }
      } else {
        files.add(p);
      }
    }
    java.util.Map<Path, Long> numbers = new java.util.HashMap<>();
    boolean numbered = !files.isEmpty();
    for (Path f : files) {
      long n = AuditFiles.number(f);
      numbers.put(f, n);
      numbered &= n > 0;
    }
    List<String> notes = new java.util.ArrayList<>();
    if (!numbered) {
      if (files.size() > 1) {
        notes.add("not every file carries its number (older logs): checked in the order given");
      }
      return verify(files, key, GENESIS, notes);
    }
    files.sort(java.util.Comparator.comparing(numbers::get));
    for (int i = 1; i < files.size(); i++) {
      long a = numbers.get(files.get(i - 1));
      long b = numbers.get(files.get(i));
      if (a == b) {
        return broken(
            files.get(i), 1, "it has the same file number (" + b + ") as " + files.get(i - 1));
      }
      if (b > a + 1) {
        JsonNode header = AuditFiles.firstLine(files.get(i));
        String missing =
            b == a + 2
                ? header.path("continues").asText("file " + (a + 1))
                : "files " + (a + 1) + " to " + (b - 1);
        // Check what comes before the gap, then report the gap itself.
        Report before = verify(files.subList(0, i), key, GENESIS, notes);
        if (!before.intact()) {
          return before;
        }
        return new Report(
            before.lines(),
            files.get(i),
            1,
            "a file is missing before it: "
                + missing
                + " (between "
                + files.get(i - 1).getFileName()
                + " and "
                + files.get(i).getFileName()
                + ")",
            before.checkpoints(),
            before.lastCheckpointFile(),
            before.lastCheckpointLine(),
            before.lastCheckpointFinal(),
            before.unprotected(),
            key != null,
            before.intactFile(),
            before.intactLine(),
            files,
            notes);
      }
    }
    String start = GENESIS;
    long first = numbers.get(files.get(0));
    if (first > 1) {
      start = AuditFiles.firstLine(files.get(0)).path("prev").asText();
      notes.add(
          "the set starts at file "
              + first
              + " ("
              + files.get(0)
              + "): files 1 to "
              + (first - 1)
              + " were deleted (audit.maxFiles) or not given; its link to them is not checked");
    }
    return verify(files, key, start, notes);
  }

  private static Report broken(Path file, long line, String problem) {
    return new Report(
        0, file, line, problem, 0, null, 0, false, 0, false, null, 0, List.of(file), List.of());
  }

  private static Report verify(List<Path> files, PublicKey key, String start, List<String> notes)
      throws IOException {
    String prev = start;
    long lines = 0;
    long checkpoints = 0;
    long seq = -1;
    Path cpFile = null;
    long cpLine = 0;
    boolean cpFinal = false;
    long unprotected = 0;
    Path goodFile = null;
    long goodLine = 0;
    MessageDigest sha256 = sha256();
    for (Path file : files) {
      long lineNo = 0;
      try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          lineNo++;
          if (line.isBlank()) {
            continue;
          }
          lines++;
          String problem;
          JsonNode node = null;
          try {
            node = JSON.readTree(line);
            problem = node instanceof ObjectNode ? null : "not a JSON object";
          } catch (JsonProcessingException e) {
            problem = "not valid JSON";
          }
          if (problem == null) {
            String hash = node.path("hash").asText();
            String claimedPrev = node.path("prev").asText();
            ObjectNode content = ((ObjectNode) node).deepCopy();
            content.remove("hash");
            if (!prev.equals(claimedPrev)) {
              problem =
                  lineNo == 1 && goodFile != null && !goodFile.equals(file)
                      ? "does not follow the last line of "
                          + goodFile
                          + " (that file was truncated or changed, or a file between them is"
                          + " missing)"
                      : "does not follow the line before (a line was removed, added or"
                          + " reordered)";
            } else if (!chainHash(sha256, claimedPrev, content.toString()).equals(hash)) {
              problem = "its hash does not match its content (the line was changed)";
            } else if ("checkpoint".equals(node.path("op").asText())) {
              long s = node.path("seq").asLong();
              if (seq >= 0 && s != seq + 1) {
                problem = "checkpoint " + s + " does not follow checkpoint " + seq;
              } else if (key != null && !signatureValid(node, key)) {
                problem = "the checkpoint's signature does not verify with the given key";
              } else {
                seq = s;
                checkpoints++;
                cpFile = file;
                cpLine = lineNo;
                cpFinal = node.path("final").asBoolean(false);
                unprotected = -1; // the checkpoint itself is counted below
              }
            }
            if (problem == null) {
              prev = hash;
              unprotected++;
            }
          }
          if (problem != null) {
            return new Report(
                lines,
                file,
                lineNo,
                problem,
                checkpoints,
                cpFile,
                cpLine,
                cpFinal,
                unprotected,
                key != null,
                goodFile,
                goodLine,
                List.copyOf(files),
                notes);
          }
          goodFile = file;
          goodLine = lineNo;
        }
      }
    }
    return new Report(
        lines,
        null,
        0,
        null,
        checkpoints,
        cpFile,
        cpLine,
        cpFinal,
        unprotected,
        key != null,
        goodFile,
        goodLine,
        List.copyOf(files),
        notes);
  }

  private static boolean signatureValid(JsonNode cp, PublicKey key) {
    try {
      SignatureScheme scheme =
          Arrays.stream(SignatureScheme.values())
              .filter(s -> s.ianaName().equals(cp.path("scheme").asText()))
              .findFirst()
              .orElse(null);
      if (scheme == null) {
        return false;
      }
      Signature v = Signature.getInstance(scheme.jcaSignatureName());
      if (scheme.pssParameters() != null) {
        v.setParameter(scheme.pssParameters());
      }
      v.initVerify(key);
      v.update(
          AuditLog.checkpointMessage(
              cp.path("seq").asLong(),
              cp.path("head").asText(),
              cp.path("time").asText(),
              cp.path("final").asBoolean(false)));
      return v.verify(Base64.getDecoder().decode(cp.path("sig").asText()));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }

  static String chainHash(MessageDigest md, String previous, String content) {
    md.reset();
    md.update(previous.getBytes(StandardCharsets.US_ASCII));
    md.update(content.getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(md.digest());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
