/**
 * The operator's side of the HTTP server: the REST API, the server-sent event stream, the page and the metrics,
 * plugged in as {@link dev.pivot.http.ExtraRoutes}. Imports {@link dev.pivot.boot}, {@link dev.pivot.history} and
 * {@link dev.pivot.http} (the route hook and its reply helpers); the HTTP side never imports it.
 */
package dev.pivot.api;
