package dev.clpool.bench;

/**
 * One measured figure: {@code ms} is the median time of one operation over {@code reps} timed
 * repetitions (warm-up excluded), each running {@code opsPerRep} operations back to back;
 * {@code copyGbps} is a plain copy of the same number of bytes on the same side, measured in the
 * same run ({@link Benchmark}).
 *
 * @param backend   {@code cpu} or {@code opencl}
 * @param binding   {@code jocl} or {@code lwjgl}; null on the CPU
 * @param device    the device or thread count, for people
 * @param placement {@link #DEVICE_RESIDENT} or {@link #END_TO_END}
 * @param note      a remark (fewer repetitions in a quick run), or null
 */
public record Measurement(BenchCase benchCase, String backend, String binding, String device, String placement,
                          double ms, int reps, int opsPerRep, double copyGbps, String note) {

    /** Input on the device, output left there: the kernels alone (and their launches). */
    public static final String DEVICE_RESIDENT = "device-resident";
    /** From a host tensor to a host tensor, transfers or zero-copy mapping included. */
    public static final String END_TO_END = "end-to-end";

    /** Input plus output bytes per second, 10^9. */
    public double gbps() {
        return benchCase.bytes() / (ms * 1e6);
    }

    /** {@link #gbps()} over the copy reference's GB/s. */
    public double copyRatio() {
        return gbps() / copyGbps;
    }
}
