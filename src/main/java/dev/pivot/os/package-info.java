/**
 * What the operating system offers that Java does not: the descriptor numbers behind the JDK's channels and files,
 * for the protocol adapters' own system calls. Imports nothing of Pivot, so adapters that never import each other
 * can share it.
 */
package dev.pivot.os;
