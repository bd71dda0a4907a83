package io.polybus.apicheck;

import static org.junit.jupiter.api.Assertions.fail;

import io.polybus.Polybus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The public API of module api ({@code io.polybus} and {@code io.polybus.spi}, not {@code
 * internal}) is recorded in {@code api/api.txt}; this test renders the compiled classes the same
 * way and fails on any difference, so every API change is a visible diff of that file in review (as
 * okhttp's {@code okhttp.api}).
 *
 * <p>What is rendered: every public or protected type (nested ones too) with its modifiers, kind,
 * type parameters, supertypes, permitted subtypes and runtime annotations; its public and protected
 * constructors, methods (default, static, abstract, generic signatures, varargs, throws) and fields
 * (enum constants, and the value of every static final primitive or String); record components.
 * Parameter names are not rendered (they are not part of the binary API). Members are sorted, never
 * taken in reflection order, so the text is the same on every JDK 17 run.
 *
 * <p>To record an intended change: {@value #UPDATE_COMMAND}, then commit {@code api/api.txt}.
 */
class ApiSignatureTest {
  static final String UPDATE_COMMAND =
      "mvn -pl api test -Dtest=ApiSignatureTest -Dpolybus.api.update=true";
  private static final List<String> PACKAGES = List.of("io.polybus", "io.polybus.spi");
  private static final String HEADER =
      "# The public API of polybus-api (packages "
          + String.join(", ", PACKAGES)
          + "), checked by ApiSignatureTest.\n# Do not edit by hand; regenerate with: "
          + UPDATE_COMMAND
          + "\n";

  @Test
  void publicApiMatchesTheRecordedSignatureFile() throws IOException {
    String actual = HEADER + render(publicTypes());
    Path file = recordedFile();
    if (Boolean.getBoolean("polybus.api.update")) {
      Files.writeString(file, actual, StandardCharsets.UTF_8);
      System.out.println("wrote " + file);
      return;
    }
    String expected =
        Files.exists(file)
            ? Files.readString(file, StandardCharsets.UTF_8).replace("\r\n", "\n")
            : "";
    if (!expected.equals(actual)) {
      fail(
          "The public API differs from "
              + file
              + " (- recorded, + code). If the change is intended, run\n    "
              + UPDATE_COMMAND
              + "\nand commit the file with the change.\n"
              + UnifiedDiff.of(lines(expected), lines(actual), 3));
    }
  }

  private static Path recordedFile() {
    // Surefire runs with the module directory as basedir (and as working directory).
    return Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
        .resolve("api.txt");
  }

  private static List<String> lines(String text) {
    return text.isEmpty() ? List.of() : Arrays.asList(text.split("\n", -1));
  }

  /**
   * Every public or protected top-level or member type of the API packages, found in the compiled
   * main classes.
   */
  static List<Class<?>> publicTypes() {
    Path root;
    try {
      root = Path.of(Polybus.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    List<String> classFiles = new ArrayList<>();
    try {
      if (Files.isDirectory(root)) {
        try (Stream<Path> files = Files.walk(root)) {
          files.map(f -> root.relativize(f).toString().replace('\\', '/')).forEach(classFiles::add);
        }
      } else {
        try (JarFile jar = new JarFile(root.toFile())) {
          jar.stream().map(e -> e.getName()).forEach(classFiles::add);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ClassLoader loader = Polybus.class.getClassLoader();
    List<Class<?>> types = new ArrayList<>();
    for (String f : classFiles) {
      if (!f.endsWith(".class")
          || f.endsWith("module-info.class")
          || f.endsWith("package-info.class")) {
        continue;
      }
      String name = f.substring(0, f.length() - ".class".length()).replace('/', '.');
      int dot = name.lastIndexOf('.');
      if (!PACKAGES.contains(name.substring(0, dot))) {
        continue;
      }
      Class<?> c;
      try {
        c = Class.forName(name, false, loader);
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException(e);
      }
      if (isExposed(c)) {
        types.add(c);
      }
    }
    types.sort((a, b) -> a.getName().compareTo(b.getName()));
    return types;
  }

  private static boolean isExposed(Class<?> c) {
    if (c.isSynthetic() || c.isAnonymousClass() || c.isLocalClass()) {
      return false;
    }
    for (Class<?> t = c; t != null; t = t.getDeclaringClass()) {
      if (!exposed(t.getModifiers())) {
        return false;
      }
    }
    return true;
  }

  private static boolean exposed(int modifiers) {
    return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
  }

  static String render(List<Class<?>> types) {
    StringBuilder out = new StringBuilder();
    for (Class<?> c : types) {
      out.append('\n').append(typeLine(c)).append(" {\n");
      for (String member : members(c)) {
        out.append("  ").append(member).append('\n');
      }
      out.append("}\n");
    }
    return out.toString();
  }

  private static String typeLine(Class<?> c) {
    StringBuilder s = new StringBuilder(annotations(c));
    int mods =
        c.getModifiers()
            & (c.isInterface() ? Modifier.interfaceModifiers() : Modifier.classModifiers());
    if (c.isInterface()) {
      mods &= ~Modifier.ABSTRACT; // every interface is abstract
    }
    if (c.isEnum() || c.isRecord()) {
      mods &= ~(Modifier.FINAL | Modifier.STATIC); // implied by the kind
    }
    if (c.isInterface() && c.getDeclaringClass() != null) {
      mods &= ~Modifier.STATIC; // member interfaces are implicitly static
    }
    s.append(Modifier.toString(mods));
    if (mods != 0) {
      s.append(' ');
    }
    if (c.isSealed()) {
      s.append("sealed ");
    } else if (c.getSuperclass() != null && c.getSuperclass().isSealed()
        || Arrays.stream(c.getInterfaces()).anyMatch(Class::isSealed)) {
      if (!Modifier.isFinal(c.getModifiers())) {
        s.append("non-sealed ");
      }
    }
    s.append(
        c.isAnnotation()
            ? "@interface"
            : c.isInterface()
                ? "interface"
                : c.isEnum() ? "enum" : c.isRecord() ? "record" : "class");
    s.append(' ').append(typeName(c)).append(typeParameters(c.getTypeParameters()));
    Type superclass = c.getGenericSuperclass();
    if (superclass != null
        && superclass != Object.class
        && superclass != Record.class
        && !(c.isEnum() && c.getSuperclass() == Enum.class)) {
      s.append(" extends ").append(type(superclass));
    }
    List<String> interfaces =
        Arrays.stream(c.getGenericInterfaces())
            .map(ApiSignatureTest::type)
            .filter(i -> !(c.isAnnotation() && i.equals("java.lang.annotation.Annotation")))
            .sorted()
            .collect(Collectors.toList());
    if (!interfaces.isEmpty()) {
      s.append(c.isInterface() ? " extends " : " implements ")
          .append(String.join(", ", interfaces));
    }
    if (c.isSealed()) {
      s.append(" permits ")
          .append(
              Arrays.stream(c.getPermittedSubclasses())
                  .map(ApiSignatureTest::typeName)
                  .sorted()
                  .collect(Collectors.joining(", ")));
    }
    return s.toString();
  }

  /**
   * The type's exposed members, one line each: enum constants, record components, fields,
   * constructors, methods.
   */
  private static List<String> members(Class<?> c) {
    List<String> result = new ArrayList<>();
    TreeSet<String> constants = new TreeSet<>();
    TreeMap<String, String> fields =
        new TreeMap<>(); // by name, then line, so overloads sit together
    for (Field f : c.getDeclaredFields()) {
      if (f.isSynthetic() || !exposed(f.getModifiers())) {
        continue;
      }
      if (f.isEnumConstant()) {
        constants.add(annotations(f) + "enum constant " + f.getName());
      } else {
        fields.put(f.getName() + '\0' + field(f), field(f));
      }
    }
    result.addAll(constants);
    if (c.isRecord()) {
      // Components in declaration order: the order is part of the canonical constructor and of the
      // pattern.
      for (RecordComponent rc : c.getRecordComponents()) {
        result.add("record component " + type(rc.getGenericType()) + " " + rc.getName());
      }
    }
    result.addAll(fields.values());
    TreeSet<String> constructors = new TreeSet<>();
    for (Constructor<?> k : c.getDeclaredConstructors()) {
      if (!k.isSynthetic() && exposed(k.getModifiers())) {
        constructors.add(
            executable(
                k,
                Modifier.toString(k.getModifiers() & Modifier.constructorModifiers()),
                typeName(c)));
      }
    }
    result.addAll(constructors);
    TreeMap<String, String> methods = new TreeMap<>();
    for (Method m : c.getDeclaredMethods()) {
      if (m.isSynthetic() || m.isBridge() || !exposed(m.getModifiers())) {
        continue;
      }
      int mods =
          m.getModifiers()
              & Modifier.methodModifiers()
              & ~(Modifier.SYNCHRONIZED
                  | Modifier.NATIVE
                  | Modifier.STRICT); // implementation, not API
      String modifiers = Modifier.toString(mods) + (m.isDefault() ? " default" : "");
      String line = executable(m, modifiers, type(m.getGenericReturnType()) + " " + m.getName());
      methods.put(m.getName() + '\0' + line, line);
    }
    result.addAll(methods.values());
    return result;
  }

  private static String field(Field f) {
    int mods = f.getModifiers() & Modifier.fieldModifiers();
    String s =
        annotations(f)
            + Modifier.toString(mods)
            + " "
            + type(f.getGenericType())
            + " "
            + f.getName();
    if (Modifier.isStatic(mods)
        && Modifier.isFinal(mods)
        && (f.getType().isPrimitive() || f.getType() == String.class)) {
      try {
        f.setAccessible(true);
        s += " = " + constant(f.get(null));
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(f.toString(), e);
      }
    }
    return s;
  }

  private static String constant(Object value) {
    if (value instanceof String) {
      return '"' + escape((String) value) + '"';
    }
    if (value instanceof Character) {
      return "'" + escape(value.toString()) + "'";
    }
    if (value instanceof Long) {
      return value + "L";
    }
    if (value instanceof Float) {
      return value + "f";
    }
    return String.valueOf(value);
  }

  private static String escape(String s) {
    StringBuilder b = new StringBuilder();
    for (char ch : s.toCharArray()) {
      if (ch == '"' || ch == '\\' || ch == '\'') {
        b.append('\\').append(ch);
      } else if (ch < 0x20 || ch > 0x7e) {
        b.append(String.format("\\u%04x", (int) ch));
      } else {
        b.append(ch);
      }
    }
    return b.toString();
  }

  private static String executable(Executable e, String modifiers, String returnAndName) {
    StringBuilder s = new StringBuilder(annotations(e)).append(modifiers);
    if (!modifiers.isEmpty()) {
      s.append(' ');
    }
    String typeParameters = typeParameters(e.getTypeParameters());
    if (!typeParameters.isEmpty()) {
      s.append(typeParameters).append(' ');
    }
    s.append(returnAndName).append('(');
    Type[] parameters = e.getGenericParameterTypes();
    if (parameters.length != e.getParameterCount()) {
      parameters =
          e.getParameterTypes(); // javac omits synthetic parameters from the generic signature
    }
    for (int i = 0; i < parameters.length; i++) {
      if (i > 0) {
        s.append(", ");
      }
      String t = type(parameters[i]);
      if (e.isVarArgs() && i == parameters.length - 1) {
        t = t.substring(0, t.length() - 2) + "...";
      }
      s.append(t);
    }
    s.append(')');
    Type[] exceptions = e.getGenericExceptionTypes();
    if (exceptions.length > 0) {
      s.append(" throws ")
          .append(
              Arrays.stream(exceptions)
                  .map(ApiSignatureTest::type)
                  .sorted()
                  .collect(Collectors.joining(", ")));
    }
    return s.toString();
  }

  /**
   * Runtime-visible annotations by type name ({@code @Deprecated}, {@code @FunctionalInterface},
   * ...), sorted.
   */
  private static String annotations(java.lang.reflect.AnnotatedElement element) {
    return Arrays.stream(element.getDeclaredAnnotations())
        .map(a -> "@" + typeName(a.annotationType()) + " ")
        .sorted()
        .collect(Collectors.joining());
  }

  private static String typeParameters(TypeVariable<?>[] variables) {
    if (variables.length == 0) {
      return "";
    }
    StringBuilder s = new StringBuilder("<");
    for (int i = 0; i < variables.length; i++) {
      if (i > 0) {
        s.append(", ");
      }
      s.append(variables[i].getName());
      List<String> bounds =
          Arrays.stream(variables[i].getBounds())
              .filter(b -> b != Object.class)
              .map(ApiSignatureTest::type)
              .collect(Collectors.toList());
      if (!bounds.isEmpty()) {
        s.append(" extends ").append(String.join(" & ", bounds));
      }
    }
    return s.append('>').toString();
  }

  /** A type as source would write it, fully qualified, nested types with a dot. */
  static String type(Type t) {
    if (t instanceof Class) {
      Class<?> c = (Class<?>) t;
      return c.isArray() ? type(c.getComponentType()) + "[]" : typeName(c);
    }
    if (t instanceof ParameterizedType) {
      ParameterizedType p = (ParameterizedType) t;
      Class<?> raw = (Class<?>) p.getRawType();
      String base =
          p.getOwnerType() instanceof ParameterizedType
              ? type(p.getOwnerType()) + "." + raw.getSimpleName()
              : typeName(raw);
      return base
          + Arrays.stream(p.getActualTypeArguments())
              .map(ApiSignatureTest::type)
              .collect(Collectors.joining(", ", "<", ">"));
    }
    if (t instanceof TypeVariable) {
      return ((TypeVariable<?>) t).getName();
    }
    if (t instanceof WildcardType) {
      WildcardType w = (WildcardType) t;
      if (w.getLowerBounds().length > 0) {
        return "? super " + type(w.getLowerBounds()[0]);
      }
      Type[] upper = w.getUpperBounds();
      return upper.length == 0 || upper[0] == Object.class ? "?" : "? extends " + type(upper[0]);
    }
    if (t instanceof GenericArrayType) {
      return type(((GenericArrayType) t).getGenericComponentType()) + "[]";
    }
    throw new IllegalArgumentException("unknown kind of type: " + t);
  }

  private static String typeName(Class<?> c) {
    if (c.isArray()) {
      return typeName(c.getComponentType()) + "[]";
    }
    String canonical = c.getCanonicalName();
    return canonical != null ? canonical : c.getName();
  }
}
