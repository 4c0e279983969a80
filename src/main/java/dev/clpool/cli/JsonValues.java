package dev.clpool.cli;

import com.google.gson.JsonArray;
import dev.clpool.Shape;

/** JSON forms of clpool values shared by the commands that print JSON. */
final class JsonValues {
    private JsonValues() {
    }

    /** A shape as {@code [N, H, W, C]}. */
    static JsonArray shape(Shape s) {
        JsonArray a = new JsonArray();
        a.add(s.n());
        a.add(s.h());
        a.add(s.w());
        a.add(s.c());
        return a;
    }
}
