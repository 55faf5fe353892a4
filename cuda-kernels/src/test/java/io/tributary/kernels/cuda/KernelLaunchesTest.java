package io.tributary.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The launch geometry of the CUDA kernels, which needs no GPU: hand-computed block and grid sizes. */
class KernelLaunchesTest {

    @Test
    void elementwiseGridCoversEveryElementUpToTheCap() {
        assertEquals(1, KernelLaunches.grid(1, 4));
        assertEquals(1, KernelLaunches.grid(256, 4));
        assertEquals(2, KernelLaunches.grid(257, 4));
        assertEquals(4, KernelLaunches.grid(10_000, 4), "capped: the kernels stride over the rest");
        // the reduction's partial sums: 1024 blocks at most, however long the tensor
        assertEquals(1024, KernelLaunches.grid(Integer.MAX_VALUE, KernelLaunches.MAX_PARTIALS));
        assertEquals(8_388_608, KernelLaunches.grid(Integer.MAX_VALUE, Integer.MAX_VALUE), "no int overflow");
    }

    @Test
    void rowBlockIsThePowerOfTwoThatCoversARowFrom32To256() {
        assertEquals(32, KernelLaunches.rowBlock(1));
        assertEquals(32, KernelLaunches.rowBlock(32));
        assertEquals(64, KernelLaunches.rowBlock(33));
        assertEquals(128, KernelLaunches.rowBlock(100));
        assertEquals(256, KernelLaunches.rowBlock(256));
        assertEquals(256, KernelLaunches.rowBlock(10_000));
    }

    @Test
    void rowGridIsOneBlockPerRowUpToTheGridLimit() {
        assertEquals(1, KernelLaunches.rowGrid(1));
        assertEquals(65_535, KernelLaunches.rowGrid(65_535));
        assertEquals(65_535, KernelLaunches.rowGrid(1_000_000));
    }
}
