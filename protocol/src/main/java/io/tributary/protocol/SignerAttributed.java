package io.tributary.protocol;

/**
 * A message that speaks for one trainer: the receiver checks that the trainer it names is the one
 * that signed it. {@link #signer()} is the data-plane endpoint of the trainer node that signed it,
 * set by {@link ControlSignatures} when the message arrives; it is empty when the message came from
 * this node, from a ps or coordinator node (which relay and are trusted with it), or from a cluster
 * that runs without TLS (where nothing is signed).
 */
public interface SignerAttributed {

    /** The signing trainer node's data-plane endpoint, or empty (see the class comment). */
    String signer();

    /** This message with {@code signer} as its signer. */
    WireMessage withSigner(String signer);
}
