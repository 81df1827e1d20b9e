/** Socket options Java does not name (SO_BINDTODEVICE, TCP_NOTSENT_LOWAT), through FFM. Imports nothing of Pivot. */
package dev.pivot.net;
