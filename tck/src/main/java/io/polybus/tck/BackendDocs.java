package io.polybus.tck;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Capabilities;
import io.polybus.spi.BackendProvider;
import io.polybus.spi.Parameter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks the user docs against what a backend declares, so they cannot drift: its row of the table
 * in {@code docs/uris.md} against {@link BackendProvider#parameters()}, and its row of the
 * "Backends" table in {@code docs/semantics.md} against the capabilities its TCK class declares. A
 * backend's test calls it; the paths are relative to the backend module's directory (where Maven
 * runs its tests).
 *
 * <p>The {@code uris.md} row, in its parameters column up to its native settings: every declared
 * parameter appears as {@code `name`} with its default (one of {@link
 * Parameter#defaultSpellings()}) in the words that follow it (the parenthesis after it, else up to
 * the next {@code ;}); every backticked lower-camel word there is a declared name, a declared
 * choice or a declared string default. The {@code semantics.md} row: a column that says plainly
 * {@code yes} or {@code no} (or {@code with ... only}, which is no for the default configuration)
 * matches the capability, a max payload that starts with {@code N KiB} or {@code N MiB} matches
 * {@link Capabilities#maxPayloadBytes()}, and a {@code maxDeliveryDelay} that says {@code no} or
 * starts with {@code N days}, {@code N hours} or {@code N minutes} matches {@link
 * Capabilities#maxDeliveryDelay()}; other wording is not checked. Stateless; the methods are
 * thread-safe.
 */
public final class BackendDocs {
  /** {@code docs/uris.md} seen from a backend module. */
  public static final Path URIS = Path.of("..", "docs", "uris.md");

  /** {@code docs/semantics.md} seen from a backend module. */
  public static final Path SEMANTICS = Path.of("..", "docs", "semantics.md");

  private static final Pattern TICKED = Pattern.compile("`([^`]+)`");
  private static final Pattern NAME = Pattern.compile("[a-z][A-Za-z0-9]*");
  private static final Pattern NATIVE = Pattern.compile("(No n|N)ative settings");
  private static final Pattern DELAY = Pattern.compile("^(\\d+) (days|hours|minutes)\\b");
  private static final Pattern PAYLOAD = Pattern.compile("^(\\d+) (KiB|MiB)\\b");

  private BackendDocs() {}

  /**
   * Fails naming every disagreement between {@link #URIS} and the provider's declared parameters.
   */
  public static void checkUris(BackendProvider provider) {
    assertThat(uriProblems(read(URIS), provider))
        .as("%s against the declarations of %s", URIS, provider.getClass().getName())
        .isEmpty();
  }

  /**
   * Fails naming every disagreement between the {@link #SEMANTICS} row of {@code scheme} and {@code
   * declared} (the capabilities of the backend's default configuration, as its TCK class declares
   * them).
   */
  public static void checkCapabilities(String scheme, Capabilities declared) {
    assertThat(capabilityProblems(read(SEMANTICS), scheme, declared))
        .as("%s against the capabilities of %s", SEMANTICS, scheme)
        .isEmpty();
  }

  /**
   * The disagreements between a {@code uris.md} text and the provider's declarations; empty when
   * none.
   */
  public static List<String> uriProblems(String markdown, BackendProvider provider) {
    List<Parameter<?>> declared = provider.parameters();
    List<String> problems = new ArrayList<>();
    if (declared.isEmpty()) {
      problems.add(provider.getClass().getName() + " declares no parameters()");
      return problems;
    }
    List<String> row = row(markdown, cells -> ticked(cells.get(0)).containsAll(provider.schemes()));
    if (row == null || row.size() != 3) {
      problems.add("no row of three cells whose first names the schemes " + provider.schemes());
      return problems;
    }
    String cell = row.get(2);
    Matcher nat = NATIVE.matcher(cell);
    if (nat.find()) {
      cell = cell.substring(0, nat.start());
    }
    Set<String> known = new HashSet<>();
    for (Parameter<?> p : declared) {
      known.add(p.name());
      known.addAll(p.choices());
      if (p.defaultValue() instanceof String s) {
        known.add(s); // a default written as code, `polybus`
      }
      String mark = "`" + p.name() + "`";
      int at = cell.indexOf(mark);
      if (at < 0) {
        problems.add("declared parameter '" + p.name() + "' is not in the docs");
        continue;
      }
      List<String> spellings = p.defaultSpellings();
      String gloss = gloss(cell, at + mark.length());
      if (!spellings.isEmpty() && spellings.stream().noneMatch(s -> containsToken(gloss, s))) {
        problems.add(
            "parameter '"
                + p.name()
                + "' is declared with default "
                + spellings.get(0)
                + ", the docs say '"
                + gloss.trim()
                + "'");
      }
    }
    for (String t : ticked(cell)) {
      if (NAME.matcher(t).matches() && !known.contains(t)) {
        problems.add("the docs name `" + t + "`, which is no declared parameter or choice");
      }
    }
    return problems;
  }

  /**
   * The disagreements between a {@code semantics.md} text's row of {@code scheme} and {@code
   * declared}.
   */
  public static List<String> capabilityProblems(
      String markdown, String scheme, Capabilities declared) {
    List<String> problems = new ArrayList<>();
    List<String> header = row(markdown, cells -> cells.get(0).equals("backend"));
    List<String> row =
        row(
            markdown,
            cells ->
                cells.get(0).equals("`" + scheme + ":`")
                    || cells.get(0).equals("`" + scheme + "://`"));
    if (header == null || row == null || row.size() != header.size()) {
      problems.add("no row for " + scheme + ": under a 'backend' header of as many columns");
      return problems;
    }
    for (int i = 1; i < header.size(); i++) {
      String column = header.get(i);
      String text = row.get(i);
      Boolean expected =
          switch (column) {
            case "orderedByKey" -> declared.orderedByKey();
            case "replay" -> declared.replay();
            case "durable" -> declared.durable();
            case "nativeDelayedRetry" -> declared.nativeDelayedRetry();
            case "mayDuplicate" -> declared.mayDuplicate();
            default -> null;
          };
      if (expected != null) {
        Boolean stated = plainly(text);
        if (stated != null && !stated.equals(expected)) {
          problems.add(column + ": the docs say '" + text + "', the backend declares " + expected);
        }
      } else if (column.equals("maxDeliveryDelay")) {
        Duration stated = plainDuration(text);
        if (stated != null && !stated.equals(declared.maxDeliveryDelay())) {
          problems.add(
              "maxDeliveryDelay: the docs say '"
                  + text
                  + "', the backend declares "
                  + declared.maxDeliveryDelay());
        }
      } else if (column.equals("max payload")) {
        Matcher m = PAYLOAD.matcher(text);
        if (m.find()) {
          long bytes = Long.parseLong(m.group(1)) << (m.group(2).equals("KiB") ? 10 : 20);
          if (bytes != declared.maxPayloadBytes()) {
            problems.add(
                "max payload: the docs say '"
                    + text
                    + "', the backend declares "
                    + declared.maxPayloadBytes()
                    + " bytes");
          }
        }
      }
    }
    return problems;
  }

  /**
   * {@code no} (or {@code with ... only}) as zero, {@code N days|hours|minutes} at the start as
   * that; null for other wording.
   */
  private static Duration plainDuration(String text) {
    Boolean plain = plainly(text);
    if (Boolean.FALSE.equals(plain)) {
      return Duration.ZERO;
    }
    Matcher m = DELAY.matcher(text);
    if (!m.find()) {
      return null;
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "days" -> Duration.ofDays(n);
      case "hours" -> Duration.ofHours(n);
      default -> Duration.ofMinutes(n);
    };
  }

  private static Boolean plainly(String text) {
    if (text.matches("(?s)yes\\b.*")) {
      return true;
    }
    if (text.matches("(?s)no\\b.*") || text.matches("(?s)with .* only\\b.*")) {
      return false;
    }
    return null;
  }

  /**
   * The words after a parameter's name: its parenthesis, else up to the next {@code ;} or closing
   * parenthesis.
   */
  private static String gloss(String cell, int from) {
    int i = from;
    if (cell.startsWith(" (", i)) {
      i += 2;
      int depth = 1;
      int start = i;
      while (i < cell.length() && depth > 0) {
        char c = cell.charAt(i++);
        depth += c == '(' ? 1 : c == ')' ? -1 : 0;
      }
      return cell.substring(start, depth == 0 ? i - 1 : i);
    }
    int depth = 0;
    int start = i;
    while (i < cell.length()) {
      char c = cell.charAt(i);
      if (c == ';' && depth == 0 || c == ')' && --depth < 0) {
        break;
      }
      depth += c == '(' ? 1 : 0;
      i++;
    }
    return cell.substring(start, i);
  }

  private static boolean containsToken(String text, String token) {
    for (int at = text.indexOf(token); at >= 0; at = text.indexOf(token, at + 1)) {
      boolean before =
          at == 0 || !Character.isLetterOrDigit(text.charAt(at - 1)) && text.charAt(at - 1) != '.';
      int end = at + token.length();
      boolean after = end == text.length() || !Character.isLetterOrDigit(text.charAt(end));
      if (before && after) {
        return true;
      }
    }
    return false;
  }

  private static List<String> ticked(String text) {
    List<String> out = new ArrayList<>();
    Matcher m = TICKED.matcher(text);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  /** The trimmed cells of the first table row that {@code wanted} accepts, or null. */
  private static List<String> row(String markdown, Predicate<List<String>> wanted) {
    for (String line : markdown.split("\n")) {
      String l = line.trim();
      if (!l.startsWith("|") || !l.endsWith("|") || l.length() < 2) {
        continue;
      }
      List<String> cells = new ArrayList<>();
      for (String c : l.substring(1, l.length() - 1).split("\\|", -1)) {
        cells.add(c.trim());
      }
      if (wanted.test(cells)) {
        return cells;
      }
    }
    return null;
  }

  private static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read " + p.toAbsolutePath() + " (run from a backend module)", e);
    }
  }
}
