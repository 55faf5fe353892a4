package io.tributary.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class FrameHeaderTest {

    @Test
    void headerFieldsRoundTripAtAnOffsetInLittleEndian() {
        UnsafeBuffer buffer = new UnsafeBuffer(new byte[256]);
        int offset = 24;
        new FrameHeader().wrap(buffer, offset)
                .writeHeader(FrameType.PARAMETERS, 0x0102_0304_0506_0708L, 7, 3, 11, 16368, 1L << 40)
                .payloadLength(128);

        FrameHeader read = new FrameHeader().wrap((DirectBuffer) buffer, offset);
        assertEquals(FrameHeader.MAGIC, read.magic());
        assertEquals(FrameHeader.VERSION, read.version());
        assertEquals(FrameType.PARAMETERS.code(), read.typeCode());
        assertEquals(FrameHeader.ENCODING_FLOAT32, read.encoding());
        assertEquals(0x0102_0304_0506_0708L, read.runId());
        assertEquals(7, read.sender());
        assertEquals(3, read.shard());
        assertEquals(11, read.tensor());
        assertEquals(16368, read.elementOffset());
        assertEquals(1L << 40, read.step());
        assertEquals(128, read.payloadLength());
        assertEquals(0, read.flags());
        assertEquals(offset + FrameHeader.HEADER_LENGTH, read.payloadOffset());
        byte[] mac = new byte[FrameHeader.MAC_LENGTH];
        read.getMac(mac, 0);
        assertArrayEquals(new byte[FrameHeader.MAC_LENGTH], mac);

        // The layout is little-endian and the magic spells "TRBF" on the wire.
        assertEquals('T', buffer.getByte(offset));
        assertEquals('R', buffer.getByte(offset + 1));
        assertEquals('B', buffer.getByte(offset + 2));
        assertEquals('F', buffer.getByte(offset + 3));
        assertEquals(7, buffer.getInt(offset + FrameHeader.SENDER_OFFSET, ByteOrder.LITTLE_ENDIAN));
    }

    @Test
    void macBytesRoundTrip() {
        UnsafeBuffer buffer = new UnsafeBuffer(new byte[FrameHeader.HEADER_LENGTH]);
        byte[] mac = new byte[FrameHeader.MAC_LENGTH];
        for (int i = 0; i < mac.length; i++) {
            mac[i] = (byte) (i * 17 + 1);
        }
        FrameHeader header = new FrameHeader().wrap(buffer, 0);
        header.writeHeader(FrameType.GRADIENT, 1, 2, 3, 4, 5, 6).putMac(mac, 0);
        byte[] read = new byte[FrameHeader.MAC_LENGTH];
        header.getMac(read, 0);
        assertArrayEquals(mac, read);
        assertEquals(2, header.sender());
    }
}
