package dev.pivot.nbd;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** What the NBD server offers: content-addressed root images, each an export named by its sha256. */
public interface NbdExports {

    /** One read-only export: the file holding exactly its bytes, never modified while served. */
    record Export(String name, Path file, long size) {
    }

    /** The export called {@code name}; the empty name is the default export (the image `pivot serve` serves). */
    Optional<Export> find(String name);

    /** Every export's name, for NBD_OPT_LIST. */
    List<String> names();
}
