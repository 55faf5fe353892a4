package io.tributary.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DataSettingsTest {

    private static DataSettings of(String hocon) {
        return DataSettings.from(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.load()));
    }

    @Test
    void theDefaultsAreAllOfMnistFromTheDefaultFolder() {
        DataSettings d = of("");
        assertEquals(DataSettings.Set.MNIST, d.set());
        assertNull(d.dir());
        assertEquals(MnistIdx.defaultDirectory(), d.mnistDirectory());
        assertEquals(60_000, DataSets.trainCount(d));
    }

    @Test
    void limitsCutTheTrainingSetButNeverAboveItsSize() {
        assertEquals(1000, DataSets.trainCount(of("tributary.data.train-limit = 1000")));
        assertEquals(DataSets.SYNTHETIC_TRAIN, DataSets.trainCount(of("tributary.data { set = synthetic, train-limit = "
                + "999999 }")));
        assertEquals(Path.of("/data/mnist"), of("tributary.data.dir = \"/data/mnist\"").mnistDirectory());
    }

    @Test
    void aWrongSetOrANegativeLimitNamesTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> of("tributary.data.set = cifar"));
        assertTrue(e.getMessage().contains("tributary.data.set = 'cifar'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> of("tributary.data.test-limit = -1"));
        assertTrue(e.getMessage().contains("tributary.data.test-limit"), e.getMessage());
    }

    @Test
    void theSyntheticSetIsCutIntoDisjointTrainAndTestParts() {
        DataSettings d = of("tributary.data { set = synthetic, test-limit = 10 }");
        Dataset train = DataSets.load(d, true, 4, 3);
        Dataset test = DataSets.load(d, false, 4, 3);
        assertEquals(DataSets.SYNTHETIC_TRAIN, train.count());
        assertEquals(10, test.count());
    }
}
