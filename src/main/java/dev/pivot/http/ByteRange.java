package dev.pivot.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a Range header (RFC 9110 §14) asks of a representation of a known size.
 *
 * <p>Multiple ranges: when more than one of them is satisfiable Pivot answers the whole representation with 200,
 * which RFC 9110 allows ("a server MAY ignore the Range header field"). Boot clients (iPXE, busybox wget, curl
 * resuming) only ever ask for one range, and a 200 is always correct, while multipart/byteranges would only add
 * code nobody uses. A multi-range request with exactly one satisfiable range gets that range as a single 206.
 */
public sealed interface ByteRange {

    /** Send everything with 200: no Range, a unit other than bytes, bad syntax, or several ranges. */
    record Whole() implements ByteRange {
    }

    /** Send bytes first..last (inclusive) with 206. */
    record Part(long first, long last) implements ByteRange {
        public long length() {
            return last - first + 1;
        }

        public String contentRange(long size) {
            return "bytes " + first + "-" + last + "/" + size;
        }
    }

    /** None of the ranges overlaps the representation: 416 with Content-Range: bytes * /size. */
    record Unsatisfiable() implements ByteRange {
    }

    static ByteRange parse(String header, long size) {
        if (header == null) {
            return new Whole();
        }
        String value = header.strip();
        int eq = value.indexOf('=');
        if (eq < 0 || !value.substring(0, eq).strip().toLowerCase(Locale.ROOT).equals("bytes")) {
            return new Whole();
        }
        List<Part> satisfiable = new ArrayList<>();
        boolean any = false;
        for (String spec : value.substring(eq + 1).split(",", -1)) {
            String s = spec.strip();
            if (s.isEmpty()) {
                continue; // RFC 9110 list syntax allows empty elements
            }
            any = true;
            int dash = s.indexOf('-');
            if (dash < 0) {
                return new Whole();
            }
            String a = s.substring(0, dash).strip();
            String b = s.substring(dash + 1).strip();
            try {
                if (a.isEmpty()) {
                    long suffix = digits(b);
                    if (suffix > 0 && size > 0) {
                        satisfiable.add(new Part(Math.max(0, size - suffix), size - 1));
                    } else if (suffix > 0) {
                        return new Whole(); // zero-length representation: nothing to slice, send it all
                    }
                } else {
                    long first = digits(a);
                    long last = b.isEmpty() ? Long.MAX_VALUE : digits(b);
                    if (last < first) {
                        return new Whole(); // invalid range-spec: the header is ignored
                    }
                    if (first < size) {
                        satisfiable.add(new Part(first, Math.min(last, size - 1)));
                    }
                }
            } catch (NumberFormatException e) {
                return new Whole();
            }
        }
        if (!any) {
            return new Whole();
        }
        return switch (satisfiable.size()) {
            case 0 -> new Unsatisfiable();
            case 1 -> satisfiable.getFirst();
            default -> new Whole();
        };
    }

    private static long digits(String s) {
        if (s.isEmpty() || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new NumberFormatException(s);
        }
        return Long.parseLong(s); // overflow throws NumberFormatException too
    }
}
