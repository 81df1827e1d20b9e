package dev.pivot.http;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.List;
import java.util.Locale;

/** HTTP-date parsing (RFC 9110 §5.6.7): recipients must accept IMF-fixdate and the two obsolete forms. */
final class HttpDates {

    private static final List<DateTimeFormatter> FORMATS = List.of(
            // Sun, 06 Nov 1994 08:49:37 GMT
            DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss 'GMT'", Locale.US),
            // Sunday, 06-Nov-94 08:49:37 GMT
            new DateTimeFormatterBuilder().appendPattern("EEEE, dd-MMM-")
                    .appendValueReduced(ChronoField.YEAR, 2, 2, 1970)
                    .appendPattern(" HH:mm:ss 'GMT'").toFormatter(Locale.US),
            // Sun Nov  6 08:49:37 1994
            DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US));

    private HttpDates() {
    }

    /** Seconds since the epoch, or -1 when the text is no HTTP-date (the condition using it is then ignored). */
    static long seconds(String text) {
        String value = text.strip();
        for (DateTimeFormatter format : FORMATS) {
            try {
                return LocalDateTime.parse(value, format).toEpochSecond(ZoneOffset.UTC);
            } catch (DateTimeParseException notThisForm) {
                // try the next form
            }
        }
        return -1;
    }
}
