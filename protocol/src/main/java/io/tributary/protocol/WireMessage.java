package io.tributary.protocol;

/**
 * Marks a message that may cross the network. Pekko binds this interface to {@link KryoSerializer}
 * (see reference.conf), so every implementation must be listed in {@link ProtocolRegistry}.
 */
public interface WireMessage {
}
