package dev.clpool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BackendOptionsTest {
    @Test
    void deviceNumbers_oneOrSeveral() {
        assertArrayEquals(new int[] {0}, BackendOptions.deviceNumbers("0"));
        assertArrayEquals(new int[] {1, 0, 3}, BackendOptions.deviceNumbers("1,0,3"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "2,", ",2", "1,,2", "-1", "0,0", "a", "1 2", "99999999999", "0x1"})
    void deviceNumbers_refusesWithTheFlagNamed(String text) {
        CliException e = assertThrows(CliException.class, () -> BackendOptions.deviceNumbers(text));
        assertTrue(e.getMessage().startsWith("--device " + text + ": "), e.getMessage());
    }
}
