package io.tributary.dataplane;

/**
 * Faults injected into a node's data plane, for the chaos tool: may frames flow now, and how long
 * must a send wait under a bandwidth cap. Production runs with {@link #NONE}; a node started for
 * chaos testing plugs in an implementation that its chaos control drives.
 */
public interface FaultHooks {

    /** No faults: every frame flows and no send waits. */
    FaultHooks NONE = new FaultHooks() {
        @Override
        public boolean isCutOff() {
            return false;
        }

        @Override
        public void pace(long bytes) {
        }

        @Override
        public String toString() {
            return "no faults";
        }
    };

    /**
     * True while the node's network is cut: every frame it would send or receive is dropped (the
     * Aeron connections stay up, so frames flow again at once when the cut ends). Called per frame
     * received and per send, from the receiver thread and the senders' threads.
     */
    boolean isCutOff();

    /**
     * True while frames to data-plane endpoint {@code target} are dropped: the whole network is cut
     * ({@link #isCutOff()}) or a partition puts {@code target} on the other side. Called per send.
     */
    default boolean isCutOff(String target) {
        return isCutOff();
    }

    /** Called after a send of {@code bytes} of payload: waits as long as a bandwidth cap requires. */
    void pace(long bytes);
}
