package io.vitscope.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The site catalogue: declaration, implicit entry/return sites, lookup by name or source text, and its messages. */
class SiteTest {

    /** A class declaring its sites as static fields, like the model's modules do. */
    static final class Owner {
        static final Site PRE = Site.before(Owner.class, "pre", "y = self.f(x)", "x");
        static final Site POST = Site.after(Owner.class, "post", "y = self.f(x)", "y");
    }

    /** Never touched before Site.of: its sites exist only once its static initializer has run. */
    static final class Lazy {
        static final Site ONLY = Site.before(Lazy.class, "only", "z = g(y)", "y");
    }

    static final class Bare {
    }

    @Test
    void declaredSitesCarryWhatTheyWereGiven() {
        assertEquals("pre", Owner.PRE.name());
        assertEquals(Site.Kind.BEFORE, Owner.PRE.kind());
        assertEquals("y = self.f(x)", Owner.PRE.source());
        assertEquals("x", Owner.PRE.variable());
        assertSame(Owner.class, Owner.PRE.owner());
        assertEquals(Site.Kind.AFTER, Owner.POST.kind());
        assertEquals("y", Owner.POST.variable());
        assertEquals("Owner:pre", Owner.PRE.toString());
    }

    @Test
    void aNameIsDeclaredOncePerClass() {
        assertEquals("pre", Owner.PRE.name()); // runs Owner's static initializer first
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Site.after(Owner.class, "pre", "other", "x"));
        assertEquals("Site 'pre' is declared twice on " + Owner.class.getName(), e.getMessage());
    }

    @Test
    void implicitEntryAndReturn() {
        Site entry = Site.entry(Bare.class);
        assertEquals(Site.Kind.ENTRY, entry.kind());
        assertEquals("entry", entry.name());
        assertNull(entry.variable());
        assertNull(entry.source());
        Site ret = Site.ret(Bare.class);
        assertEquals(Site.Kind.RETURN, ret.kind());
        assertEquals("return", ret.name());
        assertEquals("return", ret.variable());
        assertSame(entry, Site.entry(Bare.class), "one entry site per class");
        assertSame(ret, Site.ret(Bare.class));
        assertEquals(List.of(entry, ret), Site.of(Bare.class));
    }

    @Test
    void ofRunsTheStaticInitializerFirst() {
        List<Site> sites = Site.of(Lazy.class);
        assertEquals(List.of("entry", "only", "return"), sites.stream().map(Site::name).toList());
    }

    @Test
    void findByNameOrSource() {
        assertSame(Owner.PRE, Site.find(Owner.class, "pre"));
        assertSame(Owner.POST, Site.find(Owner.class, " post "));
        assertSame(Owner.PRE, Site.find(Owner.class, "y=self.f( x )"), "source text, whitespace ignored: the before site");
        assertSame(Site.entry(Owner.class), Site.find(Owner.class, "entry"));
        assertSame(Site.ret(Owner.class), Site.find(Owner.class, "return"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Site.find(Owner.class, "nope"));
        assertEquals("No site 'nope' in Owner. Valid sites: entry, pre (before 'y = self.f(x)'), "
                + "post (after 'y = self.f(x)'), return", e.getMessage());
    }

    @Test
    void describeListsInOrder() {
        assertEquals("entry, return", Site.describe(Site.of(Bare.class)));
        assertEquals("", Site.describe(List.of()));
    }
}
