/**
 * Boot history: sessions cut from the event stream in bounded memory, the asynchronous batching recorder that keeps
 * the store off the protocol threads, and the store port ({@link dev.pivot.history.EventLog}). Imports only
 * {@link dev.pivot.boot}.
 */
package dev.pivot.history;
