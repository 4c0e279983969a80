package dev.clpool.testing;

import dev.clpool.IndexConvention;
import dev.clpool.Layout;
import dev.clpool.TensorShape;

/**
 * Max unpooling written from SEMANTICS.md by coordinates, independently of
 * {@link dev.clpool.UnpoolGeometry}: each index becomes output coordinates (n, c, spatial...) by
 * its convention's formula, those become a storage offset by the output's layout, and the values
 * are written in channels-last order (n, spatial, c), so the last of several naming one element
 * stays. Works on raw element bits (int per element, whatever the storage type).
 */
public final class NaiveUnpool {
    private NaiveUnpool() {
    }

    /** The output's bits; throws {@link IllegalArgumentException} naming the first bad value position. */
    public static int[] unpool(TensorShape vs, TensorShape os, IndexConvention conv, int[] values, long[] indices) {
        int[] out = new int[Math.toIntExact(os.elementCount())];
        int rank = vs.rank();
        int[] at = new int[rank];
        long position = 0;
        for (int n = 0; n < vs.n(); n++) {
            for (long q = 0; q < vs.spatialSize(); q++) {
                for (int c = 0; c < vs.c(); c++, position++) {
                    long s = offset(vs, n, c, q);
                    int[] t = coordinates(os, conv, n, c, indices[(int) s]);
                    if (t == null) {
                        throw new IllegalArgumentException("bad index at channels-last position " + position);
                    }
                    long tq = 0;
                    for (int a = 0; a < rank; a++) {
                        tq = tq * os.spatial(a) + t[2 + a];
                    }
                    out[(int) offset(os, t[0], t[1], tq)] = values[(int) s];
                }
            }
        }
        return out;
    }

    /** Storage offset of (n, c, row-major spatial position q) in shape {@code s}. */
    public static long offset(TensorShape s, int n, int c, long q) {
        return s.layout() == Layout.CHANNELS_LAST ? ((long) n * s.spatialSize() + q) * s.c() + c
                : ((long) n * s.c() + c) * s.spatialSize() + q;
    }

    /** {n, c, spatial...} that {@code index} names in {@code os}, or null outside what the convention allows. */
    public static int[] coordinates(TensorShape os, IndexConvention conv, int n, int c, long index) {
        int rank = os.rank();
        int[] t = new int[2 + rank];
        long rest = index;
        switch (conv) {
            case NHWC -> {
                // ((z*H + y)*W + x)*C + c' within item n
                t[0] = n;
                t[1] = (int) Math.floorMod(rest, (long) os.c());
                rest = Math.floorDiv(rest, (long) os.c());
                for (int a = rank - 1; a >= 0; a--) {
                    t[2 + a] = (int) Math.floorMod(rest, (long) os.spatial(a));
                    rest = Math.floorDiv(rest, (long) os.spatial(a));
                }
            }
            case PYTORCH -> {
                t[0] = n;
                t[1] = c;
                for (int a = rank - 1; a >= 0; a--) {
                    t[2 + a] = (int) Math.floorMod(rest, (long) os.spatial(a));
                    rest = Math.floorDiv(rest, (long) os.spatial(a));
                }
            }
            case ONNX, ONNX_COLUMN_MAJOR -> {
                // onnx: ((n*C + c)*H + y)*W + x, the last spatial axis fastest; column-major:
                // ((n*C + c)*W + x)*H + y in 2-D, the first spatial axis fastest.
                boolean columnMajor = conv == IndexConvention.ONNX_COLUMN_MAJOR;
                for (int j = 0; j < rank; j++) {
                    int a = columnMajor ? j : rank - 1 - j;
                    t[2 + a] = (int) Math.floorMod(rest, (long) os.spatial(a));
                    rest = Math.floorDiv(rest, (long) os.spatial(a));
                }
                t[1] = (int) Math.floorMod(rest, (long) os.c());
                rest = Math.floorDiv(rest, (long) os.c());
                t[0] = (int) rest;
                rest = t[0] < os.n() && t[0] >= 0 ? 0 : 1;
            }
            default -> throw new IllegalStateException(String.valueOf(conv));
        }
        return index < 0 || rest != 0 ? null : t;
    }

    /**
     * The index of output element (n, c, spatial q) in {@code conv}: the inverse of
     * {@link #coordinates}, for building valid indices.
     */
    public static long index(TensorShape os, IndexConvention conv, int n, int c, long q) {
        int rank = os.rank();
        int[] pos = new int[rank];
        long r = q;
        for (int a = rank - 1; a >= 0; a--) {
            pos[a] = (int) (r % os.spatial(a));
            r /= os.spatial(a);
        }
        return switch (conv) {
            case NHWC -> q * os.c() + c;
            case PYTORCH -> q;
            case ONNX -> ((long) n * os.c() + c) * os.spatialSize() + q;
            case ONNX_COLUMN_MAJOR -> {
                long v = (long) n * os.c() + c;
                for (int a = rank - 1; a >= 0; a--) {
                    v = v * os.spatial(a) + pos[a];
                }
                yield v;
            }
        };
    }
}
