package io.vitscope.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Target resolution on a small module tree of the shape timm's named_modules() gives a ViT:
 * {@code (root)}, {@code blocks.0..2}, {@code blocks.N.attn}, {@code head}. The tree is plain data (paths and
 * children); Target reads nothing else from a module.
 */
class TargetTest {

    /** A tree node: the only two things the probe layer reads from a module. */
    private static class Node implements Probed {
        private final String path;
        private final List<Probed> children;

        Node(String path, Probed... children) {
            this.path = path;
            this.children = List.of(children);
        }

        @Override
        public String path() {
            return path;
        }

        @Override
        public List<? extends Probed> probedChildren() {
            return children;
        }
    }

    private static final class Attn extends Node {
        Attn(String path) {
            super(path);
        }
    }

    private static final class Head extends Node {
        Head(String path) {
            super(path);
        }
    }

    private static final class Unused extends Node {
        Unused(String path) {
            super(path);
        }
    }

    private final Attn attn0 = new Attn("blocks.0.attn");
    private final Attn attn1 = new Attn("blocks.1.attn");
    private final Attn attn2 = new Attn("blocks.2.attn");
    private final Node block1 = new Node("blocks.1", attn1);
    private final Head head = new Head("head");
    private final Node root = new Node("", new Node("blocks", new Node("blocks.0", attn0), block1,
            new Node("blocks.2", attn2)), head);

    @Test
    void walkIsDepthFirstInRegistrationOrder() {
        List<String> paths = Target.walk(root).stream().map(Probed::path).toList();
        assertEquals(List.of("", "blocks", "blocks.0", "blocks.0.attn", "blocks.1", "blocks.1.attn", "blocks.2",
                "blocks.2.attn", "head"), paths);
    }

    @Test
    void oneModule() {
        Target t = Target.module(root, attn1);
        assertEquals("'blocks.1.attn'", t.toString());
        assertTrue(t.matches(attn1));
        assertFalse(t.matches(attn0), "same class, other instance");
        assertEquals(Set.of(Attn.class), t.classes());
        Target free = Target.module(null, head);
        assertTrue(free.matches(head));
        Attn stranger = new Attn("blocks.1.attn");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Target.module(root, stranger));
        assertEquals("Module 'blocks.1.attn' (Attn) does not belong to the model this probe is on", e.getMessage());
    }

    @Test
    void everyModuleOfAClass() {
        Target t = Target.type(root, Attn.class);
        assertEquals("every Attn", t.toString());
        assertTrue(t.matches(attn0) && t.matches(attn1) && t.matches(attn2));
        assertFalse(t.matches(head));
        assertFalse(t.matches(new Attn("elsewhere")), "resolved against the tree: a module outside it is not matched");
        assertEquals(Set.of(Attn.class), t.classes());
        Target unresolved = Target.type(null, Attn.class);
        assertEquals("every Attn", unresolved.toString());
        assertTrue(unresolved.matches(new Attn("anywhere")), "without a model, any instance of the class");
        assertFalse(unresolved.matches(head));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Target.type(root, Unused.class));
        assertEquals("No module of class Unused in this model. Classes: Node, Attn, Head", e.getMessage());
    }

    @Test
    void exactPath() {
        Target t = Target.path(root, " blocks.1 ");
        assertEquals("'blocks.1'", t.toString());
        assertTrue(t.matches(block1));
        assertFalse(t.matches(attn1));
        assertEquals(Set.of(Node.class), t.classes());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Target.path(root, "blocks.7"));
        assertEquals("No module at path 'blocks.7'. Valid paths: (root), blocks, blocks.N (N = 0..2), "
                + "blocks.N.attn (N = 0..2), head", e.getMessage());
        assertEquals("A path target needs a probe on a model: use Probe.on(model)",
                assertThrows(IllegalArgumentException.class, () -> Target.path(null, "head")).getMessage());
    }

    @Test
    void patterns() {
        Target star = Target.path(root, "blocks.*.attn");
        assertEquals("pattern 'blocks.*.attn'", star.toString());
        assertTrue(star.matches(attn0) && star.matches(attn1) && star.matches(attn2));
        assertFalse(star.matches(block1));
        // '*' stays within a segment, '**' crosses segments
        assertThrows(IllegalArgumentException.class, () -> Target.path(root, "*.attn"));
        Target deep = Target.path(root, "**.attn");
        assertTrue(deep.matches(attn2));
        assertFalse(deep.matches(head));
        Target range = Target.path(root, "blocks.[1-2].attn");
        assertFalse(range.matches(attn0));
        assertTrue(range.matches(attn1) && range.matches(attn2));
        Target single = Target.path(root, "blocks.[2-2].attn");
        assertTrue(single.matches(attn2));
        assertFalse(single.matches(attn1));
        Target set = Target.path(root, "blocks.[0,2].attn");
        assertTrue(set.matches(attn0) && set.matches(attn2));
        assertFalse(set.matches(attn1));
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> Target.path(root, "blocks.*.mlp"));
        assertEquals("Pattern 'blocks.*.mlp' matches no module. Valid paths: (root), blocks, blocks.N (N = 0..2), "
                + "blocks.N.attn (N = 0..2), head", none.getMessage());
    }

    @Test
    void patternSyntax() {
        assertTrue(Target.compile("a.*").matcher("a.b").matches());
        assertFalse(Target.compile("a.*").matcher("a.b.c").matches());
        assertTrue(Target.compile("a.**").matcher("a.b.c").matches());
        assertTrue(Target.compile("a*").matcher("a").matches());
        assertFalse(Target.compile("a.b").matcher("aXb").matches(), "a dot is literal");
        assertTrue(Target.compile("[0-10000]").matcher("10000").matches());
        assertTrue(Target.compile("[5000-12000]").matcher("12000").matches(), "the limit is on the width, not the bounds");
        assertTrue(Target.compile("[007]").matcher("7").matches(), "numbers, not digit strings");
        assertEquals("Bad range [3-2] in pattern 'b.[3-2]'",
                assertThrows(IllegalArgumentException.class, () -> Target.compile("b.[3-2]")).getMessage());
        assertEquals("Bad range [0-10001] in pattern '[0-10001]'",
                assertThrows(IllegalArgumentException.class, () -> Target.compile("[0-10001]")).getMessage());
        assertEquals("Bad pattern 'b.[x]' at position 2: use [a-b] for a range of numbers or [a,b,c] for a set",
                assertThrows(IllegalArgumentException.class, () -> Target.compile("b.[x]")).getMessage());
    }

    @Test
    void catalogueFoldsNumbers() {
        assertEquals("(root), blocks, blocks.N (N = 0..2), blocks.N.attn (N = 0..2), head", Target.catalogue(Target.walk(root)));
        assertEquals("head", Target.catalogue(List.of(head)));
        assertEquals("", Target.catalogue(List.of()));
    }
}
