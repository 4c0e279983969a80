package dev.clpool.explain;

import java.util.List;

/**
 * One window on one axis, as input positions: tap {@code j} of output {@code index} sits at
 * {@code start + j*dilation}; positions below 0 or at/after the input size lie in the padding
 * (or, for a ceil-mode window, past the end padding).
 *
 * @param index             the output position (0 for the first window, out-1 for the last)
 * @param start             input position of tap 0 (negative inside the leading padding)
 * @param end               input position of the last tap, {@code start + (window-1)*dilation}
 * @param taps              every tap's input position, in order
 * @param inputElements     taps inside the input, {@code [0, in)}
 * @param tapsInPadding     taps in the leading or trailing padding
 * @param tapsBeyondPadding taps past the end padding (only a ceil-mode last window has them)
 * @param divisorFactor     this axis's factor of an average's divisor under the spec's
 *                          {@code count_include_pad} rule (the divisor is the rows factor times the columns factor)
 */
public record WindowSpan(int index, long start, long end, List<Long> taps, int inputElements, int tapsInPadding,
        int tapsBeyondPadding, int divisorFactor) {

    public WindowSpan {
        taps = List.copyOf(taps);
    }
}
