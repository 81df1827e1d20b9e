package dev.pivot.boot;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class AddressBookTest {

    private static final MacAddress MAC = MacAddress.parse("52:54:00:12:34:56");

    @Test
    void anAddressThisServerNeverLeasedIsLookedUpElsewhereOnceAndRemembered() throws Exception {
        AddressBook book = new AddressBook();
        InetAddress other = InetAddress.getByName("10.0.0.7");
        AtomicInteger asked = new AtomicInteger();
        book.elsewhere(a -> {
            asked.incrementAndGet();
            return a.equals(other) ? Optional.of(MAC) : Optional.empty();
        });
        assertThat(book.macOf(other)).contains(MAC);
        assertThat(book.macOf(other)).contains(MAC);
        assertThat(asked).as("learnt after the first lookup").hasValue(1);
        InetAddress stranger = InetAddress.getByName("10.0.0.99");
        for (int i = 0; i < 100; i++) {
            assertThat(book.macOf(stranger)).isEmpty();
        }
        assertThat(asked).as("a miss is remembered for a while: a flood asks once").hasValue(2);
    }

    @Test
    void whatDhcpTaughtWinsWithoutALookup() throws Exception {
        AddressBook book = new AddressBook();
        book.elsewhere(a -> {
            throw new AssertionError("not asked");
        });
        book.learn(InetAddress.getByName("10.0.0.8"), MAC);
        assertThat(book.macOf(InetAddress.getByName("10.0.0.8"))).contains(MAC);
    }
}
