package io.polybus.apicheck;

import java.util.ArrayList;
import java.util.List;

/**
 * A line diff in the unified format ({@code @@ -a,b +c,d @@}, lines prefixed with space, - or +),
 * from a longest common subsequence. Quadratic in the number of lines, which is fine for a
 * signature file of a few thousand.
 */
final class UnifiedDiff {
  private UnifiedDiff() {}

  private record Edit(char op, String line, int oldLine, int newLine) {}

  static String of(List<String> expected, List<String> actual, int context) {
    List<Edit> edits = edits(expected, actual);
    StringBuilder out = new StringBuilder("--- recorded\n+++ code\n");
    int i = 0;
    while (i < edits.size()) {
      if (edits.get(i).op == ' ') {
        i++;
        continue;
      }
      // A hunk: from `context` lines before this change to `context` lines after the last change
      // closer than
      // 2 * context lines to the one before it.
      int start = Math.max(0, i - context);
      int end = i;
      int lastChange = i;
      while (end < edits.size()) {
        if (edits.get(end).op != ' ') {
          lastChange = end;
        } else if (end - lastChange > 2 * context) {
          break;
        }
        end++;
      }
      end = Math.min(edits.size(), lastChange + context + 1);
      int oldCount = 0;
      int newCount = 0;
      for (int k = start; k < end; k++) {
        oldCount += edits.get(k).op != '+' ? 1 : 0;
        newCount += edits.get(k).op != '-' ? 1 : 0;
      }
      Edit first = edits.get(start);
      out.append("@@ -")
          .append(first.oldLine + (oldCount == 0 ? 0 : 1))
          .append(',')
          .append(oldCount)
          .append(" +")
          .append(first.newLine + (newCount == 0 ? 0 : 1))
          .append(',')
          .append(newCount)
          .append(" @@\n");
      for (int k = start; k < end; k++) {
        out.append(edits.get(k).op).append(edits.get(k).line).append('\n');
      }
      i = end;
    }
    return out.toString();
  }

  /**
   * Every line of both inputs as kept, removed or added; oldLine/newLine count the lines of each
   * side before it.
   */
  private static List<Edit> edits(List<String> a, List<String> b) {
    int n = a.size();
    int m = b.size();
    int[][] lcs = new int[n + 1][m + 1];
    for (int i = n - 1; i >= 0; i--) {
      for (int j = m - 1; j >= 0; j--) {
        lcs[i][j] =
            a.get(i).equals(b.get(j))
                ? lcs[i + 1][j + 1] + 1
                : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    List<Edit> edits = new ArrayList<>();
    int i = 0;
    int j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a.get(i).equals(b.get(j))) {
        edits.add(new Edit(' ', a.get(i), i, j));
        i++;
        j++;
      } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
        edits.add(new Edit('-', a.get(i), i, j));
        i++;
      } else {
        edits.add(new Edit('+', b.get(j), i, j));
        j++;
      }
    }
    return edits;
  }
}
