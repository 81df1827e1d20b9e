package dev.pivot.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * One JDBC connection used under a lock, opened when first needed and opened anew after it failed: after "disk
 * full" SQLite's connection can stay in a state where every later commit fails, and a PostgreSQL connection does
 * not survive the server's restart. Each use is one transaction.
 */
final class Connections implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Connections.class);

    @FunctionalInterface
    interface Opener {
        Connection open() throws SQLException;
    }

    @FunctionalInterface
    interface Work<T> {
        T run(Connection db) throws SQLException;
    }

    private final String where;
    private final Opener opener;
    private Connection connection;
    private boolean reopen;

    /**
     * PostgreSQL with bounds on waiting: a database that stops answering (not refusing: a cable pulled, packets
     * dropped) would otherwise hold the caller forever on a socket read. Settings in the URL win over these.
     */
    static Opener postgres(String url, String user, String password) {
        return () -> {
            java.util.Properties p = new java.util.Properties();
            if (user != null) {
                p.setProperty("user", user);
            }
            if (password != null) {
                p.setProperty("password", password);
            }
            p.setProperty("connectTimeout", "5");
            p.setProperty("socketTimeout", "10");
            Connection c = java.sql.DriverManager.getConnection(url, p);
            c.setAutoCommit(false);
            return c;
        };
    }

    Connections(String where, Opener opener) {
        this.where = where;
        this.opener = opener;
    }

    /** Runs {@code work} as one transaction: commits it, or rolls it back and fails with {@code failure} and why. */
    synchronized <T> T run(String failure, Work<T> work) {
        Connection db;
        try {
            db = connection();
        } catch (SQLException e) {
            throw new StoreException(failure + " in " + where + ": " + e.getMessage(), e);
        }
        try {
            T result = work.run(db);
            db.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(db);
            if (e instanceof RuntimeException r && !(e.getCause() instanceof SQLException)) {
                throw r;
            }
            // Whatever state the failure left the connection in, the next use starts from a fresh one.
            drop();
            throw new StoreException(failure + " in " + where + ": " + e.getMessage(), e);
        }
    }

    private Connection connection() throws SQLException {
        if (connection == null || reopen) {
            drop();
            connection = opener.open();
            reopen = false;
            log.debug("connected to {}", where);
        }
        return connection;
    }

    private void drop() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                log.debug("closing a failed connection to {}: {}", where, e.getMessage());
            }
            connection = null;
        }
        reopen = true;
    }

    private static void rollbackQuietly(Connection db) {
        try {
            db.rollback();
        } catch (SQLException ignored) {
            // the original failure is what the caller needs to see
        }
    }

    @Override
    public synchronized void close() {
        drop();
    }
}
