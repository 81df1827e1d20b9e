package dev.pivot.cli;

import dev.pivot.boot.MacAddress;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** A MAC given on the command line, checked before anything is sent: "MAC zz: ..." names what was typed. */
final class MacArgument implements ITypeConverter<MacAddress> {
    @Override
    public MacAddress convert(String value) {
        try {
            return MacAddress.parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException("MAC " + value + ": " + e.getMessage());
        }
    }
}
