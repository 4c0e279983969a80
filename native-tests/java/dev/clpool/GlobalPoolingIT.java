package dev.clpool;

import dev.clpool.testing.NaiveReference;
import dev.clpool.testing.RandomCases;
import dev.clpool.testing.Tolerance;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Global pooling on the device: accuracy on large planes near 1000, odd shapes, NaN/Inf, both accumulators. */
class GlobalPoolingIT {
    private static final DeviceEngines ENGINES = new DeviceEngines();

    @AfterAll
    static void close() {
        ENGINES.close();
    }

    static Stream<Arguments> shapes() {
        Stream<Shape> shapes = Stream.of(Shape.of(1, 224, 224, 8), Shape.of(1, 1, 1, 1), Shape.of(3, 7, 5, 5),
                Shape.of(2, 31, 17, 130), Shape.of(4, 7, 7, 64), Shape.of(2, 9, 11, 512));
        // 512 channels: on CPU devices a work item's 16 channel vectors (a 1 KB pixel), pixel runs
        // and the final pass; with double sums only (two programs, not four).
        return shapes.flatMap(s -> DeviceAvailability.bindings().stream()
                .flatMap(b -> Stream.of(Arguments.of(b, s, true), Arguments.of(b, s, false))))
                .filter(a -> ((Shape) a.get()[1]).c() != 512 || (Boolean) a.get()[2]);
    }

    @ParameterizedTest(name = "{0} {1} fp64={2}")
    @MethodSource("shapes")
    void global_matchesReference(BindingChoice binding, Shape s, boolean fp64) {
        PoolingEngine device = fp64 ? ENGINES.device(binding) : ENGINES.deviceWithoutDouble(binding);
        SplittableRandom r = new SplittableRandom(s.hashCode());
        float[] v = RandomCases.values(r, s, s.c() == 5 || s.c() == 512).toArray();
        if (s.h() == 224) {
            for (int i = 0; i < v.length; i++) {
                v[i] = 1000f + v[i] / 8; // a large plane of values near 1000: naive float sums drift here
            }
        }
        Tensor x = Tensor.of(s, v);
        Tolerance.assertClose(device.globalAvg(x).toArray(), NaiveReference.global(v, s, PoolMode.AVG), "global avg " + s);
        Tolerance.assertBitIdentical(device.globalMax(x).toArray(), ENGINES.cpu().globalMax(x).toArray(), "global max " + s);
    }
}
