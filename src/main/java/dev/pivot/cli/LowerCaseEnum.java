package dev.pivot.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** An enum constant by its lower-case name ("full" → FULL), or one line naming the value and the choices. */
abstract class LowerCaseEnum<E extends Enum<E>> implements ITypeConverter<E> {
    private final Class<E> type;
    private final String what;

    LowerCaseEnum(Class<E> type, String what) {
        this.type = type;
        this.what = what;
    }

    @Override
    public final E convert(String value) {
        for (E e : type.getEnumConstants()) {
            if (name(e).equals(value)) {
                return e;
            }
        }
        throw new TypeConversionException("'" + value + "' is not a " + what + ": "
                + Arrays.stream(type.getEnumConstants()).map(LowerCaseEnum::name).collect(Collectors.joining(", ")));
    }

    private static String name(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
