package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@link Axis#tiles()}: the rule both one-pass channels-first backward kernels take their axes by. */
class AxisTest {
    @Test
    void tiles_onlyWindowsThatCoverEveryPositionOnce() {
        assertTrue(new Axis(8, 4, 2, 2, 1, 0, 0).tiles());
        assertTrue(new Axis(7, 7, 1, 1, 1, 0, 0).tiles(), "a window of one");
        assertFalse(new Axis(9, 4, 2, 2, 1, 0, 0).tiles(), "a last position no window reaches");
        assertFalse(new Axis(8, 3, 3, 2, 1, 0, 0).tiles(), "stride below the window: overlap");
        assertFalse(new Axis(8, 4, 2, 2, 2, 0, 0).tiles(), "dilation");
        assertFalse(new Axis(6, 4, 2, 2, 1, 1, 1).tiles(), "padding");
    }
}
