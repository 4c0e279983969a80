package dev.clpool.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.clpool.Shape;
import org.junit.jupiter.api.Test;

/**
 * The tasks of the channels-last adaptive lane paths ({@link AdaptiveAvgRows#rowsPerTask}, a ring
 * per task, {@link AcrossRing}): where an item is small, a task takes whole items, so that no input
 * row is staged and reduced twice in one call.
 */
class AcrossRingTest {

    @Test
    void vggHead_eachInputRowReducedOnce() {
        // VGG-16's head, 8×10×10×512 to 7×7: tasks of 4 output rows reduced 92 rows for 80.
        assertEquals(8 * 10, reductions(new Shape(8, 10, 10, 512), new Shape(8, 7, 7, 512)));
    }

    @Test
    void sppNetLevel_eachInputRowReducedOnce() {
        assertEquals(32 * 13, reductions(new Shape(32, 13, 13, 256), new Shape(32, 6, 6, 256)));
    }

    @Test
    void largeItemsOrFewItems_keepTasksOfRows() {
        // An item of 56×56×512 is more than a task's work: tasks of a few output rows, as before.
        assertEquals(1, AdaptiveAvgRows.rowsPerTask(new Shape(8, 56, 56, 512), new Shape(8, 7, 7, 512)));
        // Two items: tasks of rows, so that two threads still get several parts.
        assertEquals(4, AdaptiveAvgRows.rowsPerTask(new Shape(2, 10, 10, 512), new Shape(2, 7, 7, 512)));
        // Small items: several whole items a task.
        assertEquals(3 * 4, AdaptiveAvgRows.rowsPerTask(new Shape(16, 8, 8, 128), new Shape(16, 3, 3, 128)));
    }

    /** Row reductions of one call, the tasks run one after another as the lane paths run them. */
    private static int reductions(Shape is, Shape os) {
        int[] y0 = new int[os.h()];
        int[] y1 = new int[os.h()];
        for (int oy = 0; oy < os.h(); oy++) {
            y0[oy] = (int) ((long) oy * is.h() / os.h());
            y1[oy] = (int) (((long) (oy + 1) * is.h() + os.h() - 1) / os.h());
        }
        int tallest = AdaptiveAvgRows.tallest(y0, y1);
        int rows = os.n() * os.h();
        int group = AdaptiveAvgRows.rowsPerTask(is, os);
        int[] count = new int[1];
        for (int from = 0; from < rows; from += group) {
            AcrossRing ring = new AcrossRing(Scratch.get(), tallest, 1, is.h());
            for (int r = from; r < Math.min(rows, from + group); r++) {
                int oy = r % os.h();
                ring.rows(r / os.h(), y0[oy], y1[oy], (n, y, at) -> count[0]++);
            }
        }
        return count[0];
    }
}
