package io.tributary.history;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The little JSON this package needs, kept strict on purpose: objects (no duplicate keys), arrays,
 * strings and numbers. {@code true}, {@code false} and {@code null} are refused because no format
 * here uses them; nesting is limited so hostile input cannot exhaust the stack.
 *
 * <p>Parsed values are {@code Map<String, Object>} (in file order), {@code List<Object>},
 * {@code String} and {@link Num}, which keeps a number's text exactly as written.
 */
final class Json {

    /** Deeper than any header or history line needs. */
    private static final int MAX_DEPTH = 16;

    private Json() {
    }

    /** A JSON number as written; converting it is the caller's choice. */
    record Num(String text) {

        /** True for an integer without sign, fraction or exponent. */
        boolean isNonNegativeInteger() {
            for (int i = 0; i < text.length(); i++) {
                if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                    return false;
                }
            }
            return true;
        }
    }

    /** The text is not the JSON this package accepts; the message says where and why. */
    static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message);
        }
    }

    /** Parses one JSON value that fills {@code text}, allowing JSON whitespace around it. */
    static Object parse(String text) throws Malformed {
        Parser p = new Parser(text);
        p.skipWhitespace();
        Object value = p.value(0);
        p.skipWhitespace();
        if (p.pos != text.length()) {
            throw p.error("unexpected " + p.describe() + " after the value");
        }
        return value;
    }

    /** Writes {@code s} as a JSON string: escapes quote, backslash and control characters only. */
    static void quote(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** {@code s} as a JSON string literal. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        quote(sb, s);
        return sb.toString();
    }

    /** UTF-8 bytes of {@code s}; refuses unpaired surrogates instead of writing '?'. */
    static byte[] utf8(String s) {
        try {
            ByteBuffer b = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(s));
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("text has an unpaired surrogate and cannot be written as UTF-8: "
                    + quote(s), e);
        }
    }

    /** Decodes UTF-8, refusing malformed bytes; returns null when they are malformed. */
    static String utf8OrNull(byte[] bytes, int offset, int length) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, offset, length))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** A cursor over JSON text; package-private so line readers can walk a fixed layout. */
    static final class Parser {
        private final String text;
        private int pos;

        Parser(String text) {
            this.text = text;
        }

        int pos() {
            return pos;
        }

        boolean atEnd() {
            return pos >= text.length();
        }

        char peek() {
            return text.charAt(pos);
        }

        /** Consumes {@code literal} or fails saying it was expected. */
        void expect(String literal) throws Malformed {
            if (!text.startsWith(literal, pos)) {
                throw error("expected " + literal + " but found " + describe());
            }
            pos += literal.length();
        }

        void skipWhitespace() {
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    return;
                }
                pos++;
            }
        }

        Object value(int depth) throws Malformed {
            if (depth > MAX_DEPTH) {
                throw error("nesting deeper than " + MAX_DEPTH);
            }
            if (atEnd()) {
                throw error("unexpected end of text");
            }
            char c = peek();
            if (c == '{') {
                return object(depth);
            } else if (c == '[') {
                return array(depth);
            } else if (c == '"') {
                return string();
            } else if (c == '-' || (c >= '0' && c <= '9')) {
                return number();
            }
            throw error("unexpected " + describe() + " (only objects, arrays, strings and numbers are used)");
        }

        private Map<String, Object> object(int depth) throws Malformed {
            expect("{");
            Map<String, Object> map = new LinkedHashMap<>();
            skipWhitespace();
            if (!atEnd() && peek() == '}') {
                pos++;
                return map;
            }
            while (true) {
                skipWhitespace();
                if (atEnd() || peek() != '"') {
                    throw error("expected a key in quotes but found " + describe());
                }
                int keyAt = pos;
                String key = string();
                skipWhitespace();
                expect(":");
                skipWhitespace();
                Object v = value(depth + 1);
                if (map.put(key, v) != null) {
                    pos = keyAt;
                    throw error("duplicate key " + quote(key));
                }
                skipWhitespace();
                if (atEnd()) {
                    throw error("unexpected end of text inside an object");
                }
                char c = text.charAt(pos++);
                if (c == '}') {
                    return map;
                }
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or '}' but found " + describe());
                }
            }
        }

        private List<Object> array(int depth) throws Malformed {
            expect("[");
            List<Object> list = new ArrayList<>();
            skipWhitespace();
            if (!atEnd() && peek() == ']') {
                pos++;
                return list;
            }
            while (true) {
                skipWhitespace();
                list.add(value(depth + 1));
                skipWhitespace();
                if (atEnd()) {
                    throw error("unexpected end of text inside an array");
                }
                char c = text.charAt(pos++);
                if (c == ']') {
                    return list;
                }
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or ']' but found " + describe());
                }
            }
        }

        /** A string literal, escapes decoded; raw control characters are refused. */
        String string() throws Malformed {
            expect("\"");
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (atEnd()) {
                    throw error("unterminated string");
                }
                char c = text.charAt(pos++);
                if (c == '"') {
                    return sb.toString();
                }
                if (c < 0x20) {
                    pos--;
                    throw error("raw control character in a string");
                }
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                if (atEnd()) {
                    throw error("unterminated escape");
                }
                char e = text.charAt(pos++);
                switch (e) {
                    case '"' -> sb.append('"');
                    case '\\' -> sb.append('\\');
                    case '/' -> sb.append('/');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> sb.append(hex4());
                    default -> {
                        pos--;
                        throw error("unknown escape \\" + e);
                    }
                }
            }
        }

        private char hex4() throws Malformed {
            if (pos + 4 > text.length()) {
                throw error("truncated \\u escape");
            }
            int v = 0;
            for (int i = 0; i < 4; i++) {
                int d = Character.digit(text.charAt(pos + i), 16);
                if (d < 0) {
                    throw error("bad \\u escape");
                }
                v = v * 16 + d;
            }
            pos += 4;
            return (char) v;
        }

        /** A number token by JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
        Num number() throws Malformed {
            int start = pos;
            if (!atEnd() && peek() == '-') {
                pos++;
            }
            if (atEnd()) {
                throw error("truncated number");
            }
            if (peek() == '0') {
                pos++;
            } else if (peek() >= '1' && peek() <= '9') {
                digits();
            } else {
                throw error("bad number");
            }
            if (!atEnd() && peek() == '.') {
                pos++;
                if (digits() == 0) {
                    throw error("bad number: no digits after '.'");
                }
            }
            if (!atEnd() && (peek() == 'e' || peek() == 'E')) {
                pos++;
                if (!atEnd() && (peek() == '+' || peek() == '-')) {
                    pos++;
                }
                if (digits() == 0) {
                    throw error("bad number: no digits in the exponent");
                }
            }
            return new Num(text.substring(start, pos));
        }

        private int digits() {
            int n = 0;
            while (!atEnd() && peek() >= '0' && peek() <= '9') {
                pos++;
                n++;
            }
            return n;
        }

        String describe() {
            if (atEnd()) {
                return "the end of the text";
            }
            char c = peek();
            return c < 0x20 || c == 0x7f ? String.format("character U+%04X", (int) c) : "'" + c + "'";
        }

        Malformed error(String problem) {
            return new Malformed("at character " + pos + ": " + problem);
        }
    }
}
