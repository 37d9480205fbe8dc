package io.vitscope.probe;

import io.vitscope.InvalidArgumentException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a capture or breakpoint applies to, resolved against a module tree: one module (by path or object), every
 * module of a class, or a path pattern. Resolution fails at once when nothing matches, naming what would.
 */
final class Target {

    private final String description;
    private final Set<Probed> modules;      // the matched modules, by identity; null = any module of the classes
    private final Set<Class<?>> classes;    // classes of the matched modules

    private Target(String description, Set<Probed> modules, Set<Class<?>> classes) {
        this.description = description;
        this.modules = modules;
        this.classes = classes;
    }

    boolean matches(Probed module) {
        return modules != null ? modules.contains(module) : classes.contains(module.getClass());
    }

    Set<Class<?>> classes() {
        return classes;
    }

    @Override
    public String toString() {
        return description;
    }

    /** Every module of the tree, depth first, in registration order. */
    static List<Probed> walk(Probed root) {
        List<Probed> out = new ArrayList<>();
        walk(root, out);
        return out;
    }

    private static void walk(Probed m, List<Probed> out) {
        out.add(m);
        for (Probed c : m.probedChildren()) {
            walk(c, out);
        }
    }

    /** How the root module is named in paths and listings: its own path is empty. */
    static final String ROOT = "(root)";

    static Target module(Probed root, Probed module) {
        if (module == null) {
            throw new IllegalArgumentException("No module given (null)");
        }
        if (root != null && walk(root).stream().noneMatch(m -> m == module)) {
            throw new InvalidArgumentException("Module '" + module.path() + "' (" + module.getClass().getSimpleName()
                    + ") does not belong to the model this probe is on");
        }
        return of("'" + module.path() + "'", List.of(module));
    }

    static Target type(Probed root, Class<?> type) {
        if (type == null) {
            throw new IllegalArgumentException("No module class given (null)");
        }
        if (root == null) {
            return new Target("every " + type.getSimpleName(), null, Set.of(type));
        }
        List<Probed> matched = walk(root).stream().filter(m -> type.isInstance(m) && m.getClass() == type).toList();
        if (matched.isEmpty()) {
            Set<String> names = new LinkedHashSet<>();
            walk(root).forEach(m -> names.add(m.getClass().getSimpleName()));
            throw new InvalidArgumentException("No module of class " + type.getSimpleName() + " in this model. Classes: "
                    + String.join(", ", names));
        }
        return of("every " + type.getSimpleName(), matched);
    }

    /** Whether a target string is a pattern (it has {@code *} or {@code [...]}) rather than one module's path. */
    static boolean isPattern(String pathOrPattern) {
        return pathOrPattern.contains("*") || pathOrPattern.contains("[");
    }

    /**
     * A path ({@code blocks.4.attn}) or a pattern: {@code *} stands for any characters within one path segment,
     * {@code [a-b]} for a number from a to b, {@code [a,b,c]} for one of those numbers; {@code **} for any run of
     * segments.
     */
    static Target path(Probed root, String pathOrPattern) {
        if (root == null) {
            throw new IllegalArgumentException("A path target needs a probe on a model: use Probe.on(model)");
        }
        List<Probed> all = walk(root);
        if (pathOrPattern == null) {
            throw new IllegalArgumentException("No module path given (null). Valid paths: " + catalogue(all));
        }
        String trimmed = pathOrPattern.trim();
        // The catalogue lists the root under this name, so it must be accepted.
        String p = trimmed.equals(ROOT) ? "" : trimmed;
        boolean isPattern = isPattern(p);
        List<Probed> matched;
        if (isPattern) {
            Pattern regex = compile(p);
            matched = all.stream().filter(m -> regex.matcher(m.path()).matches()).toList();
        } else {
            matched = all.stream().filter(m -> m.path().equals(p)).toList();
        }
        if (matched.isEmpty()) {
            throw new InvalidArgumentException((isPattern ? "Pattern '" : "No module at path '") + p
                    + (isPattern ? "' matches no module" : "'") + ". Valid paths: " + catalogue(all));
        }
        return of(isPattern ? "pattern '" + p + "'" : "'" + (p.isEmpty() ? ROOT : p) + "'", matched);
    }

    private static Target of(String description, List<Probed> matched) {
        Set<Probed> set = Collections.newSetFromMap(new IdentityHashMap<>());
        Set<Class<?>> classes = new LinkedHashSet<>();
        for (Probed m : matched) {
            set.add(m);
            classes.add(m.getClass());
        }
        return new Target(description, set, classes);
    }

    private static final Pattern RANGE = Pattern.compile("\\[(\\d+)-(\\d+)]|\\[(\\d+(?:,\\d+)*)]");

    static Pattern compile(String pattern) {
        StringBuilder re = new StringBuilder();
        int i = 0;
        while (i < pattern.length()) {
            char ch = pattern.charAt(i);
            if (ch == '*') {
                if (i + 1 < pattern.length() && pattern.charAt(i + 1) == '*') {
                    re.append(".*");
                    i += 2;
                } else {
                    re.append("[^.]*");
                    i++;
                }
            } else if (ch == '[') {
                Matcher m = RANGE.matcher(pattern);
                if (!m.find(i) || m.start() != i) {
                    throw new InvalidArgumentException("Bad pattern '" + pattern + "' at position " + i
                            + ": use [a-b] for a range of numbers or [a,b,c] for a set");
                }
                List<String> alternatives = new ArrayList<>();
                if (m.group(1) != null) {
                    int lo = Integer.parseInt(m.group(1));
                    int hi = Integer.parseInt(m.group(2));
                    if (hi < lo || hi - lo > 10_000) {
                        throw new InvalidArgumentException("Bad range [" + lo + "-" + hi + "] in pattern '" + pattern + "'");
                    }
                    for (int k = lo; k <= hi; k++) {
                        alternatives.add(Integer.toString(k));
                    }
                } else {
                    for (String n : m.group(3).split(",")) {
                        alternatives.add(Integer.toString(Integer.parseInt(n)));
                    }
                }
                re.append("(?:").append(String.join("|", alternatives)).append(")");
                i = m.end();
            } else {
                re.append(Pattern.quote(String.valueOf(ch)));
                i++;
            }
        }
        return Pattern.compile(re.toString());
    }

    /** Paths with numeric segments folded ({@code blocks.N.attn (N = 0..11)}), so the list stays readable. */
    static String catalogue(List<Probed> modules) {
        Map<String, TreeMap<Integer, Boolean>> folded = new java.util.LinkedHashMap<>();
        for (Probed m : modules) {
            String path = m.path().isEmpty() ? ROOT : m.path();
            Matcher num = Pattern.compile("(^|\\.)(\\d+)(\\.|$)").matcher(path);
            if (num.find()) {
                String key = path.substring(0, num.start(2)) + "N" + path.substring(num.end(2));
                folded.computeIfAbsent(key, k -> new TreeMap<>()).put(Integer.parseInt(num.group(2)), true);
            } else {
                folded.putIfAbsent(path, null);
            }
        }
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, TreeMap<Integer, Boolean>> e : folded.entrySet()) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(e.getKey());
            if (e.getValue() != null) {
                sb.append(" (N = ").append(e.getValue().firstKey()).append("..").append(e.getValue().lastKey()).append(")");
            }
        }
        return sb.toString();
    }
}
