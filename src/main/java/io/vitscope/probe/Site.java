package io.vitscope.probe;

import io.vitscope.InvalidArgumentException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A named statement of a module's forward where breakpoints stop, like a line number in NoPdb.
 *
 * <p>Every probed class has an {@code entry} site (after the arguments are bound) and a {@code return} site (before
 * the value is returned). Classes declare their other sites as static fields through {@link #before} and
 * {@link #after}; that declaration list is the catalogue of what can be stopped at, so site names are never typed
 * twice. A "before" site can also be addressed by the source text of the statement it precedes, as timm writes it
 * ({@code attn = attn.softmax(dim=-1)}) — what NoPdb's {@code line=} takes.
 *
 * <p>At each site one local is writable (its {@link #variable()}): the value the following statement reads.
 */
public final class Site {

    /** Where the site stands relative to its statement. */
    public enum Kind { ENTRY, BEFORE, AFTER, RETURN }

    private static final Map<Class<?>, Map<String, Site>> DECLARED = new ConcurrentHashMap<>();

    private final Class<?> owner;
    private final String name;
    private final String source;
    private final Kind kind;
    private final String variable;

    private Site(Class<?> owner, String name, String source, Kind kind, String variable) {
        this.owner = owner;
        this.name = name;
        this.source = source;
        this.kind = kind;
        this.variable = variable;
    }

    /** Declares the site just before {@code source} runs; {@code variable} is the local that statement reads. */
    public static Site before(Class<?> owner, String name, String source, String variable) {
        return declare(new Site(owner, name, source, Kind.BEFORE, variable));
    }

    /** Declares the site just after {@code source} ran; {@code variable} is the local it assigned. */
    public static Site after(Class<?> owner, String name, String source, String variable) {
        return declare(new Site(owner, name, source, Kind.AFTER, variable));
    }

    private static Site declare(Site site) {
        Map<String, Site> sites = DECLARED.computeIfAbsent(site.owner, c -> Collections.synchronizedMap(new LinkedHashMap<>()));
        if (sites.putIfAbsent(site.name, site) != null) {
            throw new IllegalStateException("Site '" + site.name + "' is declared twice on " + site.owner.getName());
        }
        return site;
    }

    /** The entry site of a class: arguments bound, nothing run yet. Its variable is the first argument. */
    public static Site entry(Class<?> owner) {
        return implicit(owner, "entry");
    }

    /** The return site of a class: the return value computed, not yet returned. Its variable is {@code return}. */
    public static Site ret(Class<?> owner) {
        return implicit(owner, "return");
    }

    private static final Map<Class<?>, Site[]> IMPLICIT = new ConcurrentHashMap<>();

    private static Site implicit(Class<?> owner, String which) {
        Site[] pair = IMPLICIT.computeIfAbsent(owner, c -> new Site[] {
            new Site(c, "entry", null, Kind.ENTRY, null),
            new Site(c, "return", null, Kind.RETURN, "return")});
        return which.equals("entry") ? pair[0] : pair[1];
    }

    /** Every site of a class in execution order: entry, its declared sites, return. */
    public static List<Site> of(Class<?> owner) {
        initialize(owner);
        List<Site> all = new ArrayList<>();
        all.add(entry(owner));
        Map<String, Site> declared = DECLARED.get(owner);
        if (declared != null) {
            synchronized (declared) {
                all.addAll(declared.values());
            }
        }
        all.add(ret(owner));
        return all;
    }

    /**
     * The site of {@code owner} called {@code nameOrSource}: a site name ({@code pre_softmax}, {@code entry},
     * {@code return}) or the source text of a statement (the site just before it).
     *
     * @throws IllegalArgumentException listing the valid sites when nothing matches
     */
    public static Site find(Class<?> owner, String nameOrSource) {
        if (nameOrSource == null) {
            throw new IllegalArgumentException("No site given (null). Valid sites: " + describe(of(owner)));
        }
        String wanted = normalize(nameOrSource);
        List<Site> sites = of(owner);
        for (Site s : sites) {
            if (s.name.equals(nameOrSource.trim())) {
                return s;
            }
        }
        for (Site s : sites) {
            if (s.kind == Kind.BEFORE && s.source != null && normalize(s.source).equals(wanted)) {
                return s;
            }
        }
        throw new InvalidArgumentException("No site '" + nameOrSource + "' in " + owner.getSimpleName()
                + ". Valid sites: " + describe(sites));
    }

    static String describe(List<Site> sites) {
        StringBuilder sb = new StringBuilder();
        for (Site s : sites) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(s.name);
            if (s.source != null) {
                sb.append(" (").append(s.kind == Kind.BEFORE ? "before" : "after").append(" '").append(s.source).append("')");
            }
        }
        return sb.toString();
    }

    private static String normalize(String source) {
        return source.replaceAll("\\s+", "");
    }

    private static void initialize(Class<?> owner) {
        try {
            // Sites are static fields: make sure the class's static initializer has declared them.
            Class.forName(owner.getName(), true, owner.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
    }

    public Class<?> owner() {
        return owner;
    }

    public String name() {
        return name;
    }

    /** The statement's source text in timm, or null for entry and return. */
    public String source() {
        return source;
    }

    public Kind kind() {
        return kind;
    }

    /** The local a breakpoint action may replace here; null at entry, where every argument may be replaced. */
    public String variable() {
        return variable;
    }

    @Override
    public String toString() {
        return owner.getSimpleName() + ":" + name;
    }
}
