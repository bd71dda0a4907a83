package io.polybus.apicheck;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * What the signature file records of a type, shown on fixtures that use every construct the
 * renderer knows.
 */
class ApiRenderingTest {
  public abstract static class Fixture<K extends Comparable<K>, V>
      implements Serializable, Comparable<Fixture<K, V>> {
    private static final long serialVersionUID = 1L;
    public static final String NAME = "a \"quoted\"\tname";
    public static final long BIG = 1L << 40;
    public static final char SEP = '/';
    public static final Object NOT_A_CONSTANT = new Object();
    protected volatile int counter;
    int packagePrivateIsNotApi;

    protected Fixture(Map<K, ? super V> seed) throws IOException {}

    private Fixture() {}

    public abstract <R> List<? extends R> map(Function<? super V, R> f, int... indexes)
        throws IOException;

    protected synchronized void hook() {}

    @Deprecated
    public static int[][] grid() {
      return new int[0][];
    }

    void notApi() {}
  }

  public sealed interface Shape permits Circle, Square {
    default double area() {
      return 0;
    }
  }

  public record Circle(double radius, List<String> tags) implements Shape {}

  public static final class Square implements Shape {}

  public enum Color {
    RED,
    GREEN
  }

  @Test
  void rendersModifiersGenericsThrowsConstantsAndKindsSorted() {
    String text =
        ApiSignatureTest.render(List.of(Fixture.class, Shape.class, Circle.class, Color.class));
    String fixture = "io.polybus.apicheck.ApiRenderingTest.Fixture";
    assertThat(text)
        .isEqualTo(
            "\n"
                + "public abstract static class "
                + fixture
                + "<K extends java.lang.Comparable<K>, V>"
                + " implements java.io.Serializable, java.lang.Comparable<"
                + fixture
                + "<K, V>> {\n"
                + "  public static final long BIG = 1099511627776L\n"
                + "  public static final java.lang.String NAME = \"a \\\"quoted\\\"\\u0009name\"\n"
                + "  public static final java.lang.Object NOT_A_CONSTANT\n"
                + "  public static final char SEP = '/'\n"
                + "  protected volatile int counter\n"
                + "  protected "
                + fixture
                + "(java.util.Map<K, ? super V>) throws java.io.IOException\n"
                + "  @java.lang.Deprecated public static int[][] grid()\n"
                + "  protected void hook()\n"
                + "  public abstract <R> java.util.List<? extends R> map(java.util.function.Function<? super V, R>, int...)"
                + " throws java.io.IOException\n"
                + "}\n"
                + "\n"
                + "public sealed interface io.polybus.apicheck.ApiRenderingTest.Shape permits"
                + " io.polybus.apicheck.ApiRenderingTest.Circle, io.polybus.apicheck.ApiRenderingTest.Square {\n"
                + "  public default double area()\n"
                + "}\n"
                + "\n"
                + "public record io.polybus.apicheck.ApiRenderingTest.Circle"
                + " implements io.polybus.apicheck.ApiRenderingTest.Shape {\n"
                + "  record component double radius\n"
                + "  record component java.util.List<java.lang.String> tags\n"
                + "  public io.polybus.apicheck.ApiRenderingTest.Circle(double, java.util.List<java.lang.String>)\n"
                + "  public final boolean equals(java.lang.Object)\n"
                + "  public final int hashCode()\n"
                + "  public double radius()\n"
                + "  public java.util.List<java.lang.String> tags()\n"
                + "  public final java.lang.String toString()\n"
                + "}\n"
                + "\n"
                + "public enum io.polybus.apicheck.ApiRenderingTest.Color {\n"
                + "  enum constant GREEN\n"
                + "  enum constant RED\n"
                + "  public static io.polybus.apicheck.ApiRenderingTest.Color valueOf(java.lang.String)\n"
                + "  public static io.polybus.apicheck.ApiRenderingTest.Color[] values()\n"
                + "}\n");
  }

  @Test
  void theRecordedTypesAreThoseOfThePublicPackagesOnly() {
    List<Class<?>> types = ApiSignatureTest.publicTypes();
    assertThat(types)
        .isNotEmpty()
        .allSatisfy(c -> assertThat(c.getPackageName()).isIn("io.polybus", "io.polybus.spi"));
    assertThat(types).extracting(Class::getName).isSorted().contains("io.polybus.Message$Builder");
  }

  @Test
  void everySupertypeOfARecordedTypeIsRecordedSoNoInheritedMemberIsMissed() {
    // Public members a public type inherits from a package-private one are API the file would not
    // show.
    List<Class<?>> types = ApiSignatureTest.publicTypes();
    for (Class<?> c : types) {
      List<Class<?>> supertypes = new java.util.ArrayList<>(List.of(c.getInterfaces()));
      if (c.getSuperclass() != null) {
        supertypes.add(c.getSuperclass());
      }
      assertThat(supertypes)
          .filteredOn(t -> t.getName().startsWith("io.polybus."))
          .as("supertypes of %s", c.getName())
          .allSatisfy(t -> assertThat(types).contains(t));
    }
  }

  @Test
  void theDiffShowsWhatChangedWithContext() {
    String diff =
        UnifiedDiff.of(
            List.of("a", "b", "c", "d", "e", "f", "g", "h", "i"),
            List.of("a", "b", "c", "d", "E", "f", "g", "h", "i", "j"),
            1);
    assertThat(diff)
        .isEqualTo(
            "--- recorded\n+++ code\n"
                + "@@ -4,3 +4,3 @@\n d\n-e\n+E\n f\n"
                + "@@ -9,1 +9,2 @@\n i\n+j\n");
  }
}
