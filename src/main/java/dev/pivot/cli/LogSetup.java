package dev.pivot.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import dev.pivot.server.LogFormat;
import org.slf4j.LoggerFactory;

/**
 * The log on stderr in serve's {@code --log-format}: logback.xml's pattern with the time on a terminal, without it
 * under systemd (the journal stamps each line), or logback's JSON lines.
 */
final class LogSetup {

    static final String APPENDER = "STDERR";
    static final String JOURNAL_PATTERN = "%-5level %logger{0}: %msg%n";

    private LogSetup() {
    }

    static void apply(LogFormat format) {
        if (format == LogFormat.TEXT || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        Appender<ILoggingEvent> appender = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender(APPENDER);
        if (!(appender instanceof ConsoleAppender<ILoggingEvent> console)) {
            return;
        }
        Encoder<ILoggingEvent> encoder;
        if (format == LogFormat.JSON) {
            JsonEncoder json = new JsonEncoder();
            json.setWithSequenceNumber(false);
            json.setWithNanoseconds(false);
            json.setWithContext(false);
            json.setWithMDC(false);
            json.setWithArguments(false);
            json.setWithMessage(false);
            json.setWithFormattedMessage(true);
            encoder = json;
        } else {
            PatternLayoutEncoder pattern = new PatternLayoutEncoder();
            pattern.setPattern(JOURNAL_PATTERN);
            encoder = pattern;
        }
        encoder.setContext(context);
        encoder.start();
        console.stop();
        console.setEncoder(encoder);
        console.start();
    }
}
