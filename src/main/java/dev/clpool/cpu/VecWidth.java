package dev.clpool.cpu;

import jdk.incubator.vector.FloatVector;

/** The preferred float vector of this JVM; loaded only where {@code jdk.incubator.vector} is present (see {@link VectorSupport}). */
final class VecWidth {
    private VecWidth() {
    }

    /** Bits in the widest float vector the CPU runs natively. */
    static int bits() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize();
    }

    /** Floats in that vector: the channels a channels-last Vec kernel needs at least. */
    static int floats() {
        return FloatVector.SPECIES_PREFERRED.length();
    }
}
