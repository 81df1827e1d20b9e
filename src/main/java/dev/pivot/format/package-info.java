/**
 * File-format codecs and byte IO: compression detection and framing (exact gzip member and zstd frame ends),
 * positional file slices, and the bulk-read stream base, with {@code cpio} and {@code squashfs} below. Imports
 * nothing of Pivot, so the formats can be fuzzed and tested on their own.
 */
package dev.pivot.format;
