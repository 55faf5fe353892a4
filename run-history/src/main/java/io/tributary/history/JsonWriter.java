package io.tributary.history;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;

/**
 * The one way Tributary writes a JSON document ({@code credits.json}, chaos {@code results.json}):
 * objects and arrays nest with two-space indentation, strings are escaped as the history's own
 * files escape them, numbers are finite (a NaN or infinity is written as {@code null}), booleans
 * are JSON booleans. Misuse (a value where a name is due, an unclosed object) fails at once.
 *
 * <pre>{@code
 * String json = new JsonWriter().beginObject().name("run").value(7).name("ok").value(true).endObject().toString();
 * }</pre>
 */
public final class JsonWriter {

    private enum Scope { OBJECT_NAME, OBJECT_VALUE, ARRAY }

    private final StringBuilder out = new StringBuilder();
    private final Deque<Scope> scopes = new ArrayDeque<>();
    private final Deque<Boolean> empty = new ArrayDeque<>();
    private boolean done;

    public JsonWriter beginObject() {
        beforeValue();
        out.append('{');
        scopes.push(Scope.OBJECT_NAME);
        empty.push(true);
        return this;
    }

    public JsonWriter endObject() {
        if (scopes.peek() != Scope.OBJECT_NAME) {
            throw new IllegalStateException("endObject outside an object, or after a name without its value");
        }
        return close('}');
    }

    public JsonWriter beginArray() {
        beforeValue();
        out.append('[');
        scopes.push(Scope.ARRAY);
        empty.push(true);
        return this;
    }

    public JsonWriter endArray() {
        if (scopes.peek() != Scope.ARRAY) {
            throw new IllegalStateException("endArray outside an array");
        }
        return close(']');
    }

    /** The name of the next member of the object being written. */
    public JsonWriter name(String name) {
        if (scopes.peek() != Scope.OBJECT_NAME) {
            throw new IllegalStateException("name '" + name + "' outside an object, or where a value is due");
        }
        separate();
        Json.quote(out, name);
        out.append(": ");
        scopes.pop();
        scopes.push(Scope.OBJECT_VALUE);
        return this;
    }

    public JsonWriter value(String s) {
        beforeValue();
        if (s == null) {
            out.append("null");
        } else {
            Json.quote(out, s);
        }
        return this;
    }

    public JsonWriter value(long n) {
        beforeValue();
        out.append(n);
        return this;
    }

    /** A number with up to {@code decimals} digits after the point (trailing zeros kept); NaN and infinities as null. */
    public JsonWriter value(double x, int decimals) {
        beforeValue();
        if (Double.isFinite(x)) {
            out.append(String.format(Locale.ROOT, "%." + decimals + "f", x));
        } else {
            out.append("null");
        }
        return this;
    }

    public JsonWriter value(boolean b) {
        beforeValue();
        out.append(b);
        return this;
    }

    /** The document, ending in a newline; every object and array must be closed. */
    @Override
    public String toString() {
        if (!scopes.isEmpty() || !done) {
            throw new IllegalStateException("the JSON document is not complete: " + scopes.size() + " open object(s)"
                    + " or array(s)");
        }
        return out + "\n";
    }

    private void beforeValue() {
        if (done) {
            throw new IllegalStateException("a JSON document has one top-level value");
        }
        Scope s = scopes.peek();
        if (s == Scope.OBJECT_NAME) {
            throw new IllegalStateException("a value inside an object needs a name first");
        }
        if (s == Scope.ARRAY) {
            separate();
        } else if (s == Scope.OBJECT_VALUE) {
            scopes.pop();
            scopes.push(Scope.OBJECT_NAME);
        }
        if (s == null && out.length() > 0) {
            throw new IllegalStateException("a JSON document has one top-level value");
        }
    }

    private void separate() {
        boolean first = empty.pop();
        empty.push(false);
        out.append(first ? "" : ",").append('\n');
        indent(scopes.size());
    }

    private JsonWriter close(char c) {
        scopes.pop();
        boolean wasEmpty = empty.pop();
        if (!wasEmpty) {
            out.append('\n');
            indent(scopes.size());
        }
        out.append(c);
        if (scopes.isEmpty()) {
            done = true;
        }
        return this;
    }

    private void indent(int depth) {
        for (int i = 0; i < depth; i++) {
            out.append("  ");
        }
    }
}
