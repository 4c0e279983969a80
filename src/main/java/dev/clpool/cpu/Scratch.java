package dev.clpool.cpu;

/**
 * Per-thread scratch arrays of the CPU path, grown on demand and kept, so an operation allocates
 * nothing per row or element (and, after the first operation of a size, nothing at all).
 */
final class Scratch {
    private static final ThreadLocal<Scratch> CURRENT = ThreadLocal.withInitial(Scratch::new);

    private final float[][] floats = new float[21][0];
    private final float[][][] rings = new float[10][0][];
    private final int[][][] ints = new int[5][0][];
    private long[] longs = new long[0];
    private double[] doubles = new double[0];
    private final int[] block = new int[256];
    private final double[][] doubleSlots = new double[3][0];

    private Scratch() {
    }

    static Scratch get() {
        return CURRENT.get();
    }

    /** Float array number {@code slot} (0..20), at least {@code n} long; contents undefined. */
    float[] floats(int slot, int n) {
        if (floats[slot].length < n) {
            floats[slot] = new float[n];
        }
        return floats[slot];
    }

    /**
     * Ring number {@code which} (0..9): at least {@code count} separate float arrays of at least
     * {@code n} each; contents undefined.
     */
    float[][] ring(int which, int count, int n) {
        float[][] r = rings[which];
        if (r.length < count || r[0].length < n) {
            rings[which] = r = new float[count][n];
        }
        return r;
    }

    /**
     * Int arrays number {@code which} (0..4): at least {@code count} separate int arrays of at
     * least {@code n} each; contents undefined.
     */
    int[][] ints(int which, int count, int n) {
        int[][] r = ints[which];
        if (r.length < count || r[0].length < n) {
            ints[which] = r = new int[count][n];
        }
        return r;
    }

    /** 256 ints: {@link VecAdaptive#transpose}'s block between its two halves; contents undefined. */
    int[] block() {
        return block;
    }

    /** A double array at least {@code n} long; contents undefined. */
    double[] doubles(int n) {
        if (doubles.length < n) {
            doubles = new double[n];
        }
        return doubles;
    }

    /**
     * Double array number {@code slot} (0..2), apart from {@link #doubles(int)}: at least {@code n}
     * long; contents undefined. Separate arrays where a loop reads one and writes another, so that C2
     * can prove they do not overlap and vectorise it (it does not for two ranges of one array).
     */
    double[] doubles(int slot, int n) {
        if (doubleSlots[slot].length < n) {
            doubleSlots[slot] = new double[n];
        }
        return doubleSlots[slot];
    }

    /** A long array exactly {@code n} long; contents undefined. */
    long[] longs(int n) {
        if (longs.length != n) {
            longs = new long[n];
        }
        return longs;
    }
}
