package dev.clpool.cpu;

/**
 * Per-thread scratch arrays of the CPU path, grown on demand and kept, so an operation allocates
 * nothing per row or element (and, after the first operation of a size, nothing at all).
 */
final class Scratch {
    private static final ThreadLocal<Scratch> CURRENT = ThreadLocal.withInitial(Scratch::new);

    private final float[][] floats = new float[4][0];
    private final double[][] doubles = new double[4][0];
    private float[][] floatRing = new float[0][];
    private double[][] doubleRing = new double[0][];
    private long[] longs = new long[0];

    private Scratch() {
    }

    static Scratch get() {
        return CURRENT.get();
    }

    /** Float array number {@code slot} (0..3), at least {@code n} long; contents undefined. */
    float[] floats(int slot, int n) {
        if (floats[slot].length < n) {
            floats[slot] = new float[n];
        }
        return floats[slot];
    }

    /** Double array number {@code slot} (0..3), at least {@code n} long; contents undefined. */
    double[] doubles(int slot, int n) {
        if (doubles[slot].length < n) {
            doubles[slot] = new double[n];
        }
        return doubles[slot];
    }

    /** At least {@code count} separate float arrays of at least {@code n} each; contents undefined. */
    float[][] floatRing(int count, int n) {
        if (floatRing.length < count || floatRing[0].length < n) {
            floatRing = new float[count][n];
        }
        return floatRing;
    }

    /** At least {@code count} separate double arrays of at least {@code n} each; contents undefined. */
    double[][] doubleRing(int count, int n) {
        if (doubleRing.length < count || doubleRing[0].length < n) {
            doubleRing = new double[count][n];
        }
        return doubleRing;
    }

    /** A long array exactly {@code n} long; contents undefined. */
    long[] longs(int n) {
        if (longs.length != n) {
            longs = new long[n];
        }
        return longs;
    }
}
