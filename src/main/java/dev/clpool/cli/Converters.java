package dev.clpool.cli;

import dev.clpool.BackendChoice;
import dev.clpool.BindingChoice;
import dev.clpool.InvalidSpecException;
import dev.clpool.Layout;
import dev.clpool.PoolMode;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Lower-case words on the command line for the API's enums. */
final class Converters {
    private Converters() {
    }

    static <E extends Enum<E>> E word(Class<E> type, String value) {
        for (E e : type.getEnumConstants()) {
            if (e.name().toLowerCase(Locale.ROOT).equals(value)) {
                return e;
            }
        }
        throw new TypeConversionException("'" + value + "' is not one of " + Arrays.stream(type.getEnumConstants())
                .map(e -> e.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", ")));
    }

    static final class Backend implements ITypeConverter<BackendChoice> {
        @Override
        public BackendChoice convert(String value) {
            return word(BackendChoice.class, value);
        }
    }

    static final class Binding implements ITypeConverter<BindingChoice> {
        @Override
        public BindingChoice convert(String value) {
            return word(BindingChoice.class, value);
        }
    }

    static final class Mode implements ITypeConverter<PoolMode> {
        @Override
        public PoolMode convert(String value) {
            return word(PoolMode.class, value);
        }
    }

    static final class LayoutWord implements ITypeConverter<Layout> {
        @Override
        public Layout convert(String value) {
            try {
                return Layout.parse(value);
            } catch (InvalidSpecException e) {
                throw new TypeConversionException("'" + value + "' is not one of channels-last, channels-first");
            }
        }
    }
}
