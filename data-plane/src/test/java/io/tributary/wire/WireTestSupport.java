package io.tributary.wire;

import io.tributary.dataplane.ContributionSlots;
import io.tributary.dataplane.ParameterAssembler;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32;
import org.agrona.DirectBuffer;

/** Shared bits of the data-plane tests: ports, driver settings, bounded waits, checksums, the node's sinks. */
final class WireTestSupport {

    private WireTestSupport() {
    }

    /** A UDP port on 127.0.0.1 that was free a moment ago. */
    static int freeUdpPort() throws SocketException, UnknownHostException {
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }

    /** Default settings, with driver directories in memory where the host has /dev/shm. */
    static DataPlane.Settings settings() {
        Path shm = Paths.get("/dev/shm");
        DataPlane.Settings defaults = DataPlane.Settings.defaults();
        return shm.toFile().isDirectory() && shm.toFile().canWrite() ? defaults.withBaseDirectory(shm) : defaults;
    }

    /** Sleeps in 1 ms steps until {@code condition} holds or {@code timeoutMs} passes; returns the condition. */
    static boolean awaitTrue(BooleanSupplier condition, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) {
                return condition.getAsBoolean();
            }
            Thread.sleep(1);
        }
        return true;
    }

    /** CRC32 of the raw IEEE-754 bits of {@code values[offset, offset + length)}. */
    static long crcOfBits(float[] values, int offset, int length) {
        CRC32 crc = new CRC32();
        for (int i = offset; i < offset + length; i++) {
            int bits = Float.floatToRawIntBits(values[i]);
            crc.update(bits);
            crc.update(bits >>> 8);
            crc.update(bits >>> 16);
            crc.update(bits >>> 24);
        }
        return crc.getValue();
    }

    /** A sink that hands gradient chunks to {@code slots} the way the node's receiver routes them (sender = trainer). */
    static FrameSink forwardTo(ContributionSlots slots) {
        return new FrameSink() {
            @Override
            public void onGradient(int sender, int shard, int tensor, long step, int elementOffset, DirectBuffer buffer,
                    int payloadOffset, int floatCount) {
                slots.onChunk(sender, step, elementOffset, buffer, payloadOffset, floatCount);
            }
        };
    }

    /** A sink that hands parameter chunks to {@code assembler} the way the node's receiver routes them. */
    static FrameSink forwardTo(ParameterAssembler assembler) {
        return new FrameSink() {
            @Override
            public void onGradient(int sender, int shard, int tensor, long step, int elementOffset, DirectBuffer buffer,
                    int payloadOffset, int floatCount) {
                throw new UnsupportedOperationException("parameter frames only");
            }

            @Override
            public void onParameters(int sender, int shard, int tensor, long version, int elementOffset,
                    DirectBuffer buffer, int payloadOffset, int floatCount) {
                assembler.onChunk(shard, version, elementOffset, buffer, payloadOffset, floatCount);
            }
        };
    }
}
