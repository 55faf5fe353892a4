package io.tributary.history;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonWriterTest {

    @Test
    void writesNestedObjectsAndArraysIndented() {
        String json = new JsonWriter().beginObject()
                .name("run").value(7)
                .name("ok").value(true)
                .name("loss").value(0.12345, 3)
                .name("trainers").beginArray()
                .beginObject().name("node").value("a\"b\\c\n").endObject()
                .value(Double.NaN, 2)
                .endArray()
                .name("empty").beginArray().endArray()
                .endObject().toString();
        String expected = "{\n"
                + "  \"run\": 7,\n"
                + "  \"ok\": true,\n"
                + "  \"loss\": 0.123,\n"
                + "  \"trainers\": [\n"
                + "    {\n"
                + "      \"node\": \"a\\\"b\\\\c\\n\"\n"
                + "    },\n"
                + "    null\n"
                + "  ],\n"
                + "  \"empty\": []\n"
                + "}\n";
        assertEquals(expected, json);
    }

    @Test
    void whatItWritesParsesBackToTheSameValues() throws Exception {
        // the history's own strict parser (it has no booleans: none is used there)
        String json = new JsonWriter().beginObject().name("s").value("tab\there é").name("n").value(-3)
                .name("a").beginArray().value(1).value(2).endArray().endObject().toString();
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) Json.parse(json);
        assertEquals("tab\there é", m.get("s"));
        assertEquals(2, ((List<?>) m.get("a")).size());
    }

    @Test
    void misuseFailsAtOnce() {
        assertThrows(IllegalStateException.class, () -> new JsonWriter().beginObject().value(1));
        assertThrows(IllegalStateException.class, () -> new JsonWriter().beginArray().name("x"));
        assertThrows(IllegalStateException.class, () -> new JsonWriter().beginObject().toString());
        assertThrows(IllegalStateException.class, () -> new JsonWriter().beginObject().name("x").endObject());
        assertThrows(IllegalStateException.class, () -> new JsonWriter().value(1).value(2));
    }
}
