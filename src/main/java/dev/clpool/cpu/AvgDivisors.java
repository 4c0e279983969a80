package dev.clpool.cpu;

/**
 * {@link AvgWindows}' divisors and certificate factors ({@link AvgWindows#boundPerB}) for its
 * Vector API lanes, formed once per call rather than per output row: output rows whose windows have
 * the same number of rows and the same row factor of the divisor (all interior rows, and a few at
 * each border) share a class, and output (oy, ox) reads entry {@link #at}{@code (oy) + ox}.
 */
final class AvgDivisors {
    final float[] divisor;
    final float[] perB;
    private final int[] rowClass;
    private final int ow;

    AvgDivisors(AvgWindows avg, WindowPlan p) {
        int oh = p.out.h();
        ow = p.out.w();
        rowClass = new int[oh];
        int[] first = new int[oh];
        int classes = 0;
        for (int oy = 0; oy < oh; oy++) {
            // The same rows of taps, and the same divisor in column 0, so the same row factor.
            int k = 0;
            while (k < classes && !(p.rowEnd[oy] - p.rowFirst[oy] == p.rowEnd[first[k]] - p.rowFirst[first[k]]
                    && avg.divisor(oy, 0) == avg.divisor(first[k], 0))) {
                k++;
            }
            if (k == classes) {
                first[classes++] = oy;
            }
            rowClass[oy] = k;
        }
        divisor = new float[classes * ow];
        perB = new float[divisor.length];
        for (int k = 0; k < classes; k++) {
            for (int ox = 0; ox < ow; ox++) {
                double d = avg.divisor(first[k], ox);
                divisor[k * ow + ox] = (float) d;
                perB[k * ow + ox] = avg.boundPerB(first[k], ox, d, 3);
            }
        }
    }

    /** Where output row oy's entries start in {@link #divisor} and {@link #perB}. */
    int at(int oy) {
        return rowClass[oy] * ow;
    }
}
