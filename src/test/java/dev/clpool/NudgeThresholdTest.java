package dev.clpool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** When the host memory pool nudges the collector, and how that moves with the collections' cost. */
class NudgeThresholdTest {
    private static final long MS = 1_000_000;
    private static final long MIB = 1 << 20;

    @Test
    void comesLater_whileCollectionsTakeALargeShareOfTheTime_andSoonerAgainWhenTheyDoNot() {
        NudgeThreshold t = new NudgeThreshold(1L << 30);
        assertEquals(NudgeThreshold.NUDGE_BYTES, t.limit());
        t.collected(1_000 * MS, 15 * MS); // the first: nothing to compare with
        assertEquals(256 * MIB, t.limit());
        t.collected(1_060 * MS, 15 * MS); // 15 of 60 ms collecting
        assertEquals(512 * MIB, t.limit());
        t.collected(1_150 * MS, 15 * MS);
        assertEquals(1024 * MIB, t.limit());
        t.collected(1_240 * MS, 15 * MS);
        assertEquals(1024 * MIB, t.limit(), "never past the bound");
        t.collected(1_340 * MS, 5 * MS); // 5 of 100 ms: within the share
        assertEquals(1024 * MIB, t.limit());
        t.collected(3_340 * MS, 15 * MS); // 15 of 2000 ms: collections are rare again
        assertEquals(512 * MIB, t.limit());
        t.collected(30_000 * MS, 15 * MS);
        t.collected(60_000 * MS, 15 * MS);
        assertEquals(256 * MIB, t.limit(), "never under where it began");
    }

    @Test
    void aBoundUnderTheFirstThreshold_capsItFromTheStart() {
        NudgeThreshold t = new NudgeThreshold(100 * MIB);
        assertEquals(100 * MIB, t.at(1));
        t.collected(0, 15 * MS);
        t.collected(20 * MS, 15 * MS);
        assertEquals(100 * MIB, t.limit());
    }

    @Test
    void largeClasses_nudgeOnlyWithRoomForFourBlocks_withinHalfTheBound() {
        NudgeThreshold t = new NudgeThreshold(1L << 30);
        assertEquals(256 * MIB, t.at((int) MIB));
        assertEquals(400 * MIB, t.at((int) (100 * MIB)));
        assertEquals(512 * MIB, t.at((int) (200 * MIB)));
    }
}
