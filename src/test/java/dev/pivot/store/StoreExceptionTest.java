package dev.pivot.store;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StoreExceptionTest {

    @Test
    void aPasswordInTheUrlOrTheDriversMessageIsNeverShown() {
        assertThat(new StoreException("cannot open jdbc:postgresql://db/p?user=a&password=s3cret&ssl=true: refused",
                null)).hasMessage("cannot open jdbc:postgresql://db/p?user=a&password=…&ssl=true: refused");
        assertThatThrownBy(() -> JdbcStore.open("jdbc:mysql://db/p?password=s3cret", null, null))
                .hasMessageNotContaining("s3cret").hasMessageContaining("expected a jdbc:postgresql:");
    }
}
